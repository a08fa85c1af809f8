using System.Net;
using System.Text.Json;
using Berth.Storage.Layout;

namespace Berth.Api.Tests;

/// <summary>
/// Storage that older software (or a crash in it) left broken, written straight into the storage:
/// GET/HEAD of such a tag answers 404 MANIFEST_UNKNOWN with a detail naming the failure class, and
/// DELETE of the tag removes it whatever its state.
/// </summary>
public abstract class BrokenStorageTests<TDriver> : RegistryTestBase<TDriver> where TDriver : IDriverFactory, new()
{
    private string CurrentLink(string tag) => $"/docker/registry/v2/repositories/{Repo}/_manifests/tags/{tag}/current/link";

    /// <summary>Every kind of broken tag at once, next to a healthy one. Returns tag -> failure class.</summary>
    private async Task<Dictionary<string, string>> BreakTagsAsync()
    {
        await PushImageAsync(Repo, "healthy");

        await WriteRawAsync(CurrentLink("empty"), "");
        await WriteRawAsync(CurrentLink("garbage"), "this is not a digest\n");
        await WriteRawAsync(CurrentLink("dangling"), Oci.Sha256("no revision for this"u8.ToArray()));

        var lost = await PushImageAsync(Repo, "lost");
        await Storage.Inner.DeleteAsync(StoragePaths.BlobData(D(lost.Digest)));

        return new Dictionary<string, string>
        {
            ["empty"] = "tag-link-empty",
            ["garbage"] = "tag-link-invalid",
            ["dangling"] = "tag-revision-missing",
            ["lost"] = "manifest-blob-missing",
        };
    }

    [Fact]
    public async Task BrokenTags_Answer404ManifestUnknownNamingTheFailureClass()
    {
        var broken = await BreakTagsAsync();
        foreach (var (tag, failureClass) in broken)
        {
            using var get = await GetAsync($"/v2/{Repo}/manifests/{tag}");
            var detail = await AssertErrorAsync(get, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
            Assert.True(detail.ValueKind == JsonValueKind.Object, detail.ToString());
            Assert.Equal(failureClass, detail.GetProperty("class").GetString());
            Assert.Equal(tag, detail.GetProperty("reference").GetString());

            using var head = await HeadAsync($"/v2/{Repo}/manifests/{tag}");
            AssertStatus(HttpStatusCode.NotFound, head);
        }
        using var healthy = await GetAsync($"/v2/{Repo}/manifests/healthy");
        AssertStatus(HttpStatusCode.OK, healthy);
    }

    [Fact]
    public async Task RevisionWithoutBlobData_ByDigest_Answers404NamingTheFailureClass()
    {
        var image = await PushImageAsync(Repo, tag: null);
        await Storage.Inner.DeleteAsync(StoragePaths.BlobData(D(image.Digest)));
        using var get = await GetAsync($"/v2/{Repo}/manifests/{image.Digest}");
        var detail = await AssertErrorAsync(get, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        Assert.Equal("manifest-blob-missing", detail.GetProperty("class").GetString());
    }

    [Fact]
    public async Task TagsList_StillAnswers_WithBrokenTags()
    {
        var broken = await BreakTagsAsync();
        using var list = await GetAsync($"/v2/{Repo}/tags/list");
        AssertStatus(HttpStatusCode.OK, list);
        var tags = (await ReadJsonAsync(list)).GetProperty("tags").EnumerateArray().Select(t => t.GetString()).ToArray();
        Assert.Contains("healthy", tags);
        Assert.All(broken.Keys, t => Assert.Contains(t, tags));
    }

    [Fact]
    public async Task DeleteBrokenTag_Returns202_WhileOtherTagsAreBrokenToo()
    {
        var broken = await BreakTagsAsync();
        var remaining = broken.Keys.ToHashSet();
        foreach (var tag in broken.Keys)
        {
            using (var delete = await DeleteAsync($"/v2/{Repo}/manifests/{tag}"))
            {
                AssertStatus(HttpStatusCode.Accepted, delete);
            }
            remaining.Remove(tag);
            Assert.False(await ExistsAsync(StoragePaths.TagDirectory(Repo, tag)));
            using (var get = await GetAsync($"/v2/{Repo}/manifests/{tag}"))
            {
                var detail = await AssertErrorAsync(get, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
                Assert.False(detail.TryGetProperty("class", out _), "a deleted tag is plainly unknown, not broken: " + detail);
            }
            // The tags not yet deleted are still reported as broken, not as something else.
            foreach (var other in remaining)
            {
                using var get = await GetAsync($"/v2/{Repo}/manifests/{other}");
                var detail = await AssertErrorAsync(get, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
                Assert.Equal(broken[other], detail.GetProperty("class").GetString());
            }
        }
        using var list = await GetAsync($"/v2/{Repo}/tags/list");
        Assert.Equal(["healthy"], (await ReadJsonAsync(list)).GetProperty("tags").EnumerateArray().Select(t => t.GetString()!).ToArray());
        using var healthy = await GetAsync($"/v2/{Repo}/manifests/healthy");
        AssertStatus(HttpStatusCode.OK, healthy);
    }

    [Fact]
    public async Task RepushingABrokenTag_HealsIt()
    {
        await BreakTagsAsync();
        var image = await PushImageAsync(Repo, "garbage");
        using var get = await GetAsync($"/v2/{Repo}/manifests/garbage");
        AssertStatus(HttpStatusCode.OK, get);
        Assert.Equal(image.Digest, Header(get, "Docker-Content-Digest"));
    }

    [Fact]
    public async Task LinkWithTrailingNewline_WrittenByOtherTools_IsRead()
    {
        var image = await PushImageAsync(Repo, tag: null);
        await WriteRawAsync(CurrentLink("newline"), image.Digest + "\n");
        using var get = await GetAsync($"/v2/{Repo}/manifests/newline");
        AssertStatus(HttpStatusCode.OK, get);
        Assert.Equal(image.Digest, Header(get, "Docker-Content-Digest"));
    }

    [Fact]
    public async Task LayerLinkWithoutBlobData_Answers404BlobUnknown()
    {
        var image = await PushImageAsync(Repo);
        await Storage.Inner.DeleteAsync(StoragePaths.BlobData(D(image.Layer.Digest)));
        using var get = await GetAsync($"/v2/{Repo}/blobs/{image.Layer.Digest}");
        await AssertErrorAsync(get, HttpStatusCode.NotFound, "BLOB_UNKNOWN");
        using var head = await HeadAsync($"/v2/{Repo}/blobs/{image.Layer.Digest}");
        AssertStatus(HttpStatusCode.NotFound, head);
    }
}

public sealed class BrokenStorageTestsInMemory : BrokenStorageTests<InMemoryDriverFactory>;

public sealed class BrokenStorageTestsFileSystem : BrokenStorageTests<FileSystemDriverFactory>;
