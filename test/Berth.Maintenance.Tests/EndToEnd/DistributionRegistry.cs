using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Berth.Maintenance.Tests.EndToEnd;

/// <summary>
/// CNCF Distribution's own registry (Debian's docker-registry, 2.8) on 127.0.0.1 with filesystem storage in a
/// temporary directory, and skopeo to push to it. Missing tools fail the test with the install command; never skipped.
/// </summary>
internal sealed class DistributionRegistry : IAsyncDisposable
{
    public const string InstallHint = "apt-get install skopeo docker-registry";

    private readonly Process _process;
    private readonly string _directory;

    private DistributionRegistry(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    public string Host => $"127.0.0.1:{Port}";

    /// <summary>The storage root (holds docker/registry/v2).</summary>
    public string DataDirectory => Path.Combine(_directory, "data");

    public string ConfigPath => Path.Combine(_directory, "config.yml");

    public string LogPath => Path.Combine(_directory, "registry.log");

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };

    public static string RegistryBinary => Find("docker-registry", "/usr/bin/docker-registry");

    public static string SkopeoBinary => Find("skopeo", "/usr/bin/skopeo");

    public static async Task<DistributionRegistry> StartAsync()
    {
        var binary = RegistryBinary;
        _ = SkopeoBinary;
        var directory = Path.Combine(Path.GetTempPath(), "berth-distribution-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path.Combine(directory, "data"));
        var port = FreePort();
        await File.WriteAllTextAsync(Path.Combine(directory, "config.yml"), $"""
            version: 0.1
            log:
              level: info
              accesslog:
                disabled: true
            storage:
              filesystem:
                rootdirectory: {Path.Combine(directory, "data")}
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:{port}
            """);
        var start = new ProcessStartInfo(binary) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("serve");
        start.ArgumentList.Add(Path.Combine(directory, "config.yml"));
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start docker-registry");
        var log = new StreamWriter(Path.Combine(directory, "registry.log")) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (log) { log.WriteLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (log) { log.WriteLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var registry = new DistributionRegistry(process, directory, port);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                using var response = await registry.Http.GetAsync($"http://{registry.Host}/v2/");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return registry;
                }
            }
            catch (HttpRequestException)
            {
            }
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                await registry.DisposeAsync();
                throw new InvalidOperationException($"docker-registry did not answer GET /v2/ with 200 on {registry.Host} (exited: {process.HasExited})");
            }
            await Task.Delay(50);
        }
    }

    /// <summary>Runs skopeo; throws with its output when it fails and <paramref name="check"/> is set.</summary>
    public static async Task<(int ExitCode, string Output)> SkopeoAsync(bool check, params string[] args)
    {
        var start = new ProcessStartInfo(SkopeoBinary) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("--insecure-policy");
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        var output = await stdout + await stderr;
        if (check && process.ExitCode != 0)
        {
            throw new InvalidOperationException($"skopeo {string.Join(' ', args)} failed ({process.ExitCode}): {output}");
        }
        return (process.ExitCode, output);
    }

    /// <summary>Pushes tag <paramref name="tag"/> of an OCI layout to <c>name:tag</c> (all platforms with <paramref name="all"/>).</summary>
    public Task PushAsync(string layout, string tag, string name, bool all = false, string? format = null)
    {
        var args = new List<string> { "copy", "--dest-tls-verify=false" };
        if (all)
        {
            args.Add("--all");
        }
        if (format is not null)
        {
            args.AddRange(["--format", format]);
        }
        args.AddRange([$"oci:{layout}:{tag}", $"docker://{Host}/{name}:{tag}"]);
        return SkopeoAsync(true, [.. args]);
    }

    /// <summary>Pulls name:tag with every blob (skopeo copy to a throwaway OCI layout): proves the registry serves it.</summary>
    public async Task<(int ExitCode, string Output)> PullAsync(string name, string tag, bool all = false)
    {
        var target = Path.Combine(_directory, "pulls", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(target);
        var args = new List<string> { "copy", "--src-tls-verify=false" };
        if (all)
        {
            args.Add("--all");
        }
        args.AddRange([$"docker://{Host}/{name}:{tag}", $"oci:{target}:{tag}"]);
        return await SkopeoAsync(false, [.. args]);
    }

    /// <summary>The status Distribution answers a manifest GET with.</summary>
    public async Task<HttpStatusCode> ManifestStatusAsync(string name, string reference)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{Host}/v2/{name}/manifests/{reference}");
        request.Headers.Add("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json");
        using var response = await Http.SendAsync(request);
        return response.StatusCode;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string Find(string name, string usual)
    {
        if (File.Exists(usual))
        {
            return usual;
        }
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new InvalidOperationException($"{name} is not installed; these tests need CNCF Distribution's registry and skopeo: {InstallHint}");
    }
}
