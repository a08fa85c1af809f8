using System.Diagnostics;

namespace Berth.ScaleOut.Tests;

/// <summary>Runs skopeo (Debian package skopeo) against a plain-HTTP registry on 127.0.0.1.</summary>
public static class Skopeo
{
    public sealed record Result(int ExitCode, string Output, TimeSpan Elapsed)
    {
        public bool Succeeded => ExitCode == 0;
    }

    /// <summary>skopeo copy from an OCI layout to the registry.</summary>
    public static Task<Result> PushAsync(OciLayout layout, string registry, string repository) =>
        RunAsync("copy", "--insecure-policy", "--retry-times", "2", "--dest-tls-verify=false",
            layout.Reference, $"docker://{registry}/{repository}:{layout.Tag}");

    /// <summary>skopeo copy from the registry into an OCI layout (skopeo checks every blob's digest).</summary>
    public static Task<Result> PullAsync(string registry, string repository, string tag, string directory) =>
        RunAsync("copy", "--insecure-policy", "--retry-times", "2", "--src-tls-verify=false",
            $"docker://{registry}/{repository}:{tag}", $"oci:{directory}:{tag}");

    public static async Task<Result> RunAsync(params string[] arguments)
    {
        if (!File.Exists("/usr/bin/skopeo"))
        {
            throw new InvalidOperationException("skopeo is not installed: apt-get install --no-install-recommends skopeo (scripts/test.sh installs it)");
        }
        var start = new ProcessStartInfo("/usr/bin/skopeo", arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
        return new Result(process.ExitCode, "skopeo " + string.Join(' ', arguments) + "\n" + await stdout + await stderr, watch.Elapsed);
    }
}
