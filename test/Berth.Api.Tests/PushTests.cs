using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Berth.Storage.Layout;

namespace Berth.Api.Tests;

/// <summary>The conformance suite's push workflow, on nested names.</summary>
public abstract partial class PushTests<TDriver> : RegistryTestBase<TDriver> where TDriver : IDriverFactory, new()
{
    [GeneratedRegex("^/v2/(?<name>.+)/blobs/uploads/(?<id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")]
    private static partial Regex UploadLocation();

    [Theory]
    [InlineData(Repo)]
    [InlineData(DeepRepo)]
    public async Task PostThenPut_Monolithic_Returns201WithBlobLocation(string repository)
    {
        using var post = await SendAsync(HttpMethod.Post, $"/v2/{repository}/blobs/uploads/", [], null);
        AssertStatus(HttpStatusCode.Accepted, post);
        var location = post.Headers.Location!.OriginalString;
        var match = UploadLocation().Match(location);
        Assert.True(match.Success, location);
        Assert.Equal(repository, match.Groups["name"].Value);
        Assert.Equal(match.Groups["id"].Value, Header(post, "Docker-Upload-UUID"));

        var content = Oci.RandomBytes(4096);
        var digest = Oci.Sha256(content);
        using var put = await SendAsync(HttpMethod.Put, WithDigest(location, digest), content, "application/octet-stream");
        AssertStatus(HttpStatusCode.Created, put);
        Assert.Equal($"/v2/{repository}/blobs/{digest}", put.Headers.Location!.OriginalString);
        Assert.Equal(digest, Header(put, "Docker-Content-Digest"));
        Assert.Equal(0, RawContentLength(put));

        using var get = await GetAsync(put.Headers.Location.OriginalString);
        Assert.Equal(content, await get.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task SinglePost_WithDigest_Returns201()
    {
        var content = Oci.RandomBytes(3000);
        var digest = Oci.Sha256(content);
        using var post = await SendAsync(HttpMethod.Post, $"/v2/{Repo}/blobs/uploads/?digest={digest}", content, "application/octet-stream");
        AssertStatus(HttpStatusCode.Created, post);
        Assert.Equal($"/v2/{Repo}/blobs/{digest}", post.Headers.Location!.OriginalString);
        Assert.Equal(digest, Header(post, "Docker-Content-Digest"));
        using var get = await GetAsync($"/v2/{Repo}/blobs/{digest}");
        Assert.Equal(content, await get.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task PushingAnExistingBlobAgain_Returns201()
    {
        var content = Oci.RandomBytes(500);
        var digest = await PushBlobAsync(Repo, content);
        Assert.Equal(digest, await PushBlobAsync(Repo, content));
        Assert.Equal(digest, await PushBlobAsync(DeepRepo, content));
        using var get = await GetAsync($"/v2/{DeepRepo}/blobs/{digest}");
        Assert.Equal(content, await get.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task FinishedSession_IsGone()
    {
        var content = Oci.RandomBytes(500);
        var location = await StartUploadAsync(Repo);
        using (await SendAsync(HttpMethod.Put, WithDigest(location, Oci.Sha256(content)), content, "application/octet-stream"))
        {
        }
        using var patch = await SendAsync(HttpMethod.Patch, location, [1], "application/octet-stream");
        await AssertErrorAsync(patch, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
        using var status = await GetAsync(location);
        await AssertErrorAsync(status, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
    }

    [Fact]
    public async Task Sha512Digest_IsAccepted()
    {
        var content = Oci.RandomBytes(2000);
        var digest = Oci.Sha512(content);
        var location = await StartUploadAsync(Repo);
        using var put = await SendAsync(HttpMethod.Put, WithDigest(location, digest), content, "application/octet-stream");
        AssertStatus(HttpStatusCode.Created, put);
        using var get = await GetAsync($"/v2/{Repo}/blobs/{digest}");
        AssertStatus(HttpStatusCode.OK, get);
        Assert.Equal(content, await get.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData(Repo)]
    [InlineData(DeepRepo)]
    public async Task Chunked_PostPatchPut_AssemblesTheBlob(string repository)
    {
        var content = Oci.RandomBytes(10_000);
        var digest = Oci.Sha256(content);
        var location = await StartUploadAsync(repository);

        using (var first = await SendAsync(HttpMethod.Patch, location, content[..4000], "application/octet-stream", ("Content-Range", "0-3999")))
        {
            AssertStatus(HttpStatusCode.Accepted, first);
            Assert.Equal("0-3999", Header(first, "Range"));
            Assert.Matches(UploadLocation(), first.Headers.Location!.OriginalString);
            location = first.Headers.Location.OriginalString;
        }
        using (var second = await SendAsync(HttpMethod.Patch, location, content[4000..9000], "application/octet-stream", ("Content-Range", "4000-8999")))
        {
            AssertStatus(HttpStatusCode.Accepted, second);
            Assert.Equal("0-8999", Header(second, "Range"));
            location = second.Headers.Location!.OriginalString;
        }
        // The last chunk travels with the closing PUT.
        using var put = await SendAsync(HttpMethod.Put, WithDigest(location, digest), content[9000..], "application/octet-stream", ("Content-Range", "9000-9999"));
        AssertStatus(HttpStatusCode.Created, put);
        Assert.Equal($"/v2/{repository}/blobs/{digest}", put.Headers.Location!.OriginalString);
        Assert.Equal(digest, Header(put, "Docker-Content-Digest"));

        using var get = await GetAsync($"/v2/{repository}/blobs/{digest}");
        Assert.Equal(content, await get.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Chunked_ClosingPutWithoutBody_Works()
    {
        var content = Oci.RandomBytes(5000);
        var digest = Oci.Sha256(content);
        var location = await StartUploadAsync(Repo);
        using (var patch = await SendAsync(HttpMethod.Patch, location, content, "application/octet-stream", ("Content-Range", "0-4999")))
        {
            AssertStatus(HttpStatusCode.Accepted, patch);
        }
        using var put = await SendAsync(HttpMethod.Put, WithDigest(location, digest));
        AssertStatus(HttpStatusCode.Created, put);
        using var head = await HeadAsync($"/v2/{Repo}/blobs/{digest}");
        Assert.Equal(5000, RawContentLength(head));
    }

    [Fact]
    public async Task Chunked_WithSha512Digest_Works()
    {
        var content = Oci.RandomBytes(3000);
        var digest = Oci.Sha512(content);
        var location = await StartUploadAsync(Repo);
        using (await SendAsync(HttpMethod.Patch, location, content[..1500], "application/octet-stream", ("Content-Range", "0-1499")))
        {
        }
        using var put = await SendAsync(HttpMethod.Put, WithDigest(location, digest), content[1500..], "application/octet-stream");
        AssertStatus(HttpStatusCode.Created, put);
        Assert.Equal($"/v2/{Repo}/blobs/{digest}", put.Headers.Location!.OriginalString);
        using var get = await GetAsync($"/v2/{Repo}/blobs/{digest}");
        Assert.Equal(content, await get.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task ArtifactWithEmptyConfigAndNoLayers_IsAccepted()
    {
        byte[] empty = "{}"u8.ToArray();
        Assert.Equal("sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", await PushBlobAsync(Repo, empty));
        var manifest = Oci.Manifest(Oci.Describe(Oci.Empty, empty), [], artifactType: "application/vnd.example.thing");
        using var put = await PutManifestAsync(Repo, "artifact", manifest);
        AssertStatus(HttpStatusCode.Created, put);
    }

    [Fact]
    public async Task Streamed_PatchWithoutContentRange_Appends()
    {
        var content = Oci.RandomBytes(3000);
        var location = await StartUploadAsync(Repo);
        using (var a = await SendAsync(HttpMethod.Patch, location, content[..1000], "application/octet-stream"))
        {
            Assert.Equal("0-999", Header(a, "Range"));
        }
        using (var b = await SendAsync(HttpMethod.Patch, location, content[1000..], "application/octet-stream"))
        {
            Assert.Equal("0-2999", Header(b, "Range"));
        }
        using var put = await SendAsync(HttpMethod.Put, WithDigest(location, Oci.Sha256(content)));
        AssertStatus(HttpStatusCode.Created, put);
    }

    [Fact]
    public async Task Chunked_OutOfOrderChunk_Returns416WithCurrentRange_AndUploadContinues()
    {
        var content = Oci.RandomBytes(3000);
        var location = await StartUploadAsync(Repo);
        using (var first = await SendAsync(HttpMethod.Patch, location, content[..1000], "application/octet-stream", ("Content-Range", "0-999")))
        {
            AssertStatus(HttpStatusCode.Accepted, first);
        }
        // A gap: starts after the end of the upload.
        using (var gap = await SendAsync(HttpMethod.Patch, location, content[2000..], "application/octet-stream", ("Content-Range", "2000-2999")))
        {
            AssertStatus(HttpStatusCode.RequestedRangeNotSatisfiable, gap);
            Assert.Equal("0-999", Header(gap, "Range"));
            Assert.Matches(UploadLocation(), gap.Headers.Location!.OriginalString);
        }
        // A retry of the previous chunk.
        using (var retry = await SendAsync(HttpMethod.Patch, location, content[..1000], "application/octet-stream", ("Content-Range", "0-999")))
        {
            AssertStatus(HttpStatusCode.RequestedRangeNotSatisfiable, retry);
            Assert.Equal("0-999", Header(retry, "Range"));
        }
        using (var status = await GetAsync(location))
        {
            AssertStatus(HttpStatusCode.NoContent, status);
            Assert.Equal("0-999", Header(status, "Range"));
        }
        using (var next = await SendAsync(HttpMethod.Patch, location, content[1000..], "application/octet-stream", ("Content-Range", "1000-2999")))
        {
            AssertStatus(HttpStatusCode.Accepted, next);
        }
        using var put = await SendAsync(HttpMethod.Put, WithDigest(location, Oci.Sha256(content)));
        AssertStatus(HttpStatusCode.Created, put);
        using var get = await GetAsync($"/v2/{Repo}/blobs/{Oci.Sha256(content)}");
        Assert.Equal(content, await get.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task MalformedContentRange_Returns400BlobUploadInvalid()
    {
        var location = await StartUploadAsync(Repo);
        using var patch = await SendAsync(HttpMethod.Patch, location, [1, 2, 3], "application/octet-stream", ("Content-Range", "three-to-five"));
        await AssertErrorAsync(patch, HttpStatusCode.BadRequest, "BLOB_UPLOAD_INVALID");
    }

    [Theory]
    [InlineData(Repo)]
    [InlineData(DeepRepo)]
    public async Task GetUploadStatus_Returns204WithRangeAndLocation(string repository)
    {
        var location = await StartUploadAsync(repository);
        var id = UploadLocation().Match(location).Groups["id"].Value;
        using (var fresh = await GetAsync(location))
        {
            AssertStatus(HttpStatusCode.NoContent, fresh);
            Assert.Equal("0-0", Header(fresh, "Range"));
            Assert.Equal(location, fresh.Headers.Location!.OriginalString);
            Assert.Equal(id, Header(fresh, "Docker-Upload-UUID"));
        }
        using (await SendAsync(HttpMethod.Patch, location, Oci.RandomBytes(1234), "application/octet-stream", ("Content-Range", "0-1233")))
        {
        }
        using var status = await GetAsync(location);
        AssertStatus(HttpStatusCode.NoContent, status);
        Assert.Equal("0-1233", Header(status, "Range"));
        Assert.Equal(location, status.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task UnknownUpload_Returns404BlobUploadUnknown()
    {
        var unknown = $"/v2/{Repo}/blobs/uploads/{Guid.NewGuid():D}";
        using (var get = await GetAsync(unknown))
        {
            await AssertErrorAsync(get, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
        }
        using (var patch = await SendAsync(HttpMethod.Patch, unknown, [1], "application/octet-stream"))
        {
            await AssertErrorAsync(patch, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
        }
        using (var put = await SendAsync(HttpMethod.Put, WithDigest(unknown, Oci.Sha256([1])), [1], "application/octet-stream"))
        {
            await AssertErrorAsync(put, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
        }
        using (var notAnId = await GetAsync($"/v2/{Repo}/blobs/uploads/not-an-id"))
        {
            await AssertErrorAsync(notAnId, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
        }
        // A session belongs to the repository that started it.
        var location = await StartUploadAsync(Repo);
        var id = UploadLocation().Match(location).Groups["id"].Value;
        using var elsewhere = await GetAsync($"/v2/other/repo/blobs/uploads/{id}");
        await AssertErrorAsync(elsewhere, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
    }

    [Fact]
    public async Task ClosingPutWithoutDigest_Returns400DigestInvalid()
    {
        var location = await StartUploadAsync(Repo);
        using var put = await SendAsync(HttpMethod.Put, location, [1, 2, 3], "application/octet-stream");
        await AssertErrorAsync(put, HttpStatusCode.BadRequest, "DIGEST_INVALID");
    }

    [Theory]
    [InlineData(Repo)]
    [InlineData(DeepRepo)]
    public async Task Mount_FromRepositoryHoldingTheBlob_Returns201(string repository)
    {
        var content = Oci.RandomBytes(2048);
        var digest = await PushBlobAsync("source/repo", content);
        using var post = await SendAsync(HttpMethod.Post, $"/v2/{repository}/blobs/uploads/?mount={digest}&from=source/repo", [], null);
        AssertStatus(HttpStatusCode.Created, post);
        Assert.Equal($"/v2/{repository}/blobs/{digest}", post.Headers.Location!.OriginalString);
        Assert.Equal(digest, Header(post, "Docker-Content-Digest"));
        Assert.Equal(0, RawContentLength(post));
        using var get = await GetAsync($"/v2/{repository}/blobs/{digest}");
        AssertStatus(HttpStatusCode.OK, get);
        Assert.Equal(content, await get.Content.ReadAsByteArrayAsync());
        Assert.Equal(digest, await ReadTextAsync(StoragePaths.LayerLink(repository, D(digest))));
    }

    [Theory]
    [InlineData("from=other/repo")]
    [InlineData("from=no/such/repo")]
    [InlineData("from=Not_A_Name")]
    [InlineData("")]
    public async Task Mount_WhenTheBlobIsNotInFrom_FallsBackTo202Upload(string from)
    {
        var content = Oci.RandomBytes(1500);
        var digest = await PushBlobAsync(Repo, content);
        await PushBlobAsync("other/repo", Oci.RandomBytes(10));
        using var post = await SendAsync(HttpMethod.Post, $"/v2/target/repo/blobs/uploads/?mount={digest}&{from}", [], null);
        AssertStatus(HttpStatusCode.Accepted, post);
        var location = post.Headers.Location!.OriginalString;
        Assert.Matches(UploadLocation(), location);
        using (var get = await GetAsync($"/v2/target/repo/blobs/{digest}"))
        {
            AssertStatus(HttpStatusCode.NotFound, get);
        }
        // The session that was opened instead is a real one.
        using var put = await SendAsync(HttpMethod.Put, WithDigest(location, digest), content, "application/octet-stream");
        AssertStatus(HttpStatusCode.Created, put);
    }

    [Fact]
    public async Task DigestMismatch_MonolithicPut_Returns400AndStoresNothing()
    {
        var content = Oci.RandomBytes(1000);
        var claimed = Oci.Sha256("something else"u8.ToArray());
        var location = await StartUploadAsync(Repo);
        var id = UploadLocation().Match(location).Groups["id"].Value;
        using var put = await SendAsync(HttpMethod.Put, WithDigest(location, claimed), content, "application/octet-stream");
        await AssertErrorAsync(put, HttpStatusCode.BadRequest, "DIGEST_INVALID");
        await AssertNothingStoredAsync(content, claimed);
        Assert.False(await ExistsAsync(StoragePaths.UploadDirectory(Repo, id)));
    }

    [Fact]
    public async Task DigestMismatch_SinglePost_Returns400AndStoresNothing()
    {
        var content = Oci.RandomBytes(1000);
        var claimed = Oci.Sha256("something else"u8.ToArray());
        using var post = await SendAsync(HttpMethod.Post, $"/v2/{Repo}/blobs/uploads/?digest={claimed}", content, "application/octet-stream");
        await AssertErrorAsync(post, HttpStatusCode.BadRequest, "DIGEST_INVALID");
        await AssertNothingStoredAsync(content, claimed);
    }

    [Fact]
    public async Task DigestMismatch_Chunked_Returns400AndStoresNothing()
    {
        var content = Oci.RandomBytes(2000);
        var claimed = Oci.Sha256(content[..1000]);
        var location = await StartUploadAsync(Repo);
        using (await SendAsync(HttpMethod.Patch, location, content, "application/octet-stream", ("Content-Range", "0-1999")))
        {
        }
        using var put = await SendAsync(HttpMethod.Put, WithDigest(location, claimed));
        await AssertErrorAsync(put, HttpStatusCode.BadRequest, "DIGEST_INVALID");
        await AssertNothingStoredAsync(content, claimed);
    }

    private async Task AssertNothingStoredAsync(byte[] content, string claimed)
    {
        foreach (var digest in new[] { Oci.Sha256(content), claimed })
        {
            Assert.False(await ExistsAsync(StoragePaths.BlobData(D(digest))), "blob data stored for " + digest);
            Assert.False(await ExistsAsync(StoragePaths.LayerLinkDirectory(Repo, D(digest))), "layer link stored for " + digest);
            using var head = await HeadAsync($"/v2/{Repo}/blobs/{digest}");
            AssertStatus(HttpStatusCode.NotFound, head);
        }
    }

    [Theory]
    [InlineData(Repo)]
    [InlineData(DeepRepo)]
    public async Task PutManifest_Returns201WithLocationAndDigest(string repository)
    {
        var config = Oci.Config();
        var layer = Oci.RandomBytes(100);
        await PushBlobAsync(repository, config);
        await PushBlobAsync(repository, layer);
        var manifest = Oci.Manifest(Oci.Describe(Oci.ImageConfig, config), [Oci.Describe(Oci.Layer, layer)]);
        var digest = Oci.Sha256(manifest);
        using var put = await PutManifestAsync(repository, "1.0.0-rc_1", manifest);
        AssertStatus(HttpStatusCode.Created, put);
        Assert.Equal($"/v2/{repository}/manifests/{digest}", put.Headers.Location!.OriginalString);
        Assert.Equal(digest, Header(put, "Docker-Content-Digest"));
        Assert.Null(Header(put, "OCI-Subject"));

        using var byDigest = await PutManifestAsync(repository, digest, manifest);
        AssertStatus(HttpStatusCode.Created, byDigest);
        Assert.Equal($"/v2/{repository}/manifests/{digest}", byDigest.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task PutManifest_Retag_MovesTheTag()
    {
        var first = await PushImageAsync(Repo, "moving");
        var second = await PushImageAsync(Repo, "moving");
        using var get = await GetAsync($"/v2/{Repo}/manifests/moving");
        Assert.Equal(second.Digest, Header(get, "Docker-Content-Digest"));
        using var old = await GetAsync($"/v2/{Repo}/manifests/{first.Digest}");
        AssertStatus(HttpStatusCode.OK, old);
    }

    [Fact]
    public async Task PutManifest_DockerSchema2_IsAccepted()
    {
        var config = Oci.Config();
        await PushBlobAsync(Repo, config);
        var manifest = Oci.Manifest(Oci.Describe("application/vnd.docker.container.image.v1+json", config), [], mediaType: Oci.DockerManifest);
        using var put = await PutManifestAsync(Repo, "docker", manifest, Oci.DockerManifest);
        AssertStatus(HttpStatusCode.Created, put);
        using var get = await GetAsync($"/v2/{Repo}/manifests/docker", ("Accept", Oci.DockerManifest));
        Assert.Equal(Oci.DockerManifest, get.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task PutManifest_MissingBlobs_Returns400ManifestBlobUnknown_AndWritesNothing()
    {
        var config = Oci.Config();
        await PushBlobAsync(Repo, config);
        var missingLayer = Oci.Describe(Oci.Layer, Oci.RandomBytes(10));
        var manifest = Oci.Manifest(Oci.Describe(Oci.ImageConfig, config), [missingLayer]);
        using var put = await PutManifestAsync(Repo, "broken", manifest);
        var detail = await AssertErrorAsync(put, HttpStatusCode.BadRequest, "MANIFEST_BLOB_UNKNOWN");
        Assert.Contains(missingLayer.Digest, detail.ToString());
        Assert.False(await ExistsAsync(StoragePaths.RevisionDirectory(Repo, D(Oci.Sha256(manifest)))));
        Assert.False(await ExistsAsync(StoragePaths.TagDirectory(Repo, "broken")));
        Assert.False(await ExistsAsync(StoragePaths.BlobData(D(Oci.Sha256(manifest)))));
    }

    [Fact]
    public async Task PutManifest_MissingConfig_Returns400ManifestBlobUnknown()
    {
        var layer = Oci.RandomBytes(10);
        await PushBlobAsync(Repo, layer);
        var manifest = Oci.Manifest(Oci.Describe(Oci.ImageConfig, Oci.Config()), [Oci.Describe(Oci.Layer, layer)]);
        using var put = await PutManifestAsync(Repo, "noconfig", manifest);
        await AssertErrorAsync(put, HttpStatusCode.BadRequest, "MANIFEST_BLOB_UNKNOWN");
    }

    [Fact]
    public async Task PutManifest_DigestInUrlDoesNotMatchBody_Returns400DigestInvalid_AndWritesNothing()
    {
        var image = await PushImageAsync(Repo, tag: null);
        var other = Oci.Manifest(image.Config, [image.Layer], annotations: new Dictionary<string, string> { ["x"] = "y" });
        using var put = await PutManifestAsync(Repo, image.Digest, other);
        await AssertErrorAsync(put, HttpStatusCode.BadRequest, "DIGEST_INVALID");
        Assert.False(await ExistsAsync(StoragePaths.BlobData(D(Oci.Sha256(other)))));
        Assert.False(await ExistsAsync(StoragePaths.RevisionDirectory(Repo, D(Oci.Sha256(other)))));
    }

    [Fact]
    public async Task PutManifest_TooLarge_Returns413()
    {
        var image = await PushImageAsync(Repo, tag: null);
        var annotations = new Dictionary<string, string> { ["padding"] = new string('x', 4 * 1024 * 1024) };
        var manifest = Oci.Manifest(image.Config, [image.Layer], annotations: annotations);
        using var put = await PutManifestAsync(Repo, "huge", manifest);
        AssertStatus(HttpStatusCode.RequestEntityTooLarge, put);
        var detail = await AssertErrorAsync(put, HttpStatusCode.RequestEntityTooLarge, "SIZE_INVALID");
        Assert.False(await ExistsAsync(StoragePaths.TagDirectory(Repo, "huge")));

        // Without a Content-Length (chunked transfer) the limit still holds.
        var request = new HttpRequestMessage(HttpMethod.Put, $"/v2/{Repo}/manifests/huge") { Content = new StreamContent(new MemoryStream(manifest)) };
        request.Content.Headers.ContentType = new(Oci.ImageManifest);
        request.Headers.TransferEncodingChunked = true;
        using var streamed = await Client.SendAsync(request);
        await AssertErrorAsync(streamed, HttpStatusCode.RequestEntityTooLarge, "SIZE_INVALID");
    }

    [Theory]
    [InlineData(Oci.DockerSchema1Signed)]
    [InlineData(Oci.DockerSchema1)]
    [InlineData(null)]
    public async Task PutManifest_Schema1_Returns400ManifestInvalid(string? contentType)
    {
        using var put = await PutManifestAsync(Repo, "old", Oci.Schema1(Repo, "old"), contentType);
        await AssertErrorAsync(put, HttpStatusCode.BadRequest, "MANIFEST_INVALID");
        Assert.False(await ExistsAsync(StoragePaths.TagDirectory(Repo, "old")));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("{\"schemaVersion\":3,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"a/b\",\"digest\":\"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\",\"size\":0},\"layers\":[]}")]
    [InlineData("{\"schemaVersion\":2.5,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"a/b\",\"digest\":\"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\",\"size\":0},\"layers\":[]}")]
    [InlineData("{\"schemaVersion\":99999999999,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"a/b\",\"digest\":\"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\",\"size\":0},\"layers\":[]}")]
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"a/b\",\"digest\":\"sha256:nothex\",\"size\":0},\"layers\":[]}")]
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"a/b\",\"digest\":\"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\",\"size\":-1},\"layers\":[]}")]
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"layers\":[]}")]
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\"}")]
    public async Task PutManifest_Malformed_Returns400ManifestInvalid(string body)
    {
        using var put = await PutManifestAsync(Repo, "bad", Encoding.UTF8.GetBytes(body));
        await AssertErrorAsync(put, HttpStatusCode.BadRequest, "MANIFEST_INVALID");
    }

    [Fact]
    public async Task PutManifest_MediaTypeDiffersFromContentType_Returns400ManifestInvalid()
    {
        var image = await PushImageAsync(Repo, tag: null);
        using var put = await PutManifestAsync(Repo, "mismatch", image.Manifest, Oci.DockerManifest);
        await AssertErrorAsync(put, HttpStatusCode.BadRequest, "MANIFEST_INVALID");
    }

    [Fact]
    public async Task PutManifest_WithSubject_AnswersOciSubject_EvenWhenTheSubjectIsAbsent()
    {
        var subject = await PushImageAsync(Repo, "base");
        var subjectDesc = new Desc(Oci.ImageManifest, subject.Digest, subject.Manifest.Length);
        var signature = await PushImageAsync(Repo, tag: null, subject: subjectDesc, artifactType: "application/vnd.example.signature");
        Assert.NotNull(signature);
        using (var again = await PutManifestAsync(Repo, signature.Digest, signature.Manifest))
        {
            Assert.Equal(subject.Digest, Header(again, "OCI-Subject"));
        }

        // The spec: a manifest whose subject does not exist yet MUST be accepted.
        var absent = new Desc(Oci.ImageManifest, Oci.Sha256("not pushed"u8.ToArray()), 10);
        var early = Oci.Manifest(signature.Config, [signature.Layer], absent, "application/vnd.example.sbom");
        using var put = await PutManifestAsync(Repo, Oci.Sha256(early), early);
        AssertStatus(HttpStatusCode.Created, put);
        Assert.Equal(absent.Digest, Header(put, "OCI-Subject"));
    }

    [Fact]
    public async Task PutIndex_ChildrenPresent_Returns201()
    {
        var a = await PushImageAsync(DeepRepo, tag: null);
        var b = await PushImageAsync(DeepRepo, tag: null);
        var index = Oci.Index([new Desc(Oci.ImageManifest, a.Digest, a.Manifest.Length), new Desc(Oci.ImageManifest, b.Digest, b.Manifest.Length)]);
        using var put = await PutManifestAsync(DeepRepo, "multi", index, Oci.ImageIndex);
        AssertStatus(HttpStatusCode.Created, put);
        Assert.Equal(Oci.Sha256(index), Header(put, "Docker-Content-Digest"));
        Assert.Equal($"/v2/{DeepRepo}/manifests/{Oci.Sha256(index)}", put.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task PutIndex_ChildMissing_Returns400ManifestBlobUnknown()
    {
        var a = await PushImageAsync(Repo, tag: null);
        var missing = new Desc(Oci.ImageManifest, Oci.Sha256("missing child"u8.ToArray()), 100);
        var index = Oci.Index([new Desc(Oci.ImageManifest, a.Digest, a.Manifest.Length), missing]);
        using var put = await PutManifestAsync(Repo, "multi", index, Oci.ImageIndex);
        var detail = await AssertErrorAsync(put, HttpStatusCode.BadRequest, "MANIFEST_BLOB_UNKNOWN");
        Assert.Contains(missing.Digest, detail.ToString());
        Assert.DoesNotContain(a.Digest, detail.ToString());
        Assert.False(await ExistsAsync(StoragePaths.TagDirectory(Repo, "multi")));
    }

    [Fact]
    public async Task PutIndex_ChildOnlyInAnotherRepository_Returns400ManifestBlobUnknown()
    {
        var a = await PushImageAsync("other/repo", tag: null);
        var index = Oci.Index([new Desc(Oci.ImageManifest, a.Digest, a.Manifest.Length)]);
        using var put = await PutManifestAsync(Repo, "multi", index, Oci.ImageIndex);
        await AssertErrorAsync(put, HttpStatusCode.BadRequest, "MANIFEST_BLOB_UNKNOWN");
    }
}

public sealed class PushTestsInMemory : PushTests<InMemoryDriverFactory>;

public sealed class PushTestsFileSystem : PushTests<FileSystemDriverFactory>;
