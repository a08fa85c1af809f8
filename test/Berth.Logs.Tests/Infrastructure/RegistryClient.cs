using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace Berth.Logs.Tests.Infrastructure;

/// <summary>
/// Raw OCI distribution HTTP for the tests: pushes blobs (POST + PUT ?digest=) and manifests, and
/// records every exchange (method, path, status) so the tests can compare what the log analysis counts
/// with what really happened on the wire.
/// </summary>
internal sealed class RegistryClient(Uri baseUri) : IDisposable
{
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";

    private readonly HttpClient _http = new() { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(30) };

    public List<(string Method, string Path, int Status)> Exchanges { get; } = [];

    public static string DigestOf(byte[] content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));

    public async Task<int> SendAsync(HttpMethod method, string pathAndQuery, HttpContent? content = null, string? closedBackend = null, string? accept = null)
    {
        using var request = new HttpRequestMessage(method, pathAndQuery) { Content = content };
        if (closedBackend is not null)
        {
            request.Headers.Add(HAProxyServer.ClosedBackendHeader, closedBackend);
        }

        if (accept is not null)
        {
            request.Headers.Accept.ParseAdd(accept);
        }

        using var response = await _http.SendAsync(request).ConfigureAwait(false);
        var status = (int)response.StatusCode;
        var path = pathAndQuery.Split('?')[0];
        Exchanges.Add((method.Method, path, status));
        if (response.Headers.Location is { } location)
        {
            LastLocation = location;
        }

        return status;
    }

    public Uri? LastLocation { get; private set; }

    /// <summary>Monolithic upload: POST /blobs/uploads/, then PUT the bytes to the location with ?digest=.</summary>
    public async Task<string> PushBlobAsync(string name, byte[] content)
    {
        var digest = DigestOf(content);
        var post = await SendAsync(HttpMethod.Post, $"/v2/{name}/blobs/uploads/").ConfigureAwait(false);
        Assert.Equal(202, post);
        var location = LastLocation!;
        var target = location.IsAbsoluteUri ? location.PathAndQuery : location.OriginalString;
        var put = await SendAsync(HttpMethod.Put, target + (target.Contains('?') ? "&" : "?") + "digest=" + Uri.EscapeDataString(digest),
            new ByteArrayContent(content) { Headers = { ContentType = new MediaTypeHeaderValue("application/octet-stream") } }).ConfigureAwait(false);
        Assert.Equal(201, put);
        return digest;
    }

    public async Task<string> PushManifestAsync(string name, string reference, string json, string mediaType)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var status = await SendAsync(HttpMethod.Put, $"/v2/{name}/manifests/{reference}",
            new ByteArrayContent(bytes) { Headers = { ContentType = new MediaTypeHeaderValue(mediaType) } }).ConfigureAwait(false);
        Assert.Equal(201, status);
        return DigestOf(bytes);
    }

    /// <summary>A one-layer OCI image; returns the manifest digest, config digest and layer digest.</summary>
    public async Task<(string Manifest, string Config, string Layer, string Json)> PushImageAsync(string name, string tag, string layerText)
    {
        var config = Encoding.UTF8.GetBytes("""{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}""");
        var layer = Encoding.UTF8.GetBytes(layerText);
        var configDigest = await PushBlobAsync(name, config).ConfigureAwait(false);
        var layerDigest = await PushBlobAsync(name, layer).ConfigureAwait(false);
        var manifest = $$"""{"schemaVersion":2,"mediaType":"{{OciManifest}}","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{configDigest}}","size":{{config.Length}}},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{{layerDigest}}","size":{{layer.Length}}}]}""";
        var digest = await PushManifestAsync(name, tag, manifest, OciManifest).ConfigureAwait(false);
        return (digest, configDigest, layerDigest, manifest);
    }

    public void Dispose() => _http.Dispose();
}
