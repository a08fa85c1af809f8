using System.Reflection;

namespace Berth.EndToEnd.Tests.Infrastructure;

/// <summary>Finds the built berth.dll: walk up from the test assembly to Berth.slnx, then
/// src/Berth/bin/&lt;Configuration of this test assembly&gt;/net10.0/berth.dll (BERTH_E2E_DLL overrides).</summary>
public static class BerthBinary
{
    private static readonly Lazy<string> DllPath = new(Locate);

    public static string Dll => DllPath.Value;

    public static string Configuration =>
        typeof(BerthBinary).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

    /// <summary>The dotnet host that runs berth.dll: the one running these tests when it is dotnet.</summary>
    public static string DotnetHost
    {
        get
        {
            var current = Environment.ProcessPath;
            if (current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet")
            {
                return current;
            }
            var fromEnv = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
            return !string.IsNullOrEmpty(fromEnv) && File.Exists(fromEnv) ? fromEnv : "dotnet";
        }
    }

    private static string Locate()
    {
        var overridden = Environment.GetEnvironmentVariable("BERTH_E2E_DLL");
        if (!string.IsNullOrEmpty(overridden))
        {
            return File.Exists(overridden) ? overridden : throw new FileNotFoundException($"BERTH_E2E_DLL points at {overridden}, which does not exist");
        }
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Berth.slnx")))
        {
            dir = dir.Parent;
        }
        if (dir is null)
        {
            throw new DirectoryNotFoundException($"no Berth.slnx above {AppContext.BaseDirectory}; set BERTH_E2E_DLL to the berth.dll to test");
        }
        var dll = Path.Combine(dir.FullName, "src", "Berth", "bin", Configuration, "net10.0", "berth.dll");
        return File.Exists(dll)
            ? dll
            : throw new FileNotFoundException($"{dll} does not exist; build it first: dotnet build {Path.Combine(dir.FullName, "src", "Berth")} -c {Configuration}");
    }
}
