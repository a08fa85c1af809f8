using Berth.Storage.Layout;
using System.Text;
using System.Text.RegularExpressions;

namespace Berth.Api.Tests;

/// <summary>
/// What a push leaves in storage is CNCF Distribution's layout, byte for byte, and a manifest PUT
/// writes in the crash-safe order: blob data, revision link, current link, and the tag's history (index)
/// link after it.
/// Paths are spelled out here rather than taken from StoragePaths, so that the tests check that class too.
/// </summary>
public abstract class StorageLayoutTests<TDriver> : RegistryTestBase<TDriver> where TDriver : IDriverFactory, new()
{
    private const string Root = "/docker/registry/v2";

    private static string Blob(string digest) => $"{Root}/blobs/sha256/{Oci.Hex(digest)[..2]}/{Oci.Hex(digest)}/data";

    private static string Repository(string name) => $"{Root}/repositories/{name}";

    private async Task<SortedSet<string>> AllObjectsAsync()
    {
        var paths = new SortedSet<string>(StringComparer.Ordinal);
        await foreach (var entry in Storage.Inner.WalkAsync("/"))
        {
            // Berth's own area (GC journal entries a push announces itself in) is not part of Distribution's layout.
            if (!entry.Path.StartsWith(StoragePaths.BerthRoot + "/", StringComparison.Ordinal))
            {
                paths.Add(entry.Path);
            }
        }
        return paths;
    }

    [Theory]
    [InlineData(Repo)]
    [InlineData(DeepRepo)]
    public async Task Push_WritesDistributionLayout(string repository)
    {
        var image = await PushImageAsync(repository, "v1");
        var repo = Repository(repository);
        var expected = new SortedSet<string>(StringComparer.Ordinal)
        {
            Blob(image.Config.Digest),
            Blob(image.Layer.Digest),
            Blob(image.Digest),
            $"{repo}/_layers/sha256/{Oci.Hex(image.Config.Digest)}/link",
            $"{repo}/_layers/sha256/{Oci.Hex(image.Layer.Digest)}/link",
            $"{repo}/_manifests/revisions/sha256/{Oci.Hex(image.Digest)}/link",
            $"{repo}/_manifests/tags/v1/current/link",
            $"{repo}/_manifests/tags/v1/index/sha256/{Oci.Hex(image.Digest)}/link",
        };
        Assert.Equal(expected, await AllObjectsAsync());

        Assert.Equal(image.LayerContent, await Storage.Inner.GetContentAsync(Blob(image.Layer.Digest)));
        Assert.Equal(image.Manifest, await Storage.Inner.GetContentAsync(Blob(image.Digest)));
        await AssertLinkAsync($"{repo}/_layers/sha256/{Oci.Hex(image.Config.Digest)}/link", image.Config.Digest);
        await AssertLinkAsync($"{repo}/_layers/sha256/{Oci.Hex(image.Layer.Digest)}/link", image.Layer.Digest);
        await AssertLinkAsync($"{repo}/_manifests/revisions/sha256/{Oci.Hex(image.Digest)}/link", image.Digest);
        await AssertLinkAsync($"{repo}/_manifests/tags/v1/current/link", image.Digest);
        await AssertLinkAsync($"{repo}/_manifests/tags/v1/index/sha256/{Oci.Hex(image.Digest)}/link", image.Digest);

        if (RootDirectory is { } root)
        {
            // The filesystem driver keeps the layout under the root directory, as Distribution's does.
            foreach (var path in expected)
            {
                Assert.True(File.Exists(root + path), root + path);
            }
            Assert.Equal(Encoding.ASCII.GetBytes(image.Digest), File.ReadAllBytes($"{root}{repo}/_manifests/tags/v1/current/link"));
        }
    }

    private async Task AssertLinkAsync(string path, string digest)
    {
        var bytes = await Storage.Inner.GetContentAsync(path);
        Assert.Equal(Encoding.ASCII.GetBytes(digest), bytes);
        Assert.DoesNotContain((byte)'\n', bytes);
    }

    [Fact]
    public async Task Retag_AddsAnIndexLinkPerDigest()
    {
        var first = await PushImageAsync(Repo, "v1");
        var second = await PushImageAsync(Repo, "v1");
        var tag = $"{Repository(Repo)}/_manifests/tags/v1";
        await AssertLinkAsync($"{tag}/current/link", second.Digest);
        await AssertLinkAsync($"{tag}/index/sha256/{Oci.Hex(first.Digest)}/link", first.Digest);
        await AssertLinkAsync($"{tag}/index/sha256/{Oci.Hex(second.Digest)}/link", second.Digest);
    }

    [Fact]
    public async Task UploadSession_LivesUnderUploads_AndIsRemovedOnCommit()
    {
        var location = await StartUploadAsync(Repo);
        var id = Regex.Match(location, "[0-9a-f-]{36}$").Value;
        Assert.Contains($"{Repository(Repo)}/_uploads/{id}/startedat", await AllObjectsAsync());
        var content = Oci.RandomBytes(100);
        using (await SendAsync(HttpMethod.Put, WithDigest(location, Oci.Sha256(content)), content, "application/octet-stream"))
        {
        }
        Assert.DoesNotContain(await AllObjectsAsync(), p => p.Contains("/_uploads/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ManifestPut_WritesBlobDataAndRevision_ThenCurrent_ThenTagIndex()
    {
        var config = Oci.Config();
        var layer = Oci.RandomBytes(64);
        await PushBlobAsync(Repo, config);
        await PushBlobAsync(Repo, layer);
        var manifest = Oci.Manifest(Oci.Describe(Oci.ImageConfig, config), [Oci.Describe(Oci.Layer, layer)]);
        var digest = Oci.Sha256(manifest);
        var repo = Repository(Repo);

        Storage.Clear();
        using (var put = await PutManifestAsync(Repo, "v1", manifest))
        {
            AssertStatus(System.Net.HttpStatusCode.Created, put);
        }
        // The data and the revision link are written at once (neither makes anything reachable by tag); both
        // are done before the tag's current link, which comes before the tag's history link.
        var first = Storage.Operations.Select(o => o.ToString()).ToArray();
        Assert.Equal(
            new[] { $"put {Blob(digest)}", $"put {repo}/_manifests/revisions/sha256/{Oci.Hex(digest)}/link" }.Order(),
            first[..2].Order());
        Assert.Equal(NewTag(repo, "v1", digest), first[2..]);

        // Pushed again under another tag: the data is there already; the revision still comes before the tag.
        Storage.Clear();
        using (await PutManifestAsync(Repo, "v2", manifest))
        {
        }
        var operations = Storage.Operations.Select(o => o.ToString()).ToArray();
        Assert.DoesNotContain($"put {Blob(digest)}", operations);
        Assert.Equal([$"put {repo}/_manifests/revisions/sha256/{Oci.Hex(digest)}/link", .. NewTag(repo, "v2", digest)], operations);

        // An existing tag moved to another manifest, after the new manifest's data and revision: its current link is
        // replaced and the history link added, at once.
        var other = Oci.Manifest(Oci.Describe(Oci.ImageConfig, config), []);
        var otherDigest = Oci.Sha256(other);
        Storage.Clear();
        using (await PutManifestAsync(Repo, "v1", other))
        {
        }
        var moved = Storage.Operations.Select(o => o.ToString()).ToArray();
        Assert.Equal(
            new[] { $"put {Blob(otherDigest)}", $"put {repo}/_manifests/revisions/sha256/{Oci.Hex(otherDigest)}/link" }.Order(),
            moved[..2].Order());
        Assert.Equal(
            new[] { $"put {repo}/_manifests/tags/v1/current/link", $"put {repo}/_manifests/tags/v1/index/sha256/{Oci.Hex(otherDigest)}/link" }.Order(),
            moved[2..].Order());
        Assert.Equal(otherDigest, await ReadTextAsync($"{repo}/_manifests/tags/v1/current/link"));
        Assert.True(await ExistsAsync($"{repo}/_manifests/tags/v1/index/sha256/{Oci.Hex(digest)}/link"));
    }

    /// <summary>How a new tag is written: on the filesystem its folder appears at once with both links; where the
    /// driver has no directories, the current link first, then the history link.</summary>
    private string[] NewTag(string repo, string tag, string digest) => Storage.Inner is IAtomicDirectoryCreator
        ? [$"create {repo}/_manifests/tags/{tag} [current/link, index/sha256/{Oci.Hex(digest)}/link]"]
        : [$"put {repo}/_manifests/tags/{tag}/current/link", $"put {repo}/_manifests/tags/{tag}/index/sha256/{Oci.Hex(digest)}/link"];

    [Fact]
    public async Task ManifestPut_WithSubject_WritesTheReferrerLinkBeforeTheTag()
    {
        var subject = await PushImageAsync(Repo, "base");
        var config = Oci.Config();
        await PushBlobAsync(Repo, config);
        var manifest = Oci.Manifest(Oci.Describe(Oci.ImageConfig, config), [], new Desc(Oci.ImageManifest, subject.Digest, subject.Manifest.Length), "application/vnd.example.sig");
        var digest = Oci.Sha256(manifest);
        var repo = Repository(Repo);
        Storage.Clear();
        using (await PutManifestAsync(Repo, "sig", manifest))
        {
        }
        var operations = Storage.Operations.Select(o => o.ToString()).ToArray();
        Assert.Equal(
            new[]
            {
                $"put {Blob(digest)}",
                $"put {repo}/_manifests/revisions/sha256/{Oci.Hex(digest)}/link",
                $"put {repo}/_referrers/sha256/{Oci.Hex(subject.Digest)}/sha256/{Oci.Hex(digest)}/link",
            }.Order(),
            operations[..3].Order());
        Assert.Equal(NewTag(repo, "sig", digest), operations[3..]);
    }

    [Fact]
    public async Task BlobUpload_PublishesDataThenLinkThenRemovesTheSession()
    {
        var content = Oci.RandomBytes(300);
        var digest = Oci.Sha256(content);
        var location = await StartUploadAsync(Repo);
        var id = Regex.Match(location, "[0-9a-f-]{36}$").Value;
        var repo = Repository(Repo);
        Storage.Clear();
        using (await SendAsync(HttpMethod.Put, WithDigest(location, digest), content, "application/octet-stream"))
        {
        }
        Assert.Equal(
            [
                $"commit~ {repo}/_uploads/{id}/data",
                $"move {repo}/_uploads/{id}/data -> {Blob(digest)}",
                $"put {repo}/_layers/sha256/{Oci.Hex(digest)}/link",
                $"delete~ {repo}/_uploads/{id}",
            ],
            Storage.Operations.Select(o => o.ToString()));
    }

    [Fact]
    public async Task FailedManifestPut_WritesNothing()
    {
        var manifest = Oci.Manifest(Oci.Describe(Oci.ImageConfig, Oci.Config()), []);
        Storage.Clear();
        using (await PutManifestAsync(Repo, "v1", manifest))
        {
        }
        Assert.Empty(Storage.Operations);
    }
}

public sealed class StorageLayoutTestsInMemory : StorageLayoutTests<InMemoryDriverFactory>;

public sealed class StorageLayoutTestsFileSystem : StorageLayoutTests<FileSystemDriverFactory>;
