namespace Berth.EndToEnd.Tests.Infrastructure;

/// <summary>The real tools the end-to-end tests drive. A missing tool fails the test (never skips it).</summary>
public static class ExternalTools
{
    public const string InstallHint = "install them with: apt-get install skopeo docker-registry";

    public static string Skopeo => Require("skopeo");

    public static string DockerRegistry => Require("docker-registry");

    public static string Require(string name) =>
        Find(name) ?? throw new InvalidOperationException(
            $"'{name}' is not installed (searched PATH and /usr/bin); the end-to-end tests need skopeo and docker-registry: {InstallHint}");

    public static string? Find(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries).Append("/usr/bin").Append("/usr/local/bin"))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }
}
