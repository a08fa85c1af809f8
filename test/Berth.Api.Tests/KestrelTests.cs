using System.Net;
using Berth.Api.Hosting;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Api.Tests;

/// <summary>
/// The pull and push workflows over a real Kestrel socket: the test server does not enforce HTTP framing
/// (Content-Length on HEAD and 204 responses, sendfile with offsets), Kestrel does.
/// </summary>
public abstract class KestrelTests<TDriver> : RegistryTestBase<TDriver> where TDriver : IDriverFactory, new()
{
    protected override bool UseKestrel => true;

    [Fact]
    public async Task PushAndPull_OverASocket()
    {
        var content = Oci.RandomBytes(200_000);
        var digest = Oci.Sha256(content);
        var location = await StartUploadAsync(DeepRepo);
        using (var patch = await SendAsync(HttpMethod.Patch, location, content[..100_000], "application/octet-stream", ("Content-Range", "0-99999")))
        {
            AssertStatus(HttpStatusCode.Accepted, patch);
        }
        using (var status = await GetAsync(location))
        {
            AssertStatus(HttpStatusCode.NoContent, status);
            Assert.Equal("0-99999", Header(status, "Range"));
        }
        using (var gap = await SendAsync(HttpMethod.Patch, location, [1], "application/octet-stream", ("Content-Range", "200000-200000")))
        {
            AssertStatus(HttpStatusCode.RequestedRangeNotSatisfiable, gap);
        }
        using (var put = await SendAsync(HttpMethod.Put, WithDigest(location, digest), content[100_000..], "application/octet-stream"))
        {
            AssertStatus(HttpStatusCode.Created, put);
        }

        var config = Oci.Config();
        await PushBlobAsync(DeepRepo, config);
        var manifest = Oci.Manifest(Oci.Describe(Oci.ImageConfig, config), [Oci.Describe(Oci.Layer, content)]);
        using (var put = await PutManifestAsync(DeepRepo, "v1", manifest))
        {
            AssertStatus(HttpStatusCode.Created, put);
        }

        using (var head = await HeadAsync($"/v2/{DeepRepo}/manifests/v1"))
        {
            AssertStatus(HttpStatusCode.OK, head);
            Assert.Equal(manifest.Length, RawContentLength(head));
        }
        using (var get = await GetAsync($"/v2/{DeepRepo}/manifests/v1"))
        {
            Assert.Equal(manifest, await get.Content.ReadAsByteArrayAsync());
        }
        using (var head = await HeadAsync($"/v2/{DeepRepo}/blobs/{digest}"))
        {
            AssertStatus(HttpStatusCode.OK, head);
            Assert.Equal(content.Length, RawContentLength(head));
        }
        using (var get = await GetAsync($"/v2/{DeepRepo}/blobs/{digest}"))
        {
            Assert.Equal(content, await get.Content.ReadAsByteArrayAsync());
        }
        using (var range = await GetAsync($"/v2/{DeepRepo}/blobs/{digest}", ("Range", "bytes=150000-150099")))
        {
            AssertStatus(HttpStatusCode.PartialContent, range);
            Assert.Equal(content[150_000..150_100], await range.Content.ReadAsByteArrayAsync());
        }
        // The socket transport received into the server's 64 KiB blocks, not into its own 4 KiB pool.
        var pools = Assert.IsType<LargeBlockMemoryPoolFactory>(Services.GetRequiredService<IMemoryPoolFactory<byte>>());
        Assert.True(pools.BlocksAllocated > 0, "Kestrel did not take a block from the server's pool");
        using (var bad = await GetAsync($"/v2/{DeepRepo}/blobs/{digest}", ("Range", "bytes=300000-")))
        {
            AssertStatus(HttpStatusCode.RequestedRangeNotSatisfiable, bad);
        }
    }

    [Fact]
    public async Task ErrorsAndDeletes_OverASocket()
    {
        var image = await PushImageAsync(Repo);
        using (var head = await HeadAsync($"/v2/{Repo}/manifests/missing"))
        {
            AssertStatus(HttpStatusCode.NotFound, head);
        }
        using (var get = await GetAsync($"/v2/{Repo}/manifests/missing"))
        {
            await AssertErrorAsync(get, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        }
        using (var bad = await GetAsync($"/v2/{Repo}/blobs/sha256:abc"))
        {
            await AssertErrorAsync(bad, HttpStatusCode.BadRequest, "DIGEST_INVALID");
        }
        using (var delete = await DeleteAsync($"/v2/{Repo}/manifests/latest"))
        {
            AssertStatus(HttpStatusCode.Accepted, delete);
        }
        using (var delete = await DeleteAsync($"/v2/{Repo}/blobs/{image.Layer.Digest}"))
        {
            AssertStatus(HttpStatusCode.Accepted, delete);
        }
        var location = await StartUploadAsync(Repo);
        using (var delete = await DeleteAsync(location))
        {
            AssertStatus(HttpStatusCode.NoContent, delete);
        }
        using var referrers = await GetAsync($"/v2/{Repo}/referrers/{image.Digest}");
        AssertStatus(HttpStatusCode.OK, referrers);
    }
}

public sealed class KestrelTestsInMemory : KestrelTests<InMemoryDriverFactory>;

public sealed class KestrelTestsFileSystem : KestrelTests<FileSystemDriverFactory>;

/// <summary>The same over HTTPS: Kestrel decrypts into pipes of the server's memory pool too.</summary>
public sealed class KestrelTlsTestsFileSystem : KestrelTests<FileSystemDriverFactory>
{
    protected override bool UseTls => true;

    [Fact]
    public void TheServer_ListensOnHttps() => Assert.Equal(Uri.UriSchemeHttps, Client.BaseAddress!.Scheme);
}
