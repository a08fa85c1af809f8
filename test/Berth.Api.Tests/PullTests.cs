using System.Net;

namespace Berth.Api.Tests;

/// <summary>The conformance suite's pull workflow, on nested names.</summary>
public abstract class PullTests<TDriver> : RegistryTestBase<TDriver> where TDriver : IDriverFactory, new()
{
    [Fact]
    public async Task BaseEndpoint_Answers200WithApiVersion()
    {
        foreach (var url in new[] { "/v2/", "/v2" })
        {
            using var response = await GetAsync(url);
            AssertStatus(HttpStatusCode.OK, response);
            Assert.Equal("registry/2.0", Header(response, "Docker-Distribution-API-Version"));
        }
    }

    [Theory]
    [InlineData(Repo)]
    [InlineData(DeepRepo)]
    public async Task GetManifest_ByTagAndDigest_ReturnsContentWithDigestAndType(string repository)
    {
        var image = await PushImageAsync(repository, "v1.0");
        foreach (var reference in new[] { "v1.0", image.Digest })
        {
            using var get = await GetAsync($"/v2/{repository}/manifests/{reference}", ("Accept", Oci.ImageManifest));
            AssertStatus(HttpStatusCode.OK, get);
            Assert.Equal(image.Manifest, await get.Content.ReadAsByteArrayAsync());
            Assert.Equal(image.Digest, Header(get, "Docker-Content-Digest"));
            Assert.Equal(Oci.ImageManifest, get.Content.Headers.ContentType?.MediaType);
            Assert.Equal(image.Manifest.Length, RawContentLength(get));

            using var head = await HeadAsync($"/v2/{repository}/manifests/{reference}", ("Accept", Oci.ImageManifest));
            AssertStatus(HttpStatusCode.OK, head);
            Assert.Equal(image.Digest, Header(head, "Docker-Content-Digest"));
            Assert.Equal(image.Manifest.Length, RawContentLength(head));
            Assert.Equal(Oci.ImageManifest, head.Content.Headers.ContentType?.MediaType);
            Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        }
    }

    [Fact]
    public async Task GetManifest_WithoutAcceptHeader_IsServed()
    {
        var image = await PushImageAsync(Repo);
        using var get = await GetAsync($"/v2/{Repo}/manifests/latest");
        AssertStatus(HttpStatusCode.OK, get);
        Assert.Equal(image.Manifest, await get.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData(Repo)]
    [InlineData(DeepRepo)]
    public async Task GetBlob_ReturnsContentDigestAndLength_HeadToo(string repository)
    {
        var image = await PushImageAsync(repository);
        var url = $"/v2/{repository}/blobs/{image.Layer.Digest}";
        using var get = await GetAsync(url);
        AssertStatus(HttpStatusCode.OK, get);
        Assert.Equal(image.LayerContent, await get.Content.ReadAsByteArrayAsync());
        Assert.Equal(image.Layer.Digest, Header(get, "Docker-Content-Digest"));
        Assert.Equal(image.LayerContent.Length, RawContentLength(get));

        using var head = await HeadAsync(url);
        AssertStatus(HttpStatusCode.OK, head);
        Assert.Equal(image.Layer.Digest, Header(head, "Docker-Content-Digest"));
        Assert.Equal(image.LayerContent.Length, RawContentLength(head));
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task GetBlob_EmptyBlob_Returns200WithZeroLength()
    {
        var digest = await PushBlobAsync(Repo, []);
        Assert.Equal(Oci.Sha256([]), digest);
        using var get = await GetAsync($"/v2/{Repo}/blobs/{digest}");
        AssertStatus(HttpStatusCode.OK, get);
        Assert.Equal(0, RawContentLength(get));
        Assert.Empty(await get.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("bytes=0-9", 0, 10)]
    [InlineData("bytes=10-19", 10, 10)]
    [InlineData("bytes=990-", 990, 10)]
    [InlineData("bytes=-25", 975, 25)]
    [InlineData("bytes=995-5000", 995, 5)]
    public async Task GetBlob_SatisfiableRange_Returns206WithContentRange(string range, int offset, int length)
    {
        var image = await PushImageAsync(Repo, layerSize: 1000);
        using var get = await GetAsync($"/v2/{Repo}/blobs/{image.Layer.Digest}", ("Range", range));
        AssertStatus(HttpStatusCode.PartialContent, get);
        Assert.Equal(image.LayerContent.AsSpan(offset, length).ToArray(), await get.Content.ReadAsByteArrayAsync());
        Assert.Equal($"bytes {offset}-{offset + length - 1}/1000", Header(get, "Content-Range"));
        Assert.Equal(length, RawContentLength(get));
        Assert.Equal(image.Layer.Digest, Header(get, "Docker-Content-Digest"));
    }

    [Theory]
    [InlineData("bytes=1000-")]
    [InlineData("bytes=5000-6000")]
    public async Task GetBlob_UnsatisfiableRange_Returns416WithSize(string range)
    {
        var image = await PushImageAsync(Repo, layerSize: 1000);
        using var get = await GetAsync($"/v2/{Repo}/blobs/{image.Layer.Digest}", ("Range", range));
        AssertStatus(HttpStatusCode.RequestedRangeNotSatisfiable, get);
        Assert.Equal("bytes */1000", Header(get, "Content-Range"));
    }

    [Theory]
    [InlineData("items=0-9")]
    [InlineData("bytes=0-1,5-6")]
    [InlineData("bytes=abc")]
    [InlineData("bytes=9-2")]
    public async Task GetBlob_RangeItCannotHonour_IsIgnored(string range)
    {
        // RFC 9110 14.2: a Range with an unknown unit MUST be ignored; an invalid or multi-range one MAY be
        // ignored. 416 is for a range that does not overlap the blob, which none of these is.
        var image = await PushImageAsync(Repo, layerSize: 1000);
        using var get = await GetAsync($"/v2/{Repo}/blobs/{image.Layer.Digest}", ("Range", range));
        AssertStatus(HttpStatusCode.OK, get);
        Assert.Equal(image.LayerContent, await get.Content.ReadAsByteArrayAsync());
        Assert.Null(Header(get, "Content-Range"));
    }

    [Fact]
    public async Task UnknownManifest_Returns404ManifestUnknown_HeadToo()
    {
        await PushImageAsync(Repo);
        using var byTag = await GetAsync($"/v2/{Repo}/manifests/nosuchtag");
        await AssertErrorAsync(byTag, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        using var byDigest = await GetAsync($"/v2/{Repo}/manifests/{Oci.Sha256("nothing"u8.ToArray())}");
        await AssertErrorAsync(byDigest, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        using var head = await HeadAsync($"/v2/{Repo}/manifests/nosuchtag");
        AssertStatus(HttpStatusCode.NotFound, head);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Head_AnswersTheContentLengthAGetWould_ErrorsToo()
    {
        var image = await PushImageAsync(Repo);
        string[] urls =
        [
            "/v2/",
            $"/v2/{Repo}/manifests/latest",
            $"/v2/{Repo}/manifests/missing",
            $"/v2/{Repo}/blobs/{image.Layer.Digest}",
            $"/v2/{Repo}/blobs/{Oci.Sha256([0])}",
            $"/v2/{Repo}/blobs/sha256:bad",
            $"/v2/Bad/manifests/latest",
            "/v2/no/such/repo/manifests/latest",
        ];
        foreach (var url in urls)
        {
            using var get = await GetAsync(url);
            using var head = await HeadAsync(url);
            Assert.Equal(get.StatusCode, head.StatusCode);
            Assert.True(RawContentLength(get) == RawContentLength(head), $"HEAD {url}: Content-Length {RawContentLength(head)}, GET has {RawContentLength(get)}");
            Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        }
    }

    [Fact]
    public async Task UnknownRepository_Returns404NameUnknown()
    {
        using var response = await GetAsync("/v2/no/such/repo/manifests/latest");
        await AssertErrorAsync(response, HttpStatusCode.NotFound, "NAME_UNKNOWN");
    }

    [Fact]
    public async Task UnknownBlob_Returns404BlobUnknown_HeadToo()
    {
        await PushImageAsync(Repo);
        var missing = Oci.Sha256("not pushed"u8.ToArray());
        using var get = await GetAsync($"/v2/{Repo}/blobs/{missing}");
        await AssertErrorAsync(get, HttpStatusCode.NotFound, "BLOB_UNKNOWN");
        using var head = await HeadAsync($"/v2/{Repo}/blobs/{missing}");
        AssertStatus(HttpStatusCode.NotFound, head);
    }

    [Fact]
    public async Task BlobOfAnotherRepository_IsNotServedWithoutALink()
    {
        var image = await PushImageAsync(Repo);
        await PushImageAsync("other/repo");
        using var get = await GetAsync($"/v2/other/repo/blobs/{image.Layer.Digest}");
        await AssertErrorAsync(get, HttpStatusCode.NotFound, "BLOB_UNKNOWN");
    }

    [Fact]
    public async Task GetManifest_AcceptListsOnlyOtherManifestTypes_Returns404()
    {
        await PushImageAsync(Repo);
        using var get = await GetAsync($"/v2/{Repo}/manifests/latest", ("Accept", Oci.DockerManifest));
        await AssertErrorAsync(get, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
    }

    [Fact]
    public async Task GetIndex_ByTag_ServedWithIndexMediaType()
    {
        var a = await PushImageAsync(Repo, tag: null);
        var b = await PushImageAsync(Repo, tag: null);
        var index = Oci.Index([new Desc(Oci.ImageManifest, a.Digest, a.Manifest.Length), new Desc(Oci.ImageManifest, b.Digest, b.Manifest.Length)]);
        using (var put = await PutManifestAsync(Repo, "multi", index, Oci.ImageIndex))
        {
            AssertStatus(HttpStatusCode.Created, put);
        }
        using var get = await GetAsync($"/v2/{Repo}/manifests/multi", ("Accept", $"{Oci.ImageManifest}, {Oci.ImageIndex}"));
        AssertStatus(HttpStatusCode.OK, get);
        Assert.Equal(Oci.ImageIndex, get.Content.Headers.ContentType?.MediaType);
        Assert.Equal(Oci.Sha256(index), Header(get, "Docker-Content-Digest"));
        Assert.Equal(index, await get.Content.ReadAsByteArrayAsync());
    }
}

public sealed class PullTestsInMemory : PullTests<InMemoryDriverFactory>;

public sealed class PullTestsFileSystem : PullTests<FileSystemDriverFactory>;
