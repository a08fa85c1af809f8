using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;

namespace Berth.GarbageCollection.Tests.Support;

public sealed record ToolResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

/// <summary>External programs the end-to-end tests need: skopeo, Distribution's docker-registry, the berth executable.</summary>
public static class Tools
{
    public const string InstallHint = "apt-get install skopeo docker-registry";

    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>src/Berth/bin/&lt;Configuration&gt;/net10.0/berth.dll, for the configuration these tests were built in.</summary>
    public static string BerthDll
    {
        get
        {
            var configuration = typeof(Tools).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
            var path = Path.Combine(RepoRoot, "src", "Berth", "bin", configuration, "net10.0", "berth.dll");
            return File.Exists(path) ? path : throw new InvalidOperationException($"{path} is missing: build src/Berth ({configuration}) first");
        }
    }

    /// <summary>The full path of a program on PATH; fails the test (never skips) when it is missing.</summary>
    public static string Require(string program)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Append("/usr/bin").Append("/usr/sbin"))
        {
            var candidate = Path.Combine(dir, program);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new InvalidOperationException($"{program} is not installed; these tests need it: {InstallHint}");
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static async Task<ToolResult> RunAsync(string file, IEnumerable<string> arguments, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments)
        {
            info.ArgumentList.Add(a);
        }
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish");
        }
        return new ToolResult(process.ExitCode, await stdout, await stderr);
    }

    public static Task<ToolResult> SkopeoAsync(params string[] arguments) => RunAsync(Require("skopeo"), ["--insecure-policy", .. arguments]);

    public static Task<ToolResult> BerthAsync(params string[] arguments) => RunAsync(Require("dotnet"), [BerthDll, .. arguments]);

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Berth.slnx")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Berth.slnx not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>A registry process on 127.0.0.1 (Distribution's docker-registry or berth serve), stopped on dispose.</summary>
public sealed class RegistryProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private RegistryProcess(Process process, int port)
    {
        _process = process;
        Port = port;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Port { get; }

    public string Host => $"127.0.0.1:{Port}";

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_log)
            {
                _log.AppendLine(line);
            }
        }
    }

    /// <summary>Writes a Distribution config.yml for <paramref name="root"/> (delete enabled) and returns its path.</summary>
    public static string WriteDistributionConfig(string directory, string root, int port)
    {
        var path = Path.Combine(directory, $"config-{port}.yml");
        File.WriteAllText(path, $"""
            version: 0.1
            log:
              level: warn
            storage:
              filesystem:
                rootdirectory: {root}
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:{port}
            """);
        return path;
    }

    public static Task<RegistryProcess> StartDistributionAsync(string configPath, int port) =>
        StartAsync(Tools.Require("docker-registry"), ["serve", configPath], port);

    public static Task<RegistryProcess> StartBerthAsync(string root, int port) =>
        StartAsync(Tools.Require("dotnet"), [Tools.BerthDll, "serve", "--data", root, "--listen", $"127.0.0.1:{port}", "--log-level", "warn"], port);

    private static async Task<RegistryProcess> StartAsync(string file, string[] arguments, int port)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments)
        {
            info.ArgumentList.Add(a);
        }
        var registry = new RegistryProcess(Process.Start(info)!, port);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (registry._process.HasExited)
            {
                throw new InvalidOperationException($"{file} exited with {registry._process.ExitCode}:\n{registry.Log}");
            }
            try
            {
                using var response = await http.GetAsync($"http://127.0.0.1:{port}/v2/");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return registry;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(100);
        }
        await registry.DisposeAsync();
        throw new TimeoutException($"{file} did not answer on port {port}:\n{registry.Log}");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
