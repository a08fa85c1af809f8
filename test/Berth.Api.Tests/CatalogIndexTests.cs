using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Berth.Core.Catalog;
using Berth.Core.Tags;
using Berth.Storage.FileSystem;
using Berth.Storage.Layout;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Berth.Api.Tests;

/// <summary>
/// The catalog index and the tag listing cache across instances: server A is the test's registry, server B a
/// second registry on the same storage (for the filesystem, its own driver on the same folder, as another process
/// would have). Neither reconciles at start-up unless a test says so.
/// </summary>
public abstract partial class CatalogIndexTests<TDriver> : RegistryTestBase<TDriver> where TDriver : IDriverFactory, new()
{
    [GeneratedRegex("^<(?<url>[^>]+)>; rel=\"next\"$")]
    private static partial Regex NextLink();

    private readonly List<WebApplication> _others = [];

    protected override bool ReconcileCatalogAtStart => false;

    private RepositoryIndex IndexA => Services.GetRequiredService<RepositoryIndex>();

    public override async Task DisposeAsync()
    {
        foreach (var app in _others)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
        await base.DisposeAsync();
    }

    /// <summary>A second server on the same storage.</summary>
    private async Task<(HttpClient Client, IServiceProvider Services)> StartServerBAsync()
    {
        IStorageDriver driver = RootDirectory is { } root ? new FileSystemDriver(root, syncToDisk: false) : Storage.Inner;
        var options = new ServerOptions { MetricsEnabled = false, LogLevel = LogLevel.None, Listen = "127.0.0.1:0", CatalogReconcileAtStart = false };
        var app = RegistryServer.Build(options, driver, b =>
        {
            b.WebHost.UseTestServer();
            b.Logging.ClearProviders();
        });
        await app.StartAsync();
        _others.Add(app);
        var server = app.GetTestServer();
        return (new HttpClient(new ConformanceCheckingHandler { InnerHandler = server.CreateHandler() }) { BaseAddress = server.BaseAddress }, app.Services);
    }

    private static async Task<string[]> CatalogAsync(HttpClient client, string query = "")
    {
        using var response = await client.GetAsync("/v2/_catalog" + query);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync()).RootElement;
        return [.. json.GetProperty("repositories").EnumerateArray().Select(r => r.GetString()!)];
    }

    /// <summary>Follows Link from ?n=<paramref name="n"/>; every page but the last holds exactly n names.</summary>
    private static async Task<List<string>> WalkCatalogAsync(HttpClient client, int n)
    {
        var collected = new List<string>();
        string? url = $"/v2/_catalog?n={n}";
        for (var pages = 0; url is not null; pages++)
        {
            Assert.True(pages < 100);
            using var response = await client.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var names = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync()).RootElement.GetProperty("repositories")
                .EnumerateArray().Select(r => r.GetString()!).ToArray();
            collected.AddRange(names);
            url = response.Headers.TryGetValues("Link", out var links) ? NextLink().Match(links.Single()).Groups["url"].Value : null;
            Assert.True(url is null ? names.Length <= n : names.Length == n, $"page of {names.Length} with n={n}, next {url}");
        }
        return collected;
    }

    private static async Task<string[]> TagsAsync(HttpClient client, string repository)
    {
        using var response = await client.GetAsync($"/v2/{repository}/tags/list");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync()).RootElement;
        return [.. json.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!)];
    }

    /// <summary>Writes a repository the way other software would: its folders, without a catalog marker.</summary>
    private Task WriteForeignRepositoryAsync(string repository) =>
        Storage.Inner.PutContentAsync(StoragePaths.TagCurrentLink(repository, "latest"), Encoding.ASCII.GetBytes("sha256:" + new string('a', 64)));

    [Fact]
    public async Task Catalog_PushedThroughA_IsListedThroughB_FromTheIndex()
    {
        await IndexA.ReconcileAsync();
        var (b, _) = await StartServerBAsync();
        string[] repositories = ["zeta", Repo, DeepRepo, "group/sub", "alpha/one"];
        foreach (var repository in repositories)
        {
            await PushImageAsync(repository);
            Assert.True(await Storage.Inner.StatAsync(StoragePaths.CatalogRepositoryMarker(repository)) is { IsDirectory: false });
        }
        var expected = repositories.Order(StringComparer.Ordinal).ToArray();

        Assert.Equal(expected, await CatalogAsync(b));
        Assert.Equal(expected, await WalkCatalogAsync(b, 2));
        Assert.Equal(expected[2..], await CatalogAsync(b, "?last=" + Uri.EscapeDataString(expected[1])));
        // B answers from the index, not from a walk: a repository written behind Berth's back is not in it.
        await WriteForeignRepositoryAsync("foreign/tool");
        Assert.Equal(expected, await CatalogAsync(b));
    }

    [Fact]
    public async Task Catalog_RepositoryWrittenByOtherSoftware_AppearsAfterReconcile()
    {
        await PushImageAsync(Repo);
        await IndexA.ReconcileAsync();
        await WriteForeignRepositoryAsync("foreign/tool");
        await Storage.Inner.PutContentAsync(StoragePaths.LayerLink("foreign/layers-only", D("sha256:" + new string('b', 64))), Encoding.ASCII.GetBytes("sha256:" + new string('b', 64)));
        var (b, servicesB) = await StartServerBAsync();
        Assert.Equal([Repo], await CatalogAsync(b));

        var result = await servicesB.GetRequiredService<RepositoryIndex>().ReconcileAsync();

        Assert.Equal(2, result.Added);
        Assert.Equal(3, result.Repositories);
        Assert.Equal(["foreign/layers-only", "foreign/tool", Repo], await CatalogAsync(b));
        Assert.Equal(["foreign/layers-only", "foreign/tool", Repo], await CatalogAsync(Client));
    }

    [Fact]
    public async Task Catalog_BeforeTheFirstReconcile_WalksTheTree()
    {
        await PushImageAsync(Repo);
        await WriteForeignRepositoryAsync("foreign/tool");

        Assert.False(await IndexA.IsBuiltAsync());
        Assert.Equal(["foreign/tool", Repo], await CatalogAsync(Client));
        Assert.Equal(["foreign/tool", Repo], await WalkCatalogAsync(Client, 1));
    }

    [Fact]
    public async Task Catalog_RemovedRepository_IsNotListed_AndOnlyAnOldMarkerIsDropped()
    {
        await IndexA.ReconcileAsync();
        string[] repositories = ["a/one", "b/two", "c/three", "d/four"];
        foreach (var repository in repositories)
        {
            await PushImageAsync(repository);
        }
        var (b, _) = await StartServerBAsync();
        Assert.Equal(repositories, await CatalogAsync(b));

        // Deleted by hand (or emptied by GC): gone from the next answer of every instance, pages stay exact.
        await Storage.Inner.DeleteAsync(StoragePaths.Repository("b/two"));
        await Storage.Inner.DeleteAsync(StoragePaths.Repository("d/four"));
        Assert.Equal(["a/one", "c/three"], await CatalogAsync(b));
        Assert.Equal(["a/one", "c/three"], await CatalogAsync(Client));
        Assert.Equal(["a/one", "c/three"], await WalkCatalogAsync(b, 1));
        Assert.Equal(["c/three"], await CatalogAsync(b, "?n=1&last=a%2Fone"));
        using (var last = await b.GetAsync("/v2/_catalog?n=1&last=a%2Fone"))
        {
            Assert.False(last.Headers.Contains("Link"), "no next page: the only names after c/three are removed repositories");
        }

        // A young marker may belong to a push in progress: reconcile keeps it.
        var young = await IndexA.ReconcileAsync();
        Assert.Equal(0, young.Removed);
        Assert.True(await ExistsAsync(StoragePaths.CatalogRepositoryMarker("b/two")));

        // Later, it goes; the live ones stay.
        var later = new RepositoryIndex(Storage.Inner, new ShiftedTimeProvider(RepositoryIndex.StaleMarkerGrace + TimeSpan.FromMinutes(1)));
        var old = await later.ReconcileAsync();
        Assert.Equal(2, old.Removed);
        Assert.False(await ExistsAsync(StoragePaths.CatalogRepositoryMarker("b/two")));
        Assert.False(await ExistsAsync(StoragePaths.CatalogRepositoryMarker("d/four")));
        Assert.True(await ExistsAsync(StoragePaths.CatalogRepositoryMarker("a/one")));
        Assert.Equal(["a/one", "c/three"], await CatalogAsync(b));

        // Pushed again (through B, which has not indexed it in this process): indexed again.
        await PushBlobThroughAsync(b, "b/two", Encoding.ASCII.GetBytes("again"));
        Assert.True(await ExistsAsync(StoragePaths.CatalogRepositoryMarker("b/two")));
        Assert.Equal(["a/one", "b/two", "c/three"], await CatalogAsync(b));
        Assert.Equal(["a/one", "b/two", "c/three"], await CatalogAsync(Client));
    }

    private static async Task PushBlobThroughAsync(HttpClient client, string repository, byte[] content)
    {
        using var body = new ByteArrayContent(content);
        using var response = await client.PostAsync($"/v2/{repository}/blobs/uploads/?digest={Uri.EscapeDataString(Oci.Sha256(content))}", body);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task Catalog_ReconcileAtStartUp_BuildsTheIndexInTheBackground()
    {
        await PushImageAsync(Repo);
        await WriteForeignRepositoryAsync("foreign/tool");
        IStorageDriver driver = RootDirectory is { } root ? new FileSystemDriver(root, syncToDisk: false) : Storage.Inner;
        var options = new ServerOptions { MetricsEnabled = false, LogLevel = LogLevel.None, Listen = "127.0.0.1:0", CatalogReconcileAtStart = true };
        var app = RegistryServer.Build(options, driver, b =>
        {
            b.WebHost.UseTestServer();
            b.Logging.ClearProviders();
        });
        await app.StartAsync();
        _others.Add(app);
        var index = app.Services.GetRequiredService<RepositoryIndex>();
        for (var i = 0; i < 200 && !await index.IsBuiltAsync(); i++)
        {
            await Task.Delay(50);
        }

        Assert.True(await index.IsBuiltAsync());
        Assert.True(await ExistsAsync(StoragePaths.CatalogRepositoryMarker("foreign/tool")));
        Assert.True(await ExistsAsync(StoragePaths.CatalogRepositoryMarker(Repo)));
        Assert.Equal(["foreign/tool", Repo], await CatalogAsync(Client));
    }

    [Fact]
    public async Task TagsList_TagAddedOrDeletedThroughA_ShowsInTheNextListThroughB()
    {
        var (b, servicesB) = await StartServerBAsync();
        var image = await PushImageAsync(Repo, "v1");
        var listings = servicesB.GetRequiredService<TagService>().Listings;
        Assert.Equal(["v1"], await TagsAsync(b, Repo));

        string[] expected = ["v1"];
        var steps = new[] { "+v2", "+V0", "-v1", "+v1", "-v2", "-V0", "-v1", "+w", "+x", "-w" };
        for (var i = 0; i < steps.Length; i++)
        {
            var step = steps[i];
            // Let the tags folder age past the racy window, so that B caches its listing and answers from the cache ...
            await Task.Delay(FileSystemDriver.FineRacyWindow + TimeSpan.FromMilliseconds(50));
            Assert.Equal(expected, await TagsAsync(b, Repo));
            var hits = listings.Hits;
            Assert.Equal(expected, await TagsAsync(b, Repo));
            if (RootDirectory is not null && expected.Length > 0)
            {
                Assert.Equal(hits + 1, listings.Hits); // (with no tag left the tags folder is gone: nothing to cache)
            }
            // ... then change the tags through A: B's next list shows the change.
            var tag = step[1..];
            if (step[0] == '+')
            {
                using var put = await PutManifestAsync(Repo, tag, image.Manifest);
                AssertStatus(HttpStatusCode.Created, put);
                expected = [.. expected.Append(tag).Order(TagService.LexicalOrder)];
            }
            else
            {
                using var delete = await DeleteAsync($"/v2/{Repo}/manifests/{tag}");
                AssertStatus(HttpStatusCode.Accepted, delete);
                expected = [.. expected.Where(t => t != tag)];
            }
            if (i % 2 == 1)
            {
                // Every other step B's first list comes after the changed folder is old enough to be cached:
                // the entry cached before the change must not be served.
                await Task.Delay(FileSystemDriver.FineRacyWindow + TimeSpan.FromMilliseconds(50));
            }
            Assert.Equal(expected, await TagsAsync(b, Repo));
        }
    }

    [Fact]
    public async Task TagsList_Pagination_IsUnchangedWhenServedFromTheCache()
    {
        var image = await PushImageAsync(Repo, tag: null);
        var tags = Enumerable.Range(0, 30).Select(i => (i % 3 == 0 ? "T" : "t") + i.ToString("D2", System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        foreach (var tag in tags)
        {
            using var put = await PutManifestAsync(Repo, tag, image.Manifest);
            AssertStatus(HttpStatusCode.Created, put);
        }
        var expected = tags.Order(TagService.LexicalOrder).ToArray();
        await Task.Delay(FileSystemDriver.FineRacyWindow + TimeSpan.FromMilliseconds(50));
        for (var round = 0; round < 2; round++)
        {
            var collected = new List<string>();
            string? url = $"/v2/{Repo}/tags/list?n=7";
            while (url is not null)
            {
                using var response = await GetAsync(url);
                var json = await ReadJsonAsync(response);
                var page = json.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!).ToArray();
                collected.AddRange(page);
                url = Header(response, "Link") is { } link ? NextLink().Match(link).Groups["url"].Value : null;
                Assert.True(url is null || page.Length == 7);
            }
            Assert.Equal(expected, collected);
        }
    }

    private sealed class ShiftedTimeProvider(TimeSpan shift) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + shift;
    }
}

public sealed class CatalogIndexTestsInMemory : CatalogIndexTests<InMemoryDriverFactory>;

public sealed class CatalogIndexTestsFileSystem : CatalogIndexTests<FileSystemDriverFactory>;
