using System.Text;
using Berth.Storage.FileSystem;

namespace Berth.Storage.Tests.FileSystem;

/// <summary>How the filesystem driver keeps the contract on disk; the contract itself is tested by
/// <see cref="Conformance.FileSystemDriverConformanceTests"/>.</summary>
public sealed class FileSystemDriverTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "berth-fs-" + Guid.NewGuid().ToString("N"));
    private readonly FileSystemDriver _driver;

    public FileSystemDriverTests()
    {
        _driver = new FileSystemDriver(_root);
    }

    public void Dispose()
    {
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public void Constructor_CreatesRootDirectory()
    {
        Assert.True(Directory.Exists(_root));
        Assert.Equal(_root, _driver.RootDirectory);
    }

    [Fact]
    public void Constructor_FilesystemRoot_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => new FileSystemDriver("/"));
    }

    [Fact]
    public async Task List_MoreEntriesThanOneDirectoryRead_ReturnsAllButReservedNames()
    {
        // 1,500 names of 64 characters take about 130 KiB of directory entries: several getdents64 calls of 32 KiB.
        var names = Enumerable.Range(0, 1500).Select(i => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i)))).ToList();
        var dir = Directory.CreateDirectory(Path.Combine(_root, "many")).FullName;
        foreach (var name in names)
        {
            Directory.CreateDirectory(Path.Combine(dir, name));
        }
        File.WriteAllText(Path.Combine(dir, FileSystemDriver.TemporaryFilePrefix + "leftover"), "x");
        File.WriteAllText(Path.Combine(dir, "é-file"), "x");

        var listed = await _driver.ListAsync("/many");

        Assert.Equal([.. names.Select(n => "/many/" + n).Append("/many/é-file").Order(StringComparer.Ordinal)], listed.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Stat_AgreesWithFileInfo_ForFilesDirectoriesAndSymbolicLinks()
    {
        await _driver.PutContentAsync("/s/object", new byte[5000]);
        var file = Path.Combine(_root, "s/object");
        File.SetLastWriteTimeUtc(file, new DateTime(2024, 2, 29, 12, 34, 56, DateTimeKind.Utc).AddTicks(1234567));
        File.CreateSymbolicLink(Path.Combine(_root, "s/link"), file);

        var entry = await _driver.StatAsync("/s/object");
        var dir = await _driver.StatAsync("/s");
        var link = await _driver.StatAsync("/s/link");

        Assert.Equal((5000L, false, new DateTimeOffset(File.GetLastWriteTimeUtc(file))), (entry.Size, entry.IsDirectory, entry.ModifiedAt));
        Assert.Equal(new DateTime(2024, 2, 29, 12, 34, 56, DateTimeKind.Utc).AddTicks(1234567), entry.ModifiedAt.UtcDateTime);
        Assert.Equal((0L, true, new DateTimeOffset(Directory.GetLastWriteTimeUtc(Path.Combine(_root, "s")))), (dir.Size, dir.IsDirectory, dir.ModifiedAt));
        // A symbolic link is described as FileInfo describes it (its own size), as before statx.
        Assert.Equal((new FileInfo(Path.Combine(_root, "s/link")).Length, false), (link.Size, link.IsDirectory));
    }

    [Fact]
    public async Task ListChildObjects_ReadsAndStatsEachChildsObject_AsGetContentAndStatAnswer()
    {
        Assert.True(OperatingSystem.IsLinux() || !_driver.TryListChildObjects("/", "link", true, out _));
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        await _driver.PutContentAsync("/d/a/link", "sha256:a"u8.ToArray());
        await _driver.PutContentAsync("/d/b/link", Array.Empty<byte>());
        await _driver.PutContentAsync("/d/c/other", "x"u8.ToArray());                     // no link: missing
        Directory.CreateDirectory(Path.Combine(_root, "d/e/link"));                          // a directory: missing for a read
        await _driver.PutContentAsync("/d/f", "a file"u8.ToArray());                      // a file child: nothing under it
        Directory.CreateDirectory(Path.Combine(_root, "d/we ird/x"));                        // not a valid segment: unknown
        await _driver.PutContentAsync("/target", "sha256:t"u8.ToArray());
        Directory.CreateDirectory(Path.Combine(_root, "d/s"));
        File.CreateSymbolicLink(Path.Combine(_root, "d/s/link"), Path.Combine(_root, "target")); // followed by a read, as by open
        File.WriteAllText(Path.Combine(_root, "d", FileSystemDriver.TemporaryFilePrefix + "x"), "hidden");

        Assert.True(_driver.TryListChildObjects("/d", "link", readContent: true, out var read));
        Assert.Equal((await _driver.ListAsync("/d")).Select(StoragePath.FileName).Order(StringComparer.Ordinal), read.Select(c => c.Name).Order(StringComparer.Ordinal));
        var byName = read.ToDictionary(c => c.Name);
        Assert.Equal("sha256:a", Encoding.ASCII.GetString(byName["a"].Content!));
        Assert.Equal(ChildObjectStatus.File, byName["b"].Status);
        Assert.Empty(byName["b"].Content!);
        Assert.Equal(ChildObjectStatus.Missing, byName["c"].Status);
        Assert.Equal(ChildObjectStatus.Missing, byName["e"].Status);
        Assert.Equal(ChildObjectStatus.Missing, byName["f"].Status);
        Assert.Equal(ChildObjectStatus.Unknown, byName["we ird"].Status);
        Assert.Equal("sha256:t", Encoding.ASCII.GetString(byName["s"].Content!));
        foreach (var child in read.Where(c => c.Status is ChildObjectStatus.File or ChildObjectStatus.Missing))
        {
            var path = "/d/" + child.Name + "/link";
            if (child.Status == ChildObjectStatus.File)
            {
                Assert.Equal(await _driver.GetContentAsync(path), child.Content);
            }
            else
            {
                await Assert.ThrowsAsync<PathNotFoundException>(() => _driver.GetContentAsync(path));
            }
        }

        Assert.True(_driver.TryListChildObjects("/d", "link", readContent: false, out var stat));
        var stats = stat.ToDictionary(c => c.Name);
        Assert.Equal((ChildObjectStatus.File, 8L), (stats["a"].Status, stats["a"].Size));
        Assert.Equal((ChildObjectStatus.File, 0L), (stats["b"].Status, stats["b"].Size));
        Assert.Equal(ChildObjectStatus.Missing, stats["c"].Status);
        Assert.Equal(ChildObjectStatus.Directory, stats["e"].Status);
        Assert.Equal(ChildObjectStatus.Missing, stats["f"].Status);
        Assert.Equal(ChildObjectStatus.Unknown, stats["s"].Status); // a symbolic link: StatAsync's FileInfo path answers
        Assert.Null(stats["a"].Content);

        Assert.Throws<PathNotFoundException>(() => _driver.TryListChildObjects("/nothing", "link", true, out _));
        Assert.Throws<PathNotFoundException>(() => _driver.TryListChildObjects("/target", "link", true, out _));
        Directory.CreateDirectory(Path.Combine(_root, "onlyhidden"));
        File.WriteAllText(Path.Combine(_root, "onlyhidden", FileSystemDriver.TemporaryFilePrefix + "y"), "hidden");
        Assert.Throws<PathNotFoundException>(() => _driver.TryListChildObjects("/onlyhidden", "link", true, out _));
        Assert.Throws<InvalidPathException>(() => _driver.TryListChildObjects("/d/../x", "link", true, out _));
        Assert.Throws<ArgumentException>(() => _driver.TryListChildObjects("/d", "../link", true, out _));
    }

    [Fact]
    public async Task PutContent_LeavesOnlyTheObjectOnDisk()
    {
        await _driver.PutContentAsync("/a/b/object", Encoding.ASCII.GetBytes("content"));

        Assert.Equal([Path.Combine(_root, "a/b/object")], Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories));
        Assert.Equal("content", await File.ReadAllTextAsync(Path.Combine(_root, "a/b/object")));
    }

    [Fact]
    public async Task PutContent_ReplacesByRename_OpenReaderKeepsOldContent()
    {
        await _driver.PutContentAsync("/object", Encoding.ASCII.GetBytes("old content"));
        await using var reader = await _driver.OpenReadAsync("/object");

        await _driver.PutContentAsync("/object", Encoding.ASCII.GetBytes("new"));

        // An in-place write would have truncated the file under the reader.
        using var text = new StreamReader(reader);
        Assert.Equal("old content", await text.ReadToEndAsync());
        Assert.Equal("new", Encoding.ASCII.GetString(await _driver.GetContentAsync("/object")));
    }

    [Fact]
    public async Task PutContent_Failed_LeavesNoTemporaryFileNorDirectory()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _driver.PutContentAsync("/new/dir/object", new byte[10], cancelled.Token));

        Assert.Empty(Directory.EnumerateFileSystemEntries(_root));
    }

    [Fact]
    public async Task GetLocalPath_IsTheObjectsFile_OrNull()
    {
        await _driver.PutContentAsync("/dir/object", Encoding.ASCII.GetBytes("x"));

        Assert.Equal(Path.Combine(_root, "dir/object"), _driver.GetLocalPath("/dir/object"));
        Assert.Null(_driver.GetLocalPath("/dir"));
        Assert.Null(_driver.GetLocalPath("/dir/missing"));
        Assert.Throws<InvalidPathException>(() => _driver.GetLocalPath("/dir/../etc"));
    }

    [Fact]
    public async Task Writer_KeepsUncommittedBytesInHiddenFileBesideTarget()
    {
        var hidden = Path.Combine(_root, "upload", FileSystemDriver.TemporaryFilePrefix + "w-data");
        await using (var writer = await _driver.CreateWriterAsync("/upload/data", append: false))
        {
            await writer.WriteAsync(Encoding.ASCII.GetBytes("partial"));
        }

        Assert.Equal("partial", await File.ReadAllTextAsync(hidden));
        Assert.False(File.Exists(Path.Combine(_root, "upload/data")));

        await using (var writer = await _driver.CreateWriterAsync("/upload/data", append: true))
        {
            await writer.WriteAsync(Encoding.ASCII.GetBytes(" and the rest"));
            await writer.CommitAsync();
        }

        Assert.False(File.Exists(hidden));
        Assert.Equal("partial and the rest", await File.ReadAllTextAsync(Path.Combine(_root, "upload/data")));
    }

    [Theory]
    [InlineData("/dir/.berth-tmp-0123")]
    [InlineData("/dir/.berth-tmp-w-data")]
    [InlineData("/.berth-tmp-dir/object")]
    public async Task ReservedNames_AreInvalidPaths(string path)
    {
        await Assert.ThrowsAsync<InvalidPathException>(() => _driver.PutContentAsync(path, new byte[1]));
        await Assert.ThrowsAsync<InvalidPathException>(() => _driver.StatAsync(path));
        await Assert.ThrowsAsync<InvalidPathException>(() => _driver.ListAsync(path));
    }

    [Fact]
    public async Task TemporaryFilesLeftByACrash_AreNeverListed()
    {
        await _driver.PutContentAsync("/dir/object", new byte[3]);
        await File.WriteAllTextAsync(Path.Combine(_root, "dir", FileSystemDriver.TemporaryFilePrefix + "0123456789abcdef"), "torn");
        Directory.CreateDirectory(Path.Combine(_root, "only-temp"));
        await File.WriteAllTextAsync(Path.Combine(_root, "only-temp", FileSystemDriver.TemporaryFilePrefix + "w-data"), "uncommitted");

        Assert.Equal(["/dir/object"], await _driver.ListAsync("/dir"));
        var walked = new List<string>();
        await foreach (var entry in _driver.WalkAsync("/"))
        {
            walked.Add(entry.Path);
        }
        Assert.Equal(["/dir/object"], walked);
        await Assert.ThrowsAsync<PathNotFoundException>(() => _driver.ListAsync("/only-temp"));
    }

    [Fact]
    public async Task Delete_RemovesEmptiedDirectories_ButNeverTheRoot()
    {
        await _driver.PutContentAsync("/a/b/c/object", new byte[1]);
        await _driver.PutContentAsync("/a/keep", new byte[1]);

        await _driver.DeleteAsync("/a/b/c/object");

        Assert.False(Directory.Exists(Path.Combine(_root, "a/b")));
        Assert.True(File.Exists(Path.Combine(_root, "a/keep")));

        await _driver.DeleteAsync("/a/keep");

        Assert.True(Directory.Exists(_root));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_root));
    }

    [Fact]
    public async Task Writer_Cancel_RemovesHiddenFileAndEmptiedDirectories()
    {
        await using (var writer = await _driver.CreateWriterAsync("/uploads/id/data", append: false))
        {
            await writer.WriteAsync(new byte[100]);
            await writer.CancelAsync();
        }

        Assert.Empty(Directory.EnumerateFileSystemEntries(_root));
    }

    [Fact]
    public async Task PutAndDelete_RacingInOneDirectory_NeverFail()
    {
        // Each delete may remove the shared directory while another task is about to create a file in it.
        var driver = new FileSystemDriver(_root, syncToDisk: false);

        await Task.WhenAll(Enumerable.Range(0, 4).Select(i => Task.Run(async () =>
        {
            for (var round = 0; round < 200; round++)
            {
                await driver.PutContentAsync($"/shared/dir/object{i}", new byte[16]);
                await using (var writer = await driver.CreateWriterAsync($"/shared/dir/upload{i}", append: false))
                {
                    await writer.WriteAsync(new byte[16]);
                    await writer.CommitAsync();
                }
                await driver.MoveAsync($"/shared/dir/upload{i}", $"/shared/other/moved{i}");
                await driver.DeleteAsync($"/shared/dir/object{i}");
                await driver.DeleteAsync($"/shared/other/moved{i}");
            }
        })));

        Assert.Empty(Directory.EnumerateFileSystemEntries(_root));
    }
}
