using System.Net;
using System.Text.RegularExpressions;
using Berth.Core;
using Berth.Storage.Layout;

namespace Berth.Api.Tests;

/// <summary>The conformance suite's content management workflow: deleting tags, manifests, blobs and uploads.</summary>
public abstract class ManagementTests<TDriver> : RegistryTestBase<TDriver> where TDriver : IDriverFactory, new()
{
    private async Task<string[]> TagsAsync(string repository)
    {
        using var response = await GetAsync($"/v2/{repository}/tags/list");
        return [.. (await ReadJsonAsync(response)).GetProperty("tags").EnumerateArray().Select(t => t.GetString()!)];
    }

    [Theory]
    [InlineData(Repo)]
    [InlineData(DeepRepo)]
    public async Task DeleteByTag_RemovesOnlyThatTag(string repository)
    {
        var image = await PushImageAsync(repository, "one");
        using (await PutManifestAsync(repository, "two", image.Manifest))
        {
        }
        using (var delete = await DeleteAsync($"/v2/{repository}/manifests/one"))
        {
            AssertStatus(HttpStatusCode.Accepted, delete);
            Assert.Equal(0, RawContentLength(delete));
        }
        using (var gone = await GetAsync($"/v2/{repository}/manifests/one"))
        {
            await AssertErrorAsync(gone, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        }
        using (var other = await GetAsync($"/v2/{repository}/manifests/two"))
        {
            AssertStatus(HttpStatusCode.OK, other);
        }
        using (var byDigest = await GetAsync($"/v2/{repository}/manifests/{image.Digest}"))
        {
            AssertStatus(HttpStatusCode.OK, byDigest);
        }
        Assert.Equal(["two"], await TagsAsync(repository));
        using var again = await DeleteAsync($"/v2/{repository}/manifests/one");
        await AssertErrorAsync(again, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
    }

    [Theory]
    [InlineData(Repo)]
    [InlineData(DeepRepo)]
    public async Task DeleteByDigest_RemovesTheRevisionAndEveryTagPointingAtIt(string repository)
    {
        var image = await PushImageAsync(repository, "one");
        using (await PutManifestAsync(repository, "two", image.Manifest))
        {
        }
        var other = await PushImageAsync(repository, "three");

        using (var delete = await DeleteAsync($"/v2/{repository}/manifests/{image.Digest}"))
        {
            AssertStatus(HttpStatusCode.Accepted, delete);
        }
        foreach (var reference in new[] { image.Digest, "one", "two" })
        {
            using var get = await GetAsync($"/v2/{repository}/manifests/{reference}");
            await AssertErrorAsync(get, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
            using var head = await HeadAsync($"/v2/{repository}/manifests/{reference}");
            AssertStatus(HttpStatusCode.NotFound, head);
        }
        using (var kept = await GetAsync($"/v2/{repository}/manifests/three"))
        {
            Assert.Equal(other.Digest, Header(kept, "Docker-Content-Digest"));
        }
        Assert.Equal(["three"], await TagsAsync(repository));
        Assert.False(await ExistsAsync(StoragePaths.RevisionDirectory(repository, D(image.Digest))));

        using var again = await DeleteAsync($"/v2/{repository}/manifests/{image.Digest}");
        await AssertErrorAsync(again, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
    }

    [Fact]
    public async Task DeleteManifest_UnknownRepository_Returns404()
    {
        using var byTag = await DeleteAsync("/v2/no/such/repo/manifests/latest");
        await AssertErrorAsync(byTag, HttpStatusCode.NotFound, "NAME_UNKNOWN");
        using var byDigest = await DeleteAsync($"/v2/no/such/repo/manifests/{Oci.Sha256([1])}");
        await AssertErrorAsync(byDigest, HttpStatusCode.NotFound, "NAME_UNKNOWN");
    }

    [Theory]
    [InlineData(Repo)]
    [InlineData(DeepRepo)]
    public async Task DeleteBlob_Returns202_ThenTheBlobIs404(string repository)
    {
        var image = await PushImageAsync(repository);
        var url = $"/v2/{repository}/blobs/{image.Layer.Digest}";
        using (var delete = await DeleteAsync(url))
        {
            AssertStatus(HttpStatusCode.Accepted, delete);
            Assert.Equal(image.Layer.Digest, Header(delete, "Docker-Content-Digest"));
            Assert.Equal(0, RawContentLength(delete));
        }
        using (var get = await GetAsync(url))
        {
            await AssertErrorAsync(get, HttpStatusCode.NotFound, "BLOB_UNKNOWN");
        }
        using (var head = await HeadAsync(url))
        {
            AssertStatus(HttpStatusCode.NotFound, head);
        }
        using var again = await DeleteAsync(url);
        await AssertErrorAsync(again, HttpStatusCode.NotFound, "BLOB_UNKNOWN");
    }

    [Fact]
    public async Task DeleteBlob_InOneRepository_LeavesItInAnother()
    {
        var content = Oci.RandomBytes(100);
        var digest = await PushBlobAsync(Repo, content);
        await PushBlobAsync(DeepRepo, content);
        using (var delete = await DeleteAsync($"/v2/{Repo}/blobs/{digest}"))
        {
            AssertStatus(HttpStatusCode.Accepted, delete);
        }
        using var get = await GetAsync($"/v2/{DeepRepo}/blobs/{digest}");
        Assert.Equal(content, await get.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData(Repo)]
    [InlineData(DeepRepo)]
    public async Task DeleteUpload_Returns204_ThenTheSessionIs404(string repository)
    {
        var location = await StartUploadAsync(repository);
        using (await SendAsync(HttpMethod.Patch, location, Oci.RandomBytes(100), "application/octet-stream", ("Content-Range", "0-99")))
        {
        }
        using (var delete = await DeleteAsync(location))
        {
            AssertStatus(HttpStatusCode.NoContent, delete);
        }
        using (var status = await GetAsync(location))
        {
            await AssertErrorAsync(status, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
        }
        using (var patch = await SendAsync(HttpMethod.Patch, location, [1], "application/octet-stream"))
        {
            await AssertErrorAsync(patch, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
        }
        using var again = await DeleteAsync(location);
        await AssertErrorAsync(again, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
        var id = Regex.Match(location, "[0-9a-f-]{36}$").Value;
        Assert.False(await ExistsAsync(StoragePaths.UploadDirectory(repository, id)));
    }
}

/// <summary>With storage.delete.enabled: false, content deletes answer 405 UNSUPPORTED and change nothing.</summary>
public abstract class DeletesDisabledTests<TDriver> : RegistryTestBase<TDriver> where TDriver : IDriverFactory, new()
{
    protected override RegistryOptions Options => new() { DeleteEnabled = false };

    [Fact]
    public async Task Deletes_Return405Unsupported_AndKeepTheContent()
    {
        var image = await PushImageAsync(Repo, "keep");
        foreach (var url in new[] { $"/v2/{Repo}/manifests/keep", $"/v2/{Repo}/manifests/{image.Digest}", $"/v2/{Repo}/blobs/{image.Layer.Digest}" })
        {
            using var delete = await DeleteAsync(url);
            await AssertErrorAsync(delete, HttpStatusCode.MethodNotAllowed, "UNSUPPORTED");
        }
        using (var tag = await GetAsync($"/v2/{Repo}/manifests/keep"))
        {
            AssertStatus(HttpStatusCode.OK, tag);
        }
        using (var blob = await HeadAsync($"/v2/{Repo}/blobs/{image.Layer.Digest}"))
        {
            AssertStatus(HttpStatusCode.OK, blob);
        }
    }

    [Fact]
    public async Task CancellingAnUpload_StillWorks()
    {
        var location = await StartUploadAsync(Repo);
        using var delete = await DeleteAsync(location);
        AssertStatus(HttpStatusCode.NoContent, delete);
    }
}

public sealed class ManagementTestsInMemory : ManagementTests<InMemoryDriverFactory>;

public sealed class ManagementTestsFileSystem : ManagementTests<FileSystemDriverFactory>;

public sealed class DeletesDisabledTestsInMemory : DeletesDisabledTests<InMemoryDriverFactory>;

public sealed class DeletesDisabledTestsFileSystem : DeletesDisabledTests<FileSystemDriverFactory>;
