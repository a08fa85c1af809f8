using System.CommandLine;
using System.Reflection;

namespace Berth.Commands;

internal static class VersionCommand
{
    public static string Version =>
        typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public static Command Create()
    {
        var command = new Command("version", "Print Berth's version.");
        command.SetAction(_ =>
        {
            Console.WriteLine($"berth {Version}");
            return 0;
        });
        return command;
    }
}
