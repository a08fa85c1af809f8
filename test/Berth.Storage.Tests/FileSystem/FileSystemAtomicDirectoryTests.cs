using System.Text;
using Berth.Storage.FileSystem;

namespace Berth.Storage.Tests.FileSystem;

/// <summary>A new directory with its files appears in one step (how a manifest PUT publishes a new tag's current
/// and history links), or not at all when something is there already.</summary>
public sealed class FileSystemAtomicDirectoryTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "berth-atomicdir-" + Guid.NewGuid().ToString("N"));
    private readonly FileSystemDriver _driver;

    public FileSystemAtomicDirectoryTests()
    {
        Assert.True(OperatingSystem.IsLinux(), "atomic directories use rename(2) on Linux: run the tests on Linux");
        _driver = new FileSystemDriver(_root);
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private static KeyValuePair<string, byte[]> File(string path, string content) => new(path, Encoding.ASCII.GetBytes(content));

    private const string Tag = "/docker/registry/v2/repositories/a/b/_manifests/tags/t1";

    [Fact]
    public async Task NewDirectory_AppearsWithEveryFile_AndNoStagingIsLeftOrListed()
    {
        Assert.True(await _driver.TryCreateDirectoryAsync(Tag, [File("current/link", "sha256:aa"), File("index/sha256/aa/link", "sha256:aa")]));

        Assert.Equal("sha256:aa", Encoding.ASCII.GetString(await _driver.GetContentAsync(Tag + "/current/link")));
        Assert.Equal("sha256:aa", Encoding.ASCII.GetString(await _driver.GetContentAsync(Tag + "/index/sha256/aa/link")));
        Assert.Equal([Tag], await _driver.ListAsync("/docker/registry/v2/repositories/a/b/_manifests/tags"));
        Assert.Equal(["/docker"], await _driver.ListAsync(StoragePath.Root));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_root, FileSystemDriver.TemporaryFilePrefix + "staging")));
    }


    [Fact]
    public async Task ExistingDirectory_IsLeftAsItIs_AndTheCallerIsToldSo()
    {
        await _driver.PutContentAsync(Tag + "/current/link", "sha256:old"u8.ToArray());

        Assert.False(await _driver.TryCreateDirectoryAsync(Tag, [File("current/link", "sha256:new"), File("index/sha256/bb/link", "sha256:bb")]));

        Assert.Equal("sha256:old", Encoding.ASCII.GetString(await _driver.GetContentAsync(Tag + "/current/link")));
        await Assert.ThrowsAsync<PathNotFoundException>(() => _driver.GetContentAsync(Tag + "/index/sha256/bb/link"));
        var staging = Path.Combine(_root, FileSystemDriver.TemporaryFilePrefix + "staging");
        Assert.True(!Directory.Exists(staging) || !Directory.EnumerateFileSystemEntries(staging).Any());
    }

    [Fact]
    public async Task AnEmptyDirectory_IsReplaced()
    {
        Directory.CreateDirectory(_root + Tag);

        Assert.True(await _driver.TryCreateDirectoryAsync(Tag, [File("current/link", "sha256:cc")]));

        Assert.Equal("sha256:cc", Encoding.ASCII.GetString(await _driver.GetContentAsync(Tag + "/current/link")));
    }

    [Fact]
    public async Task ConcurrentCreations_OneWins_TheOthersAreToldTheDirectoryExists()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            Task.Run(() => _driver.TryCreateDirectoryAsync(Tag, [File("current/link", $"sha256:{i}"), File($"index/sha256/{i}/link", $"sha256:{i}")]))));

        var winner = Assert.Single(results.Select((created, i) => (created, i)), r => r.created).i;
        Assert.Equal($"sha256:{winner}", Encoding.ASCII.GetString(await _driver.GetContentAsync(Tag + "/current/link")));
        Assert.Equal([$"{Tag}/index/sha256/{winner}"], await _driver.ListAsync(Tag + "/index/sha256"));
    }

    [Fact]
    public async Task BeforePublish_RunsWhenTheFilesAreWrittenButTheDirectoryIsNotYetVisible()
    {
        var staging = Path.Combine(_root, FileSystemDriver.TemporaryFilePrefix + "staging");
        var calls = 0;
        Assert.True(await _driver.TryCreateDirectoryAsync(Tag, [File("current/link", "sha256:ee")], async () =>
        {
            await Task.Yield();
            calls++;
            Assert.False(Directory.Exists(_root + Tag));
            var staged = Assert.Single(Directory.GetDirectories(staging));
            Assert.Equal("sha256:ee", System.IO.File.ReadAllText(Path.Combine(staged, "current", "link")));
        }));

        Assert.Equal(1, calls);
        Assert.Equal("sha256:ee", Encoding.ASCII.GetString(await _driver.GetContentAsync(Tag + "/current/link")));
    }

    [Fact]
    public async Task BeforePublish_Throwing_PublishesNothing_AndLeavesNothingStaged()
    {
        var refused = new InvalidOperationException("content write failed");

        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            _driver.TryCreateDirectoryAsync(Tag, [File("current/link", "sha256:ff"), File("index/sha256/ff/link", "sha256:ff")], () => Task.FromException(refused)));

        Assert.Same(refused, thrown);
        Assert.False(Directory.Exists(_root + Tag));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_root, FileSystemDriver.TemporaryFilePrefix + "staging")));
    }

    [Fact]
    public async Task BeforePublish_IsNotAwaited_WhenTheDirectoryExists()
    {
        await _driver.PutContentAsync(Tag + "/current/link", "sha256:old"u8.ToArray());

        Assert.False(await _driver.TryCreateDirectoryAsync(Tag, [File("current/link", "sha256:new")], () => throw new InvalidOperationException("must not be called")));
    }

    /// <summary>Rounds that overlap flush on their own thread instead of fanning out: every directory still appears
    /// whole.</summary>
    [Fact]
    public async Task ParallelCreationsOfDifferentDirectories_AllAppearWithEveryFile()
    {
        var tags = Enumerable.Range(0, 16).Select(i => $"{Tag[..^2]}t{i:00}").ToArray();

        var results = await Task.WhenAll(tags.Select((tag, i) =>
            Task.Run(() => _driver.TryCreateDirectoryAsync(tag, [File("current/link", $"sha256:{i}"), File($"index/sha256/{i}/link", $"sha256:{i}")]))));

        Assert.All(results, Assert.True);
        for (var i = 0; i < tags.Length; i++)
        {
            Assert.Equal($"sha256:{i}", Encoding.ASCII.GetString(await _driver.GetContentAsync(tags[i] + "/current/link")));
            Assert.Equal($"sha256:{i}", Encoding.ASCII.GetString(await _driver.GetContentAsync($"{tags[i]}/index/sha256/{i}/link")));
        }
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("current/.berth-tmp-x")]
    [InlineData("/absolute")]
    public async Task FilePathsOutsideTheDirectoryOrReserved_AreRefused(string relative)
    {
        await Assert.ThrowsAnyAsync<Exception>(() => _driver.TryCreateDirectoryAsync(Tag, [File(relative, "x")]));
        Assert.False(Directory.Exists(_root + Tag));
    }

    [Fact]
    public async Task StagingLeftByACrash_IsRemovedWhenItIsOld()
    {
        var staging = Path.Combine(_root, FileSystemDriver.TemporaryFilePrefix + "staging");
        var old = Directory.CreateDirectory(Path.Combine(staging, "old", "current"));
        var recent = Directory.CreateDirectory(Path.Combine(staging, "recent"));
        Directory.SetLastWriteTimeUtc(Path.Combine(staging, "old"), DateTime.UtcNow.AddHours(-2));

        Assert.True(await _driver.TryCreateDirectoryAsync(Tag, [File("current/link", "sha256:dd")]));

        Assert.False(Directory.Exists(Path.Combine(staging, "old")));
        Assert.True(recent.Exists);
    }
}
