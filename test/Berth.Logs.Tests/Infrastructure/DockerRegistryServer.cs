namespace Berth.Logs.Tests.Infrastructure;

/// <summary>
/// Distribution's registry (Debian package docker-registry): filesystem storage in a temp dir, deletes
/// enabled. It writes its JSON logs to stderr and combined-format access lines to stdout; both go to
/// one file, as a service manager would collect them.
/// </summary>
internal sealed class DockerRegistryServer : IRegistryServer
{
    private readonly TempDirectory _dir;
    private readonly ManagedProcess _process;

    private DockerRegistryServer(TempDirectory dir, ManagedProcess process, int port)
    {
        _dir = dir;
        _process = process;
        Port = port;
    }

    public string Name => "docker-registry";

    public Uri BaseUri => new($"http://127.0.0.1:{Port}");

    public int Port { get; }

    public string LogPath => _process.StdoutPath;

    public string StorageRoot => _dir.File("data");

    public static async Task<DockerRegistryServer> StartAsync()
    {
        var exe = Tools.Require("docker-registry");
        var dir = new TempDirectory("registry");
        try
        {
            var port = FreePort.Next();
            Directory.CreateDirectory(dir.File("data"));
            var config = dir.File("config.yml");
            await File.WriteAllTextAsync(config, $"""
                version: 0.1
                log:
                  level: info
                  formatter: json
                storage:
                  filesystem:
                    rootdirectory: {dir.File("data")}
                  delete:
                    enabled: true
                http:
                  addr: 127.0.0.1:{port}
                  secret: berth-test-secret
                """).ConfigureAwait(false);
            var process = ManagedProcess.Start(exe, ["serve", config], dir.File("registry.log"), dir.File("registry.log"));
            var server = new DockerRegistryServer(dir, process, port);
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            await process.WaitUntilAsync(async () =>
            {
                try
                {
                    using var r = await http.GetAsync(server.BaseUri + "v2/").ConfigureAwait(false);
                    return (int)r.StatusCode == 200;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(20), "docker-registry").ConfigureAwait(false);
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
