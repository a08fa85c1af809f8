namespace Berth.Logs.Tests.Infrastructure;

/// <summary>Finds the real servers the tests run. A missing one fails the test (never skips it).</summary>
internal static class Tools
{
    public const string InstallHint = "apt-get install haproxy docker-registry";

    public static string Require(string name, string installHint = InstallHint)
    {
        var dirs = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin", "/usr/local/sbin"]);
        foreach (var dir in dirs)
        {
            var path = Path.Combine(dir, name);
            if (File.Exists(path))
            {
                return path;
            }
        }

        Assert.Fail($"{name} is not installed; the log and check tests run the real servers: {installHint}");
        return null!;
    }
}
