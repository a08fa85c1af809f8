using System.Text;
using Berth.Logs.Tests.Infrastructure;

namespace Berth.Logs.Tests.Integration;

/// <summary>
/// docker-registry behind HAProxy, and real traffic through both: an image push, good pulls, 404s,
/// a bad digest (400), a broken tag (empty current/link: the runbook's "invalid checksum digest format"
/// 500) and requests routed to a closed backend (HAProxy's 503). The tests then read what the two
/// servers actually wrote. Subclasses pick the registry (docker-registry now, <c>berth serve</c> later).
/// </summary>
public abstract class RegistryBehindHAProxyFixture : IAsyncLifetime
{
    public const string Good = "team/sub/app";
    public const string Broken = "team/broken/app";
    public const int BrokenPulls = 5;
    public const int ClosedBackendPulls = 3;
    public const int MissingTagPulls = 4;

    private IRegistryServer? _registry;
    private HAProxyServer? _haproxy;

    /// <summary>The registry also writes a combined-format access line per request (docker-registry does).</summary>
    public virtual bool RegistryWritesAccessLines => false;

    /// <summary>The error class the registry's JSON log gives the broken tag's 500.</summary>
    public abstract string BrokenTagErrorClass { get; }

    public string HAProxyLog => _haproxy!.LogPath;

    public string RegistryLog => _registry!.LogPath;

    /// <summary>Every request made through HAProxy, with the status the client saw.</summary>
    public List<(string Method, string Path, int Status)> Exchanges { get; } = [];

    public async Task InitializeAsync()
    {
        _registry = await StartRegistryAsync();
        _haproxy = await HAProxyServer.StartAsync(_registry.BaseUri);
        using var client = new RegistryClient(_haproxy.BaseUri);

        Assert.Equal(200, await client.SendAsync(HttpMethod.Get, "/v2/"));
        var good = await client.PushImageAsync(Good, "v1", "good layer");
        await client.PushImageAsync(Broken, "v1", "broken layer");

        // The runbook's failure mode: the tag's current/link is empty.
        var link = Path.Combine(_registry.StorageRoot, "docker", "registry", "v2", "repositories", "team", "broken", "app", "_manifests", "tags", "v1", "current", "link");
        Assert.True(File.Exists(link), link);
        await File.WriteAllTextAsync(link, "");

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(200, await client.SendAsync(HttpMethod.Get, $"/v2/{Good}/manifests/v1", accept: RegistryClient.OciManifest));
        }

        Assert.Equal(200, await client.SendAsync(HttpMethod.Head, $"/v2/{Good}/blobs/{good.Layer}"));
        for (var i = 0; i < MissingTagPulls; i++)
        {
            Assert.Equal(404, await client.SendAsync(HttpMethod.Get, $"/v2/{Good}/manifests/missing?x={i}"));
        }

        Assert.Equal(400, await client.SendAsync(HttpMethod.Get, $"/v2/{Good}/blobs/sha256:bad"));
        Assert.Equal(404, await client.SendAsync(HttpMethod.Get, "/v2/nobody/tags/list"));
        Assert.Equal(200, await client.SendAsync(HttpMethod.Get, "/v2/_catalog"));
        for (var i = 0; i < BrokenPulls; i++)
        {
            Assert.Equal(500, await client.SendAsync(HttpMethod.Get, $"/v2/{Broken}/manifests/v1"));
        }

        for (var i = 0; i < ClosedBackendPulls; i++)
        {
            Assert.Equal(503, await client.SendAsync(HttpMethod.Get, $"/v2/{Good}/manifests/v1", closedBackend: "closed"));
        }

        Exchanges.AddRange(client.Exchanges);

        // HAProxy writes a line when each response ends; wait until all are there.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (CountLines(_haproxy.LogPath, " HTTP/1.1\"") < Exchanges.Count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Equal(Exchanges.Count, CountLines(_haproxy.LogPath, " HTTP/1.1\""));
        // The registry saw everything but the closed-backend requests, plus its readiness probe; it
        // logs each request after answering it.
        var registryRequests = Exchanges.Count - ClosedBackendPulls + 1;
        while ((CountLines(_registry.LogPath, "\"http.response.status\"") < registryRequests
                || (RegistryWritesAccessLines && CountLines(_registry.LogPath, "HTTP/1.1\" ") < registryRequests))
               && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
    }

    internal abstract Task<IRegistryServer> StartRegistryAsync();

    private static int CountLines(string path, string marker) =>
        File.Exists(path) ? File.ReadLines(path, Encoding.UTF8).Count(l => l.Contains(marker, StringComparison.Ordinal)) : 0;

    public Task DisposeAsync()
    {
        _haproxy?.Dispose();
        _registry?.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>Distribution's docker-registry behind HAProxy.</summary>
public sealed class DockerRegistryBehindHAProxyFixture : RegistryBehindHAProxyFixture
{
    public override bool RegistryWritesAccessLines => true;

    public override string BrokenTagErrorClass => "unknown: invalid checksum digest format";

    internal override async Task<IRegistryServer> StartRegistryAsync() => await DockerRegistryServer.StartAsync();
}
