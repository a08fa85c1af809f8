using System.Text;
using Berth.Core.Listing;
using Berth.Storage.FileSystem;

namespace Berth.Api.Tests;

/// <summary>The listing cache on a filesystem: hits only for unchanged, quiet folders, and bounded memory.</summary>
public sealed class DirectoryListingCacheTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "berth-dlc-" + Guid.NewGuid().ToString("N"));
    private readonly FileSystemDriver _driver;

    public DirectoryListingCacheTests()
    {
        _driver = new FileSystemDriver(_root, syncToDisk: false);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private async Task FillAsync(string directory, int count)
    {
        for (var i = 0; i < count; i++)
        {
            await _driver.PutContentAsync($"{directory}/n{i:D2}", Encoding.ASCII.GetBytes("x"));
        }
    }

    private static string[] Sorted(string[] names)
    {
        Array.Sort(names, StringComparer.Ordinal);
        return names;
    }

    [Fact]
    public async Task QuietFolder_IsServedFromTheCache_UntilItChanges()
    {
        await FillAsync("/a", 3);
        var cache = new DirectoryListingCache(_driver);
        Assert.Equal(["n00", "n01", "n02"], (await cache.GetAsync("/a", Sorted))!);
        Assert.Equal(0, cache.Hits); // changed just now: not cached yet
        await Task.Delay(FileSystemDriver.FineRacyWindow + TimeSpan.FromMilliseconds(50));
        await cache.GetAsync("/a", Sorted);
        Assert.Equal(["n00", "n01", "n02"], (await cache.GetAsync("/a", Sorted))!);
        Assert.Equal(1, cache.Hits);

        await _driver.DeleteAsync("/a/n01");
        await Task.Delay(FileSystemDriver.FineRacyWindow + TimeSpan.FromMilliseconds(50));

        Assert.Equal(["n00", "n02"], (await cache.GetAsync("/a", Sorted))!);
        Assert.Null(await cache.GetAsync("/missing", Sorted));
    }

    [Fact]
    public async Task NameBudget_StartsOverInsteadOfGrowing()
    {
        await FillAsync("/a", 10);
        await FillAsync("/b", 10);
        await FillAsync("/c", 10);
        await Task.Delay(FileSystemDriver.FineRacyWindow + TimeSpan.FromMilliseconds(50));
        var cache = new DirectoryListingCache(_driver, maxNames: 25);
        await cache.GetAsync("/a", Sorted);
        await cache.GetAsync("/b", Sorted);
        await cache.GetAsync("/a", Sorted);
        await cache.GetAsync("/b", Sorted);
        Assert.Equal(2, cache.Hits);

        await cache.GetAsync("/c", Sorted); // 30 names would exceed 25: the cache starts over with /c
        await cache.GetAsync("/c", Sorted);
        await cache.GetAsync("/a", Sorted);

        Assert.Equal(3, cache.Hits);
        Assert.Equal(4, cache.Misses);
    }
}
