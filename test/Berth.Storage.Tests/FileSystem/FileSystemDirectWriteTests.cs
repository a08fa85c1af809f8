using Berth.Storage.FileSystem;

namespace Berth.Storage.Tests.FileSystem;

/// <summary>Writers send whole aligned chunks to the disk with O_DIRECT and everything else through the page
/// cache: whatever the mix, the object holds exactly the bytes written, in order.</summary>
public sealed class FileSystemDirectWriteTests : IDisposable
{
    private const int MiB = 1024 * 1024;

    // On the disk the tests run from, not /tmp: Debian mounts /tmp as tmpfs, which refuses O_DIRECT.
    private readonly string _root = Path.Combine(AppContext.BaseDirectory, "berth-direct-" + Guid.NewGuid().ToString("N"));
    private readonly List<string> _roots = [];

    public FileSystemDirectWriteTests()
    {
        Assert.True(OperatingSystem.IsLinux(), "direct writes are a Linux feature: run the tests on Linux");
        _roots.Add(_root);
    }

    public void Dispose()
    {
        foreach (var root in _roots.Where(Directory.Exists))
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static byte[] Random(int length)
    {
        var bytes = new byte[length];
        System.Random.Shared.NextBytes(bytes);
        return bytes;
    }

    private string Local(string root, string path) => Path.Combine(root, path.TrimStart('/'));

    [Fact]
    public async Task WholeChunks_GoToTheDiskDirectly_AndTheTailThroughThePageCache()
    {
        var driver = new FileSystemDriver(_root);
        var chunks = Enumerable.Range(0, 8).Select(_ => Random(MiB)).Append(Random(1000)).ToList();

        await using (var writer = await driver.CreateWriterAsync("/u/data", append: false))
        {
            foreach (var chunk in chunks)
            {
                await writer.WriteAsync(chunk);
            }
            Assert.Equal(8L * MiB + 1000, writer.Size);
            await writer.CommitAsync();
        }

        Assert.True(driver.DirectWritesEnabled, "the file system under the test output refused O_DIRECT");
        Assert.Equal(8L * MiB, driver.DirectBytesWritten);
        Assert.Equal(chunks.SelectMany(c => c).ToArray(), await File.ReadAllBytesAsync(Local(_root, "/u/data")));
    }

    [Fact]
    public async Task ADirectlyWrittenBlob_IsReadBackIntoThePageCache_WholeAfterCommit()
    {
        // Direct writes bypass the page cache; after commit the driver reads the file back in the background (a
        // just-pushed blob is often pulled next), a piece at a time, so that an fsync never waits behind the whole
        // file's reads. Every piece must be asked for: the kernel caps one posix_fadvise at its read-ahead window.
        var driver = new FileSystemDriver(_root);
        await using (var writer = await driver.CreateWriterAsync("/r/data", append: false))
        {
            for (var i = 0; i < 32; i++)
            {
                await writer.WriteAsync(Random(MiB));
            }
            await writer.CommitAsync();
        }
        Assert.Equal(32L * MiB, driver.DirectBytesWritten);

        var local = Local(_root, "/r/data");
        var resident = 0L;
        for (var attempt = 0; attempt < 100 && resident < 32L * MiB; attempt++)
        {
            await Task.Delay(50);
            resident = ResidentBytes(local);
        }
        Assert.Equal(32L * MiB, resident);
    }

    /// <summary>Bytes of the file in the page cache (mincore over a read-only mapping; reads nothing).</summary>
    private static unsafe long ResidentBytes(string path)
    {
        var length = new FileInfo(path).Length;
        using var map = System.IO.MemoryMappedFiles.MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, System.IO.MemoryMappedFiles.MemoryMappedFileAccess.Read);
        using var view = map.CreateViewAccessor(0, length, System.IO.MemoryMappedFiles.MemoryMappedFileAccess.Read);
        byte* pointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        try
        {
            var pageSize = Environment.SystemPageSize;
            var start = (byte*)((long)(pointer + view.PointerOffset) & ~(long)(pageSize - 1));
            var span = length + (pointer + view.PointerOffset - start);
            var pages = (int)((span + pageSize - 1) / pageSize);
            var vector = new byte[pages];
            fixed (byte* v = vector)
            {
                Assert.Equal(0, mincore(start, (nuint)span, v));
            }
            return Math.Min(length, vector.LongCount(b => (b & 1) != 0) * pageSize);
        }
        finally
        {
            view.SafeMemoryMappedViewHandle.ReleasePointer();
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern unsafe int mincore(byte* address, nuint length, byte* vector);

    [Fact]
    public async Task UnalignedAppends_AndOddSizes_KeepEveryByteInOrder()
    {
        var driver = new FileSystemDriver(_root);
        var expected = new MemoryStream();
        int[][] sessions =
        [
            [MiB, MiB + 13, 3000, 2 * MiB + MiB / 2, MiB],   // unaligned after the second write, realigned by the fourth
            [MiB, 4096 * 17, MiB],                           // resumes at an unaligned size
            [100, 4096 - 100 - 1, 1, 3 * MiB, 64 * 1024, 5],  // small writes through the page cache between big ones
        ];
        for (var s = 0; s < sessions.Length; s++)
        {
            await using var writer = await driver.CreateWriterAsync("/u/data", append: s > 0);
            Assert.Equal(expected.Length, writer.Size);
            foreach (var length in sessions[s])
            {
                var bytes = Random(length);
                expected.Write(bytes);
                await writer.WriteAsync(bytes);
            }
            if (s == sessions.Length - 1)
            {
                await writer.CommitAsync();
            }
        }

        Assert.True(driver.DirectBytesWritten >= 9L * MiB, $"only {driver.DirectBytesWritten} bytes went direct");
        Assert.Equal(expected.ToArray(), await File.ReadAllBytesAsync(Local(_root, "/u/data")));
    }

    [Fact]
    public async Task Cancel_WithWritesInFlight_LeavesNothing_AndLaterWritersStillWork()
    {
        var driver = new FileSystemDriver(_root);
        var writer = await driver.CreateWriterAsync("/u/data", append: false);
        for (var i = 0; i < 6; i++)
        {
            await writer.WriteAsync(Random(MiB));
        }
        await writer.CancelAsync();
        await writer.DisposeAsync();

        Assert.False(Directory.Exists(Local(_root, "/u")));

        // Many writers at once: more than the bounded buffer pool serves; the rest use the page cache.
        var contents = Enumerable.Range(0, 24).Select(_ => Random(3 * MiB + 5)).ToList();
        await Task.WhenAll(contents.Select(async (content, i) =>
        {
            await using var w = await driver.CreateWriterAsync($"/many/{i}/data", append: false);
            for (var offset = 0; offset < content.Length; offset += MiB)
            {
                await w.WriteAsync(content.AsMemory(offset, Math.Min(MiB, content.Length - offset)));
            }
            await w.CommitAsync();
        }));
        for (var i = 0; i < contents.Count; i++)
        {
            Assert.Equal(contents[i], await File.ReadAllBytesAsync(Local(_root, $"/many/{i}/data")));
        }
    }

    [Fact]
    public async Task OnTmpfs_EveryByteArrives_WhetherOrNotTheKernelTakesODirect()
    {
        // tmpfs accepts O_DIRECT since Linux 6.6 and refuses it before: either way the object is whole, and a
        // refusal turns direct writes off for the driver instead of failing the write.
        Assert.True(Directory.Exists("/dev/shm"), "this test needs the tmpfs at /dev/shm");
        var root = Path.Combine("/dev/shm", "berth-direct-" + Guid.NewGuid().ToString("N"));
        _roots.Add(root);
        var driver = new FileSystemDriver(root);
        var content = Random(4 * MiB + 77);

        await using (var writer = await driver.CreateWriterAsync("/u/data", append: false))
        {
            for (var offset = 0; offset < content.Length; offset += MiB)
            {
                await writer.WriteAsync(content.AsMemory(offset, Math.Min(MiB, content.Length - offset)));
            }
            await writer.CommitAsync();
        }

        Assert.Equal(content, await File.ReadAllBytesAsync(Local(root, "/u/data")));
        Assert.Equal(driver.DirectWritesEnabled ? 4L * MiB : 0, driver.DirectBytesWritten);
    }

    [Fact]
    public async Task WithoutSyncToDisk_NothingGoesDirect()
    {
        var driver = new FileSystemDriver(_root, syncToDisk: false);
        await using (var writer = await driver.CreateWriterAsync("/u/data", append: false))
        {
            await writer.WriteAsync(Random(2 * MiB));
            await writer.CommitAsync();
        }

        Assert.False(driver.DirectWritesEnabled);
        Assert.Equal(0, driver.DirectBytesWritten);
        Assert.Equal(2L * MiB, new FileInfo(Local(_root, "/u/data")).Length);
    }
}
