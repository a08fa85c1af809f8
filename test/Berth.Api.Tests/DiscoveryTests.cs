using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Berth.Api.Tests;

/// <summary>The conformance suite's content discovery workflow: tags, catalog, referrers.</summary>
public abstract partial class DiscoveryTests<TDriver> : RegistryTestBase<TDriver> where TDriver : IDriverFactory, new()
{
    [GeneratedRegex("^<(?<url>[^>]+)>; rel=\"next\"$")]
    private static partial Regex NextLink();

    /// <summary>The spec: "lexical order (i.e. case-insensitive alphanumeric order)"; case alone decides ordinally.</summary>
    private static readonly string[] SortedTags = ["1.0", "_build", "Alpha", "alpha", "beta", "latest", "V1", "v10", "v2"];

    private async Task TagAllAsync(string repository, IEnumerable<string> tags)
    {
        var image = await PushImageAsync(repository, tag: null);
        foreach (var tag in tags)
        {
            using var put = await PutManifestAsync(repository, tag, image.Manifest);
            AssertStatus(HttpStatusCode.Created, put);
        }
    }

    private static async Task<string[]> ReadTagsAsync(HttpResponseMessage response, string repository)
    {
        AssertStatus(HttpStatusCode.OK, response);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var json = await ReadJsonAsync(response);
        Assert.Equal(repository, json.GetProperty("name").GetString());
        return [.. json.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!)];
    }

    [Theory]
    [InlineData(Repo)]
    [InlineData(DeepRepo)]
    public async Task TagsList_IsSortedLexically(string repository)
    {
        await TagAllAsync(repository, SortedTags.Reverse());
        using var response = await GetAsync($"/v2/{repository}/tags/list");
        Assert.Equal(SortedTags, await ReadTagsAsync(response, repository));
        Assert.Null(Header(response, "Link"));
    }

    [Fact]
    public async Task TagsList_RepositoryWithoutTags_IsEmpty()
    {
        await PushImageAsync(Repo, tag: null);
        using var response = await GetAsync($"/v2/{Repo}/tags/list");
        Assert.Empty(await ReadTagsAsync(response, Repo));
    }

    [Fact]
    public async Task TagsList_UnknownRepository_Returns404NameUnknown()
    {
        using var response = await GetAsync("/v2/no/such/repo/tags/list");
        await AssertErrorAsync(response, HttpStatusCode.NotFound, "NAME_UNKNOWN");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public async Task TagsList_Pagination_FollowsLinkHeaders(int n)
    {
        await TagAllAsync(DeepRepo, SortedTags);
        var collected = new List<string>();
        var url = $"/v2/{DeepRepo}/tags/list?n={n}";
        var pages = 0;
        while (url is not null)
        {
            using var response = await GetAsync(url);
            var tags = await ReadTagsAsync(response, DeepRepo);
            Assert.True(tags.Length <= n);
            collected.AddRange(tags);
            pages++;
            var link = Header(response, "Link");
            if (link is null)
            {
                url = null;
                continue;
            }
            // The spec: a page that is not the last holds exactly n results.
            Assert.Equal(n, tags.Length);
            var match = NextLink().Match(link);
            Assert.True(match.Success, link);
            url = match.Groups["url"].Value;
            Assert.StartsWith($"/v2/{DeepRepo}/tags/list?", url);
            Assert.Contains($"n={n}", url);
            Assert.Contains("last=" + Uri.EscapeDataString(tags[^1]), url);
            Assert.True(pages < 20);
        }
        Assert.Equal(SortedTags, collected);
        Assert.Equal((SortedTags.Length + n - 1) / n, pages);
    }

    [Fact]
    public async Task TagsList_NZero_IsEmptyWithoutLink()
    {
        await TagAllAsync(Repo, SortedTags);
        using var response = await GetAsync($"/v2/{Repo}/tags/list?n=0");
        Assert.Empty(await ReadTagsAsync(response, Repo));
        Assert.Null(Header(response, "Link"));
    }

    [Fact]
    public async Task TagsList_NAtLeastTheCount_ReturnsAllWithoutLink()
    {
        await TagAllAsync(Repo, SortedTags);
        foreach (var n in new[] { SortedTags.Length, SortedTags.Length + 5 })
        {
            using var response = await GetAsync($"/v2/{Repo}/tags/list?n={n}");
            Assert.Equal(SortedTags, await ReadTagsAsync(response, Repo));
            Assert.Null(Header(response, "Link"));
        }
    }

    [Fact]
    public async Task TagsList_LastWithoutN_ReturnsEverythingAfterLast()
    {
        await TagAllAsync(Repo, SortedTags);
        using var response = await GetAsync($"/v2/{Repo}/tags/list?last=alpha");
        Assert.Equal(SortedTags[4..], await ReadTagsAsync(response, Repo));
        using var withN = await GetAsync($"/v2/{Repo}/tags/list?n=2&last=Alpha");
        Assert.Equal(["alpha", "beta"], await ReadTagsAsync(withN, Repo));
        // A last that is not itself a tag still starts after where it would sort.
        using var between = await GetAsync($"/v2/{Repo}/tags/list?n=2&last=b");
        Assert.Equal(["beta", "latest"], await ReadTagsAsync(between, Repo));
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("abc")]
    [InlineData("1.5")]
    public async Task TagsList_BadN_Returns400(string n)
    {
        await PushImageAsync(Repo);
        using var response = await GetAsync($"/v2/{Repo}/tags/list?n={n}");
        AssertStatus(HttpStatusCode.BadRequest, response);
    }

    [Fact]
    public async Task Catalog_ListsNestedRepositoriesSortedAndPaginates()
    {
        string[] repositories = ["zeta", DeepRepo, Repo, "group/sub", "group/sub/project/image/child", "alpha/one"];
        foreach (var repository in repositories)
        {
            await PushImageAsync(repository);
        }
        var expected = repositories.Order(StringComparer.Ordinal).ToArray();
        using (var all = await GetAsync("/v2/_catalog"))
        {
            AssertStatus(HttpStatusCode.OK, all);
            Assert.Equal("application/json", all.Content.Headers.ContentType?.MediaType);
            var json = await ReadJsonAsync(all);
            Assert.Equal(expected, json.GetProperty("repositories").EnumerateArray().Select(r => r.GetString()).ToArray());
            Assert.Null(Header(all, "Link"));
        }

        var collected = new List<string>();
        string? url = "/v2/_catalog?n=4";
        while (url is not null)
        {
            using var page = await GetAsync(url);
            var names = (await ReadJsonAsync(page)).GetProperty("repositories").EnumerateArray().Select(r => r.GetString()!).ToArray();
            collected.AddRange(names);
            url = Header(page, "Link") is { } link ? NextLink().Match(link).Groups["url"].Value : null;
            Assert.True(url is null || names.Length == 4);
        }
        Assert.Equal(expected, collected);

        using var zero = await GetAsync("/v2/_catalog?n=0");
        Assert.Empty((await ReadJsonAsync(zero)).GetProperty("repositories").EnumerateArray());
        Assert.Null(Header(zero, "Link"));
    }

    [Fact]
    public async Task Catalog_EmptyRegistry_IsEmpty()
    {
        using var response = await GetAsync("/v2/_catalog");
        AssertStatus(HttpStatusCode.OK, response);
        Assert.Empty((await ReadJsonAsync(response)).GetProperty("repositories").EnumerateArray());
    }

    [Fact]
    public async Task Referrers_UnknownSubject_IsAnEmptyIndexNot404()
    {
        foreach (var repository in new[] { Repo, "never/pushed" })
        {
            if (repository == Repo)
            {
                await PushImageAsync(Repo);
            }
            using var response = await GetAsync($"/v2/{repository}/referrers/{Oci.Sha256("nothing refers to me"u8.ToArray())}");
            AssertStatus(HttpStatusCode.OK, response);
            Assert.Equal(Oci.ImageIndex, response.Content.Headers.ContentType?.MediaType);
            var index = await ReadJsonAsync(response);
            Assert.Equal(2, index.GetProperty("schemaVersion").GetInt32());
            Assert.Equal(Oci.ImageIndex, index.GetProperty("mediaType").GetString());
            Assert.Equal(0, index.GetProperty("manifests").GetArrayLength());
            Assert.Null(Header(response, "OCI-Filters-Applied"));
        }
    }

    [Theory]
    [InlineData(Repo)]
    [InlineData(DeepRepo)]
    public async Task Referrers_ListsEveryReferrer_AndFiltersByArtifactType(string repository)
    {
        var subject = await PushImageAsync(repository, "app");
        var subjectDesc = new Desc(Oci.ImageManifest, subject.Digest, subject.Manifest.Length);
        var signature = await PushImageAsync(repository, tag: null, subjectDesc, "application/vnd.example.signature",
            new Dictionary<string, string> { ["org.example.kind"] = "signature" });
        var sbom = await PushImageAsync(repository, tag: null, subjectDesc, "application/vnd.example.sbom",
            new Dictionary<string, string> { ["org.example.kind"] = "sbom" });
        // A referrer without artifactType: its config's media type stands for it.
        var configTyped = Oci.Config();
        await PushBlobAsync(repository, configTyped);
        var configArtifact = Oci.Manifest(Oci.Describe("application/vnd.example.signature", configTyped), [], subjectDesc);
        using (var put = await PutManifestAsync(repository, Oci.Sha256(configArtifact), configArtifact))
        {
            AssertStatus(HttpStatusCode.Created, put);
        }
        // An index can refer too.
        var index = Oci.Index([new Desc(Oci.ImageManifest, sbom.Digest, sbom.Manifest.Length)], subjectDesc);
        using (var put = await PutManifestAsync(repository, Oci.Sha256(index), index, Oci.ImageIndex))
        {
            AssertStatus(HttpStatusCode.Created, put);
            Assert.Equal(subject.Digest, Header(put, "OCI-Subject"));
        }

        using (var all = await GetAsync($"/v2/{repository}/referrers/{subject.Digest}"))
        {
            AssertStatus(HttpStatusCode.OK, all);
            Assert.Equal(Oci.ImageIndex, all.Content.Headers.ContentType?.MediaType);
            Assert.Null(Header(all, "OCI-Filters-Applied"));
            var manifests = (await ReadJsonAsync(all)).GetProperty("manifests").EnumerateArray().ToArray();
            Assert.Equal(
                new[] { signature.Digest, sbom.Digest, Oci.Sha256(configArtifact), Oci.Sha256(index) }.Order(StringComparer.Ordinal),
                manifests.Select(m => m.GetProperty("digest").GetString()!).Order(StringComparer.Ordinal));
            var sig = manifests.Single(m => m.GetProperty("digest").GetString() == signature.Digest);
            Assert.Equal(Oci.ImageManifest, sig.GetProperty("mediaType").GetString());
            Assert.Equal(signature.Manifest.Length, sig.GetProperty("size").GetInt64());
            Assert.Equal("application/vnd.example.signature", sig.GetProperty("artifactType").GetString());
            Assert.Equal("signature", sig.GetProperty("annotations").GetProperty("org.example.kind").GetString());
            var byConfig = manifests.Single(m => m.GetProperty("digest").GetString() == Oci.Sha256(configArtifact));
            Assert.Equal("application/vnd.example.signature", byConfig.GetProperty("artifactType").GetString());
            var byIndex = manifests.Single(m => m.GetProperty("digest").GetString() == Oci.Sha256(index));
            Assert.Equal(Oci.ImageIndex, byIndex.GetProperty("mediaType").GetString());
        }

        using var filtered = await GetAsync($"/v2/{repository}/referrers/{subject.Digest}?artifactType={Uri.EscapeDataString("application/vnd.example.signature")}");
        AssertStatus(HttpStatusCode.OK, filtered);
        Assert.Equal("artifactType", Header(filtered, "OCI-Filters-Applied"));
        var matching = (await ReadJsonAsync(filtered)).GetProperty("manifests").EnumerateArray()
            .Select(m => m.GetProperty("digest").GetString()!).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(new[] { signature.Digest, Oci.Sha256(configArtifact) }.Order(StringComparer.Ordinal), matching);

        using var none = await GetAsync($"/v2/{repository}/referrers/{subject.Digest}?artifactType=application/vnd.example.none");
        Assert.Equal("artifactType", Header(none, "OCI-Filters-Applied"));
        Assert.Equal(0, (await ReadJsonAsync(none)).GetProperty("manifests").GetArrayLength());
    }

    [Fact]
    public async Task Referrers_OfAnAbsentSubject_AreListed()
    {
        var absent = new Desc(Oci.ImageManifest, Oci.Sha256("pushed later"u8.ToArray()), 12);
        var early = await PushImageAsync(Repo, tag: null, absent, "application/vnd.example.sbom");
        using var response = await GetAsync($"/v2/{Repo}/referrers/{absent.Digest}");
        var manifests = (await ReadJsonAsync(response)).GetProperty("manifests");
        Assert.Equal(early.Digest, Assert.Single(manifests.EnumerateArray()).GetProperty("digest").GetString());
    }

    [Fact]
    public async Task Referrers_DeletedReferrer_IsNoLongerListed()
    {
        var subject = await PushImageAsync(Repo);
        var subjectDesc = new Desc(Oci.ImageManifest, subject.Digest, subject.Manifest.Length);
        var signature = await PushImageAsync(Repo, tag: null, subjectDesc, "application/vnd.example.signature");
        using (var delete = await DeleteAsync($"/v2/{Repo}/manifests/{signature.Digest}"))
        {
            AssertStatus(HttpStatusCode.Accepted, delete);
        }
        using var response = await GetAsync($"/v2/{Repo}/referrers/{subject.Digest}");
        Assert.Equal(0, (await ReadJsonAsync(response)).GetProperty("manifests").GetArrayLength());
    }
}

public sealed class DiscoveryTestsInMemory : DiscoveryTests<InMemoryDriverFactory>;

public sealed class DiscoveryTestsFileSystem : DiscoveryTests<FileSystemDriverFactory>;
