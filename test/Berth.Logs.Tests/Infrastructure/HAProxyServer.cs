namespace Berth.Logs.Tests.Infrastructure;

/// <summary>
/// HAProxy 2.x in front of a registry, logging as the runbook's load balancers do: <c>option httplog</c>
/// with the Host and User-Agent headers captured, <c>log stdout format raw local0 info</c>, run in the
/// foreground with stdout to a file. Requests with <c>X-Test-Backend: closed</c> go to a backend on a
/// closed port, which HAProxy answers 503 (a real 5xx through the proxy).
/// </summary>
internal sealed class HAProxyServer : IDisposable
{
    public const string ClosedBackendHeader = "X-Test-Backend";

    private readonly TempDirectory _dir;
    private readonly ManagedProcess _process;

    private HAProxyServer(TempDirectory dir, ManagedProcess process, int port)
    {
        _dir = dir;
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public Uri BaseUri => new($"http://127.0.0.1:{Port}");

    public string LogPath => _process.StdoutPath;

    public static async Task<HAProxyServer> StartAsync(Uri backend)
    {
        var exe = Tools.Require("haproxy");
        var dir = new TempDirectory("haproxy");
        try
        {
            var port = FreePort.Next();
            var closedPort = FreePort.Next();
            var config = dir.File("haproxy.cfg");
            await File.WriteAllTextAsync(config, $"""
                global
                    log stdout format raw local0 info
                    maxconn 256

                defaults
                    mode http
                    log global
                    option httplog
                    option dontlognull
                    retries 0
                    timeout connect 2s
                    timeout client 30s
                    timeout server 30s

                frontend fe_registry
                    bind 127.0.0.1:{port}
                    capture request header Host len 64
                    capture request header User-Agent len 64
                    acl to_closed req.hdr({ClosedBackendHeader}) -m str closed
                    use_backend be_closed if to_closed
                    default_backend be_registry

                backend be_registry
                    server registry {backend.Host}:{backend.Port}

                backend be_closed
                    server closed 127.0.0.1:{closedPort}

                """).ConfigureAwait(false);
            var process = ManagedProcess.Start(exe, ["-db", "-f", config], dir.File("haproxy.log"), dir.File("haproxy-stderr.log"));
            var server = new HAProxyServer(dir, process, port);
            await process.WaitUntilAsync(() => Task.FromResult(FreePort.IsListening(port)), TimeSpan.FromSeconds(20), "haproxy").ConfigureAwait(false);
            return server;
        }
        catch
        {
            dir.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _process.Dispose();
        _dir.Dispose();
    }
}
