using System.Text;
using Berth.Storage.FileSystem;

namespace Berth.Storage.Tests.FileSystem;

/// <summary>Directory versions (statx) that listing caches rely on: any change of a directory's entries gives a
/// different version, and a version is only cacheable once the directory has been quiet for the racy window.</summary>
public sealed class FileSystemDirectoryVersionTests : IDisposable
{
    private static readonly TimeSpan PastTheWindow = FileSystemDriver.FineRacyWindow + TimeSpan.FromMilliseconds(50);
    private readonly string _root = Path.Combine(Path.GetTempPath(), "berth-fsv-" + Guid.NewGuid().ToString("N"));
    private readonly FileSystemDriver _driver;

    public FileSystemDirectoryVersionTests()
    {
        Assert.True(OperatingSystem.IsLinux(), "directory versions use statx(2): run the tests on Linux");
        _driver = new FileSystemDriver(_root, syncToDisk: false);
    }

    public void Dispose()
    {
        Directory.Delete(_root, recursive: true);
    }

    private DirectoryVersion Version(string path) => _driver.GetDirectoryVersion(path) ?? throw new InvalidOperationException("statx unavailable");

    [Fact]
    public async Task MissingPathOrObject_IsMissing()
    {
        await _driver.PutContentAsync("/d/object", Encoding.ASCII.GetBytes("x"));

        Assert.Equal(DirectoryVersion.Missing, Version("/nothing/here"));
        Assert.Equal(DirectoryVersion.Missing, Version("/d/object"));
        Assert.Equal(DirectoryVersion.Missing, Version("/d/object/below"));
        Assert.True(Version("/d").Exists);
        Assert.True(Version(StoragePath.Root).Exists);
    }

    [Fact]
    public async Task FreshlyChangedDirectory_IsNotCacheable_UntilQuiet()
    {
        await _driver.PutContentAsync("/d/a", Encoding.ASCII.GetBytes("x"));
        Assert.False(Version("/d").IsCacheable);

        await Task.Delay(PastTheWindow);

        var quiet = Version("/d");
        Assert.True(quiet.IsCacheable);
        Assert.Equal(quiet, Version("/d"));
    }

    [Fact]
    public async Task AddingRemovingOrReplacingAnEntry_ChangesTheVersion()
    {
        await _driver.PutContentAsync("/d/a", Encoding.ASCII.GetBytes("x"));
        var seen = new List<DirectoryVersion>();
        Func<Task>[] changes =
        [
            () => _driver.PutContentAsync("/d/b", Encoding.ASCII.GetBytes("x")),
            () => _driver.PutContentAsync("/d/sub/c", Encoding.ASCII.GetBytes("x")),
            () => _driver.DeleteAsync("/d/b"),
            () => _driver.DeleteAsync("/d/sub"),
            () => _driver.MoveAsync("/d/a", "/d/renamed"),
        ];
        foreach (var change in changes)
        {
            await Task.Delay(PastTheWindow);
            var before = Version("/d");
            Assert.True(before.IsCacheable);
            seen.Add(before);
            await change();
            Assert.NotEqual(before, Version("/d"));
        }
        Assert.Equal(seen.Count, seen.Distinct().Count());
    }

    [Fact]
    public async Task DirectoryDeletedAndCreatedAgain_HasAnotherVersion()
    {
        await _driver.PutContentAsync("/d/a", Encoding.ASCII.GetBytes("x"));
        await Task.Delay(PastTheWindow);
        var before = Version("/d");

        await _driver.DeleteAsync("/d");
        Assert.Equal(DirectoryVersion.Missing, Version("/d"));
        await _driver.PutContentAsync("/d/a", Encoding.ASCII.GetBytes("x"));

        Assert.NotEqual(before, Version("/d"));
    }

    [Fact]
    public async Task ChangingAnObjectsContent_DoesNotChangeItsDirectory()
    {
        await _driver.PutContentAsync("/d/sub/a", Encoding.ASCII.GetBytes("x"));
        await Task.Delay(PastTheWindow);
        var before = Version("/d");

        await _driver.PutContentAsync("/d/sub/a", Encoding.ASCII.GetBytes("other"));

        Assert.Equal(before, Version("/d"));
    }

    [Fact]
    public void InvalidPath_IsRefused()
    {
        Assert.Throws<InvalidPathException>(() => _driver.GetDirectoryVersion("relative"));
        Assert.Throws<InvalidPathException>(() => _driver.GetDirectoryVersion("/a/../b"));
    }

    [Fact]
    public async Task InstrumentedDecorator_ForwardsVersions()
    {
        await _driver.PutContentAsync("/d/a", Encoding.ASCII.GetBytes("x"));
        IDirectoryVersionSource decorated = new InstrumentedStorageDriver(_driver);

        Assert.Equal(Version("/d") with { Stable = false }, decorated.GetDirectoryVersion("/d")!.Value with { Stable = false });
        Assert.Null(((IDirectoryVersionSource)new InstrumentedStorageDriver(new InMemory.InMemoryDriver())).GetDirectoryVersion("/d"));
    }
}
