using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text.RegularExpressions;
using Berth.Storage.S3;
using Berth.Storage.S3.Tests;

namespace Berth.ScaleOut.Tests;

/// <summary>
/// Several <c>berth serve</c> processes on one S3 bucket (the test server's bucket, a root directory of their own)
/// behind HAProxy on 127.0.0.1: <c>mode http</c>, <c>balance roundrobin</c> without stickiness, health checks on
/// /readyz, <c>option redispatch</c> and retries, logging every request with <c>option httplog</c> to stdout, which
/// goes to <see cref="HaproxyLogPath"/>.
/// <para>Logs (haproxy.log, each instance's log, the configurations) are kept after the run in
/// <see cref="LogDirectory"/>: $BERTH_SCALEOUT_LOG_DIR/&lt;name&gt; when set, else scaleout-logs/&lt;name&gt; in the test
/// output folder (test/Berth.ScaleOut.Tests/bin/&lt;Configuration&gt;/net10.0/scaleout-logs).</para>
/// </summary>
public sealed partial class ScaleOutCluster : IAsyncDisposable
{
    private readonly List<Instance> _instances = [];
    private Process? _haproxy;

    private ScaleOutCluster(string name, S3TestServer server)
    {
        Name = name;
        Server = server;
        RootDirectory = "scaleout/" + name + "-" + Guid.NewGuid().ToString("N")[..8];
        var logRoot = Environment.GetEnvironmentVariable("BERTH_SCALEOUT_LOG_DIR") is { Length: > 0 } d
            ? d
            : Path.Combine(AppContext.BaseDirectory, "scaleout-logs");
        LogDirectory = Path.Combine(logRoot, name);
        if (Directory.Exists(LogDirectory))
        {
            Directory.Delete(LogDirectory, recursive: true);
        }
        Directory.CreateDirectory(LogDirectory);
    }

    public string Name { get; }

    public S3TestServer Server { get; }

    /// <summary>The key prefix the instances share in the bucket.</summary>
    public string RootDirectory { get; }

    public string LogDirectory { get; }

    public string HaproxyLogPath => Path.Combine(LogDirectory, "haproxy.log");

    public int HaproxyPort { get; private set; }

    /// <summary>"127.0.0.1:port" of HAProxy, as a registry host for skopeo.</summary>
    public string Registry => $"127.0.0.1:{HaproxyPort}";

    public IReadOnlyList<Instance> Instances => _instances;

    /// <summary>One berth process; <see cref="ServerName"/> is its name in HAProxy (s1, s2, ...).</summary>
    public sealed record Instance(string ServerName, int Port, Process Process, string LogPath);

    /// <summary>Starts <paramref name="count"/> instances and HAProxy, and waits until each answers.</summary>
    public static async Task<ScaleOutCluster> StartAsync(string name, int count)
    {
        var cluster = new ScaleOutCluster(name, S3TestServer.Instance);
        try
        {
            var dll = BerthDll();
            for (var i = 1; i <= count; i++)
            {
                cluster._instances.Add(cluster.StartInstance(dll, $"s{i}"));
            }
            await Task.WhenAll(cluster._instances.Select(cluster.WaitReadyAsync));
            await cluster.StartHaproxyAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Kills an instance with SIGKILL (kill -9): no shutdown, in-flight requests cut.</summary>
    public void Kill(Instance instance)
    {
        instance.Process.Kill(entireProcessTree: false);
        instance.Process.WaitForExit(10_000);
    }

    /// <summary>A driver on the instances' storage (its own client).</summary>
    public S3Driver CreateDriver() => new(Server.Options(RootDirectory));

    public async ValueTask DisposeAsync()
    {
        foreach (var instance in _instances)
        {
            await StopAsync(instance.Process);
        }
        if (_haproxy is not null)
        {
            await StopAsync(_haproxy);
        }
        try
        {
            using var client = Server.CreateClient();
            await S3TestServer.DeletePrefixAsync(client, Server.Bucket, RootDirectory + "/");
        }
        catch (Exception e)
        {
            await File.AppendAllTextAsync(Path.Combine(LogDirectory, "cleanup-error.txt"), e.ToString());
        }
    }

    private static async Task StopAsync(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                using (var term = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
                {
                    await term.WaitForExitAsync();
                }
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                try
                {
                    await process.WaitForExitAsync(timeout.Token);
                }
                catch (OperationCanceledException)
                {
                    process.Kill();
                }
            }
        }
        catch (InvalidOperationException)
        {
        }
        process.Dispose();
    }

    private Instance StartInstance(string dll, string serverName)
    {
        var port = FreePort();
        var config = Path.Combine(LogDirectory, $"berth-{serverName}.yml");
        File.WriteAllText(config, $"""
            version: 0.1
            log:
              level: info
              formatter: json
            storage:
              s3:
                regionendpoint: {Server.Endpoint}
                region: {Server.Region}
                bucket: {Server.Bucket}
                accesskey: {Server.AccessKey}
                secretkey: {Server.SecretKey}
                rootdirectory: /{RootDirectory}
                chunksize: 5242880
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:{port}
            """);
        var log = Path.Combine(LogDirectory, $"berth-{serverName}.log");
        var process = StartRedirected("dotnet", [dll, "serve", config], log, log);
        return new Instance(serverName, port, process, log);
    }

    private async Task WaitReadyAsync(Instance instance)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            if (instance.Process.HasExited)
            {
                throw new InvalidOperationException($"berth {instance.ServerName} exited with {instance.Process.ExitCode}:\n{await File.ReadAllTextAsync(instance.LogPath)}");
            }
            try
            {
                using var response = await http.GetAsync($"http://127.0.0.1:{instance.Port}/readyz");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"berth {instance.ServerName} not ready on port {instance.Port}:\n{await File.ReadAllTextAsync(instance.LogPath)}");
            }
            await Task.Delay(100);
        }
    }

    private async Task StartHaproxyAsync()
    {
        if (!File.Exists("/usr/sbin/haproxy"))
        {
            throw new InvalidOperationException("haproxy is not installed: apt-get install --no-install-recommends haproxy (scripts/test.sh installs it)");
        }
        HaproxyPort = FreePort();
        var servers = string.Join("\n", _instances.Select(i => $"    server {i.ServerName} 127.0.0.1:{i.Port} check"));
        var config = Path.Combine(LogDirectory, "haproxy.cfg");
        File.WriteAllText(config, $"""
            global
                log stdout format raw local0 info
                maxconn 1024

            defaults
                mode http
                log global
                option httplog
                option redispatch
                retries 3
                retry-on conn-failure empty-response response-timeout
                timeout connect 2s
                timeout client 120s
                timeout server 120s
                timeout queue 30s

            frontend fe_registry
                bind 127.0.0.1:{HaproxyPort}
                default_backend be_registry

            backend be_registry
                balance roundrobin
                option httpchk GET /readyz
                http-check expect status 200
                timeout check 3s
                default-server inter 1s fastinter 300ms downinter 1s rise 2 fall 3
            {servers}

            """);
        _haproxy = StartRedirected("/usr/sbin/haproxy", ["-db", "-f", config], HaproxyLogPath, Path.Combine(LogDirectory, "haproxy-stderr.log"));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            if (_haproxy.HasExited)
            {
                throw new InvalidOperationException("haproxy exited: " + await File.ReadAllTextAsync(Path.Combine(LogDirectory, "haproxy-stderr.log")));
            }
            try
            {
                using var response = await http.GetAsync($"http://{Registry}/v2/");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("haproxy did not answer /v2/ on " + Registry);
            }
            await Task.Delay(100);
        }
    }

    /// <summary>Runs a program with stdout and stderr in files (bash execs it, so the PID is the program's).</summary>
    private static Process StartRedirected(string program, string[] arguments, string stdout, string stderr)
    {
        var start = new ProcessStartInfo("bash", ["-c", "exec \"$0\" \"${@:3}\" >\"$1\" 2>>\"$2\"", program, stdout, stderr, .. arguments])
        {
            UseShellExecute = false,
        };
        start.Environment["DOTNET_NOLOGO"] = "1";
        return Process.Start(start) ?? throw new InvalidOperationException("cannot start " + program);
    }

    private static string BerthDll()
    {
        var configuration = typeof(ScaleOutCluster).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var dll = Path.Combine(S3TestServer.RepositoryRoot(), "src", "Berth", "bin", configuration, "net10.0", "berth.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"build Berth first (dotnet build -c {configuration}): {dll} is missing");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    // ---- the HAProxy log ----

    /// <summary>One request line of HAProxy's httplog format.</summary>
    public sealed record LogLine(string Server, int Status, string Termination, int Retries, string Method, string Uri);

    [GeneratedRegex("""^\S+ \[[^\]]+\] \S+ [^/\s]+/(\S+) \S+ (-?\d+) \S+ \S+ \S+ (\S{4}) \d+/\d+/\d+/\d+/\+?(\d+) \S+ "(\S+) (\S+)[^"]*"$""")]
    private static partial Regex HttpLogLine();

    /// <summary>The request lines logged so far; server events and other lines are skipped.</summary>
    public IReadOnlyList<LogLine> ReadHaproxyLog()
    {
        var lines = new List<LogLine>();
        using var stream = new FileStream(HaproxyLogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        while (reader.ReadLine() is { } line)
        {
            var m = HttpLogLine().Match(line);
            if (m.Success)
            {
                lines.Add(new LogLine(m.Groups[1].Value, int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), m.Groups[3].Value,
                    int.Parse(m.Groups[4].Value, CultureInfo.InvariantCulture), m.Groups[5].Value, m.Groups[6].Value));
            }
        }
        return lines;
    }
}
