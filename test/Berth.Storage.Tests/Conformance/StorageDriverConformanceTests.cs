using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using System.Text;

namespace Berth.Storage.Tests.Conformance;

/// <summary>
/// The behaviour every <see cref="IStorageDriver"/> shares, after distribution's driver test suite. Each
/// driver's tests subclass this with a constructor and nothing else; only the contract documented on
/// <see cref="IStorageDriver"/> is tested here, never how a driver stores bytes.
/// <para>Every test gets a fresh driver and works under top-level directories from <see cref="NewDirectory"/>
/// or <see cref="NewPath"/>. After the test those directories are deleted and the driver must be empty
/// (nothing listed or walked from the root), otherwise the test fails: it wrote outside its directories or
/// the driver kept something a delete should have removed.</para>
/// </summary>
public abstract class StorageDriverConformanceTests : IAsyncLifetime
{
    private const int LargeObjectSize = (6 * 1024 * 1024) + 123;
    private readonly List<string> _directories = [];
    private IStorageDriver? _driver;

    protected IStorageDriver Driver => _driver ?? throw new InvalidOperationException("the driver is created in InitializeAsync");

    /// <summary>A new, empty driver for one test.</summary>
    protected abstract IStorageDriver CreateDriver();

    /// <summary>Releases what <see cref="CreateDriver"/> made (a temporary directory, a bucket prefix). Runs after
    /// the emptiness check, also when it fails; a driver may check its own storage here.</summary>
    protected virtual Task DestroyDriverAsync(IStorageDriver driver) => Task.CompletedTask;

    public Task InitializeAsync()
    {
        _driver = CreateDriver();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_driver is null)
        {
            return;
        }
        Exception? failure = null;
        try
        {
            await DeleteDirectoriesAndCheckEmptyAsync(_driver);
        }
        catch (Exception e)
        {
            failure = e;
        }
        try
        {
            await DestroyDriverAsync(_driver);
        }
        catch (Exception e) when (failure is not null)
        {
            throw new AggregateException(failure, e);
        }
        if (failure is not null)
        {
            ExceptionDispatchInfo.Throw(failure);
        }
    }

    private async Task DeleteDirectoriesAndCheckEmptyAsync(IStorageDriver driver)
    {
        foreach (var directory in _directories)
        {
            try
            {
                await driver.DeleteAsync(directory);
            }
            catch (PathNotFoundException)
            {
            }
        }
        var listed = await driver.ListAsync(StoragePath.Root);
        var walked = await WalkAllAsync(StoragePath.Root);
        if (listed.Count > 0 || walked.Count > 0)
        {
            Assert.Fail("storage is not empty after the test's directories were deleted; left behind: "
                + string.Join(", ", listed.Concat(walked.Select(e => e.Path)).Distinct()));
        }
    }

    // ---- whole objects ----

    [Fact]
    public async Task PutContent_ThenGetContent_ReturnsSameBytes()
    {
        var path = NewPath();
        byte[] content = [0x80, 0x00, 0xff, 0xc3, 0x28, .. RandomBytes(1024 * 1024, seed: 1)];

        await Driver.PutContentAsync(path, content);

        Assert.Equal(content, await Driver.GetContentAsync(path));
    }

    [Fact]
    public async Task VolatilePut_IsAtomicAndVisibleLikeADurableOne()
    {
        var path = NewPath();
        var first = RandomBytes(64 * 1024, seed: 1);
        var second = RandomBytes(1000, seed: 2);

        await Driver.PutContentAsync(path, first, Durability.Volatile);
        Assert.Equal(first, await Driver.GetContentAsync(path));
        await Driver.PutContentAsync(path, second, Durability.Volatile);

        Assert.Equal(second, await Driver.GetContentAsync(path));
        Assert.Equal(second.Length, (await Driver.StatAsync(path)).Size);
        Assert.Contains(path, await Driver.ListAsync(StoragePath.Parent(path)));
    }

    [Fact]
    public async Task VolatileDelete_RemovesObjectAndEmptyDirectories()
    {
        var path = NewPath();
        await Driver.PutContentAsync(path, RandomBytes(10, seed: 1));

        await Driver.DeleteAsync(StoragePath.Parent(path), Durability.Volatile);

        await Assert.ThrowsAsync<PathNotFoundException>(() => Driver.GetContentAsync(path));
        await Assert.ThrowsAsync<PathNotFoundException>(() => Driver.StatAsync(StoragePath.Parent(path)));
        await Assert.ThrowsAsync<PathNotFoundException>(() => Driver.DeleteAsync(path, Durability.Volatile));
    }

    [Fact]
    public async Task VolatileCommit_ThenMove_PublishesWholeContent()
    {
        var source = NewPath();
        var destination = NewPath();
        var content = RandomBytes(3 * 1024 * 1024 + 17, seed: 3);
        await using (var writer = await Driver.CreateWriterAsync(source, append: false))
        {
            await writer.WriteAsync(content.AsMemory(0, 1024 * 1024));
            await writer.WriteAsync(content.AsMemory(1024 * 1024));
            await writer.CommitAsync(Durability.Volatile);
        }
        Assert.Equal(content, await Driver.GetContentAsync(source));

        await Driver.MoveAsync(source, destination);

        Assert.Equal(content, await Driver.GetContentAsync(destination));
        await Assert.ThrowsAsync<PathNotFoundException>(() => Driver.GetContentAsync(source));
    }

    [Fact]
    public async Task PutContent_Overwrite_ReplacesWholeContent()
    {
        var path = NewPath();
        await Driver.PutContentAsync(path, RandomBytes(64 * 1024, seed: 1));
        var smaller = RandomBytes(1000, seed: 2);

        await Driver.PutContentAsync(path, smaller);

        Assert.Equal(smaller, await Driver.GetContentAsync(path));
        Assert.Equal(smaller.Length, (await Driver.StatAsync(path)).Size);
    }

    [Fact]
    public async Task PutContent_Empty_StoresZeroByteObject()
    {
        var path = NewPath();

        await Driver.PutContentAsync(path, ReadOnlyMemory<byte>.Empty);

        Assert.Empty(await Driver.GetContentAsync(path));
        var entry = await Driver.StatAsync(path);
        Assert.Equal(0, entry.Size);
        Assert.False(entry.IsDirectory);
        await using var stream = await Driver.OpenReadAsync(path);
        Assert.Empty(await ReadAllAsync(stream));
    }

    [Fact]
    public async Task PutContentAndGetContent_DoNotShareBuffersWithCaller()
    {
        var path = NewPath();
        var content = Encoding.ASCII.GetBytes("original");

        await Driver.PutContentAsync(path, content);
        content[0] = (byte)'X';
        var read = await Driver.GetContentAsync(path);
        read[1] = (byte)'Y';

        Assert.Equal("original", Encoding.ASCII.GetString(await Driver.GetContentAsync(path)));
    }

    [Fact]
    public async Task PutContent_ConcurrentlyToOnePath_LeavesOneWholeValue()
    {
        const int writers = 8;
        const int rounds = 6;
        var path = NewPath();
        await Driver.PutContentAsync(path, Value(0));
        using var stop = new CancellationTokenSource();

        var readers = Enumerable.Range(0, 2).Select(r => Task.Run(async () =>
        {
            var reads = 0;
            while (!stop.IsCancellationRequested || reads == 0)
            {
                if (r == 0)
                {
                    AssertWhole(await Driver.GetContentAsync(path));
                }
                else
                {
                    await using var stream = await Driver.OpenReadAsync(path);
                    AssertWhole(await ReadAllAsync(stream));
                }
                reads++;
            }
        })).ToList();
        await Task.WhenAll(Enumerable.Range(1, writers).Select(i => Task.Run(async () =>
        {
            for (var round = 0; round < rounds; round++)
            {
                await Driver.PutContentAsync(path, Value(i));
            }
        })));
        stop.Cancel();
        await Task.WhenAll(readers);

        var final = await Driver.GetContentAsync(path);
        AssertWhole(final);
        Assert.NotEqual(0, final[0]);
        Assert.Equal(final.Length, (await Driver.StatAsync(path)).Size);

        // Value i is (i + 1) * 16 KiB + i bytes, all equal to i: a mix of two puts shows.
        static byte[] Value(int i) => Enumerable.Repeat((byte)i, ((i + 1) * 16 * 1024) + i).ToArray();

        static void AssertWhole(byte[] content)
        {
            Assert.NotEmpty(content);
            var i = content[0];
            Assert.Equal(Value(i).Length, content.Length);
            Assert.True(content.AsSpan().IndexOfAnyExcept(i) < 0, $"content mixes value {i} with another");
        }
    }

    [Fact]
    public async Task ListAndWalk_DuringPuts_NeverShowTemporaryFiles()
    {
        var dir = NewDirectory();
        string[] existing = [$"{dir}/a", $"{dir}/b", $"{dir}/sub/c"];
        var added = Enumerable.Range(0, 12).Select(i => $"{dir}/new{i}").ToArray();
        foreach (var path in existing)
        {
            await Driver.PutContentAsync(path, RandomBytes(10, seed: 1));
        }
        var allowedInList = new HashSet<string>([$"{dir}/a", $"{dir}/b", $"{dir}/sub", .. added]);
        var allowedInWalk = new HashSet<string>([.. existing, .. added]);
        var content = RandomBytes(256 * 1024, seed: 2);

        var puts = Task.Run(async () =>
        {
            for (var round = 0; round < 3; round++)
            {
                foreach (var path in existing.Concat(added))
                {
                    await Driver.PutContentAsync(path, content);
                }
            }
        });
        var checks = 0;
        while (!puts.IsCompleted || checks == 0)
        {
            var listed = await Driver.ListAsync(dir);
            Assert.All(listed, p => Assert.Contains(p, allowedInList));
            Assert.Superset(new HashSet<string>([$"{dir}/a", $"{dir}/b", $"{dir}/sub"]), listed.ToHashSet());
            var walked = await WalkAllAsync(dir);
            Assert.All(walked, e => Assert.Contains(e.Path, allowedInWalk));
            Assert.Superset(existing.ToHashSet(), walked.Select(e => e.Path).ToHashSet());
            checks++;
        }
        await puts;

        Assert.Equal(allowedInWalk, (await WalkAllAsync(dir)).Select(e => e.Path).ToHashSet());
    }

    // ---- missing paths ----

    [Fact]
    public async Task GetContent_Missing_ThrowsPathNotFound()
    {
        var path = NewPath();

        var e = await Assert.ThrowsAsync<PathNotFoundException>(() => Driver.GetContentAsync(path));

        Assert.Equal(path, e.Path);
    }

    [Fact]
    public async Task OpenRead_Missing_ThrowsPathNotFound()
    {
        var path = NewPath();

        await Assert.ThrowsAsync<PathNotFoundException>(() => Driver.OpenReadAsync(path));
        await Assert.ThrowsAsync<PathNotFoundException>(() => Driver.OpenReadAsync(path, 64));
    }

    [Fact]
    public async Task Stat_Missing_ThrowsPathNotFound()
    {
        var path = NewPath();

        await Assert.ThrowsAsync<PathNotFoundException>(() => Driver.StatAsync(path));
        await Assert.ThrowsAsync<PathNotFoundException>(() => Driver.StatAsync(StoragePath.Parent(path)));
    }

    [Fact]
    public async Task List_Missing_ThrowsPathNotFound()
    {
        var dir = NewDirectory();
        await Driver.PutContentAsync($"{dir}/object", RandomBytes(3, seed: 1));

        await Assert.ThrowsAsync<PathNotFoundException>(() => Driver.ListAsync($"{dir}/nonexistent"));
        await Assert.ThrowsAsync<PathNotFoundException>(() => Driver.ListAsync(NewDirectory()));
        // An object is not a directory.
        await Assert.ThrowsAsync<PathNotFoundException>(() => Driver.ListAsync($"{dir}/object"));
    }

    [Fact]
    public async Task Delete_Missing_ThrowsPathNotFound()
    {
        var path = NewPath();

        await Assert.ThrowsAsync<PathNotFoundException>(() => Driver.DeleteAsync(path));
        await Assert.ThrowsAsync<PathNotFoundException>(() => Driver.DeleteAsync(StoragePath.Parent(path)));
    }

    [Fact]
    public async Task Operations_BeneathAnObject_ThrowPathNotFound()
    {
        var dir = NewDirectory();
        await Driver.PutContentAsync($"{dir}/object", RandomBytes(3, seed: 1));
        var beneath = $"{dir}/object/child";

        await Assert.ThrowsAsync<PathNotFoundException>(() => Driver.GetContentAsync(beneath));
        await Assert.ThrowsAsync<PathNotFoundException>(() => Driver.OpenReadAsync(beneath));
        await Assert.ThrowsAsync<PathNotFoundException>(() => Driver.StatAsync(beneath));
        await Assert.ThrowsAsync<PathNotFoundException>(() => Driver.ListAsync(beneath));
        await Assert.ThrowsAsync<PathNotFoundException>(() => Driver.DeleteAsync(beneath));
        await Assert.ThrowsAsync<PathNotFoundException>(() => Driver.MoveAsync(beneath, $"{dir}/elsewhere"));
        Assert.Empty(await WalkAllAsync(beneath));
    }

    // ---- ranged reads ----

    [Theory]
    [InlineData(0)]
    [InlineData(37)]
    [InlineData(99)]
    [InlineData(100)]
    public async Task OpenRead_FromOffset_ReturnsTheRest(long offset)
    {
        var path = NewPath();
        var content = RandomBytes(100, seed: 1);
        await Driver.PutContentAsync(path, content);

        await using var stream = await Driver.OpenReadAsync(path, offset);

        Assert.Equal(content[(int)offset..], await ReadAllAsync(stream));
    }

    [Theory]
    [InlineData(101)]
    [InlineData(1 << 20)]
    [InlineData(-1)]
    public async Task OpenRead_OffsetOutsideObject_ThrowsInvalidOffset(long offset)
    {
        var path = NewPath();
        await Driver.PutContentAsync(path, RandomBytes(100, seed: 1));

        var e = await Assert.ThrowsAsync<InvalidOffsetException>(() => Driver.OpenReadAsync(path, offset));

        Assert.Equal(offset, e.Offset);
        Assert.Equal(path, e.Path);
    }

    // ---- stat ----

    [Fact]
    public async Task Stat_Object_ReportsPathSizeAndTime()
    {
        var path = NewPath();
        var before = DateTimeOffset.UtcNow;
        await Driver.PutContentAsync(path, RandomBytes(4096, seed: 1));

        var entry = await Driver.StatAsync(path);

        Assert.Equal(path, entry.Path);
        Assert.Equal(4096, entry.Size);
        Assert.False(entry.IsDirectory);
        // Generous bounds: object stores stamp with their own clock.
        Assert.InRange(entry.ModifiedAt, before.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(5));
    }

    [Fact]
    public async Task Stat_Directory_ReportsDirectory()
    {
        var path = NewPath();
        await Driver.PutContentAsync(path, RandomBytes(10, seed: 1));
        var parent = StoragePath.Parent(path);

        foreach (var dir in new[] { parent, StoragePath.Parent(parent), StoragePath.Root })
        {
            var entry = await Driver.StatAsync(dir);
            Assert.Equal(dir, entry.Path);
            Assert.True(entry.IsDirectory);
            Assert.Equal(0, entry.Size);
        }
    }

    // ---- list and walk ----

    [Fact]
    public async Task List_ReturnsDirectChildrenOnly_WithFullPaths()
    {
        var dir = NewDirectory();
        foreach (var path in new[] { $"{dir}/a", $"{dir}/b/c", $"{dir}/b/d/e", $"{dir}/b/d/f", $"{dir}/g/h" })
        {
            await Driver.PutContentAsync(path, RandomBytes(5, seed: 1));
        }

        Assert.Equal([dir], Sorted(await Driver.ListAsync(StoragePath.Root)));
        Assert.Equal([$"{dir}/a", $"{dir}/b", $"{dir}/g"], Sorted(await Driver.ListAsync(dir)));
        Assert.Equal([$"{dir}/b/c", $"{dir}/b/d"], Sorted(await Driver.ListAsync($"{dir}/b")));
        Assert.Equal([$"{dir}/b/d/e", $"{dir}/b/d/f"], Sorted(await Driver.ListAsync($"{dir}/b/d")));
    }

    [Fact]
    public async Task List_ManyChildren_ReturnsAll()
    {
        var dir = NewDirectory();
        var children = Enumerable.Range(0, 60).Select(i => $"{dir}/child-{i:D3}").ToList();
        foreach (var child in children)
        {
            await Driver.PutContentAsync(child, RandomBytes(1, seed: 1));
        }

        Assert.Equal(children, Sorted(await Driver.ListAsync(dir)));
    }

    [Fact]
    public async Task Directory_WithoutObjects_NoLongerExists()
    {
        var dir = NewDirectory();
        await Driver.PutContentAsync($"{dir}/keep", RandomBytes(1, seed: 1));
        await Driver.PutContentAsync($"{dir}/x/y/z", RandomBytes(1, seed: 1));

        await Driver.DeleteAsync($"{dir}/x/y/z");

        await Assert.ThrowsAsync<PathNotFoundException>(() => Driver.ListAsync($"{dir}/x/y"));
        await Assert.ThrowsAsync<PathNotFoundException>(() => Driver.ListAsync($"{dir}/x"));
        await Assert.ThrowsAsync<PathNotFoundException>(() => Driver.StatAsync($"{dir}/x"));
        Assert.Equal([$"{dir}/keep"], await Driver.ListAsync(dir));
    }

    [Fact]
    public async Task Walk_ReturnsEveryObjectRecursively_WithSizes()
    {
        var dir = NewDirectory();
        var objects = new Dictionary<string, int>
        {
            [$"{dir}/a"] = 1,
            [$"{dir}/b/c"] = 20,
            [$"{dir}/b/d/e"] = 300,
            [$"{dir}/b/d/f"] = 0,
            [$"{dir}/g/h/i/j"] = 4000,
        };
        foreach (var (path, size) in objects)
        {
            await Driver.PutContentAsync(path, RandomBytes(size, seed: size));
        }

        var walked = await WalkAllAsync(dir);

        Assert.Equal(objects.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (kv.Key, (long)kv.Value)),
            walked.OrderBy(e => e.Path, StringComparer.Ordinal).Select(e => (e.Path, e.Size)));
        Assert.All(walked, e => Assert.False(e.IsDirectory));
        Assert.Equal([$"{dir}/b/c", $"{dir}/b/d/e", $"{dir}/b/d/f"], Sorted((await WalkAllAsync($"{dir}/b")).Select(e => e.Path)));
        Assert.Equal(objects.Keys.Order(StringComparer.Ordinal), Sorted((await WalkAllAsync(StoragePath.Root)).Select(e => e.Path)));
    }

    [Fact]
    public async Task Walk_MissingDirectoryOrObject_YieldsNothing()
    {
        var dir = NewDirectory();
        await Driver.PutContentAsync($"{dir}/object", RandomBytes(3, seed: 1));

        Assert.Empty(await WalkAllAsync($"{dir}/missing"));
        Assert.Empty(await WalkAllAsync(NewDirectory()));
        Assert.Empty(await WalkAllAsync($"{dir}/object"));
    }

    [Fact]
    public async Task Walk_DoesNotIncludeSiblingsSharingAPrefix()
    {
        var dir = NewDirectory();
        await Driver.PutContentAsync($"{dir}/a/x", RandomBytes(1, seed: 1));
        await Driver.PutContentAsync($"{dir}/ab/x", RandomBytes(1, seed: 1));
        await Driver.PutContentAsync($"{dir}/a.b", RandomBytes(1, seed: 1));

        Assert.Equal([$"{dir}/a/x"], (await WalkAllAsync($"{dir}/a")).Select(e => e.Path));
    }

    // ---- move ----

    [Fact]
    public async Task Move_ToNewDirectory_CreatesParentsAndRemovesSource()
    {
        var source = NewPath();
        var destination = $"{NewDirectory()}/deep/er/destination";
        var content = RandomBytes(2048, seed: 1);
        await Driver.PutContentAsync(source, content);

        await Driver.MoveAsync(source, destination);

        Assert.Equal(content, await Driver.GetContentAsync(destination));
        await Assert.ThrowsAsync<PathNotFoundException>(() => Driver.GetContentAsync(source));
        // The source's directory held nothing else, so it is gone.
        await Assert.ThrowsAsync<PathNotFoundException>(() => Driver.ListAsync(StoragePath.Parent(source)));
    }

    [Fact]
    public async Task Move_OverExistingObject_ReplacesIt()
    {
        var dir = NewDirectory();
        var content = RandomBytes(32, seed: 1);
        await Driver.PutContentAsync($"{dir}/source", content);
        await Driver.PutContentAsync($"{dir}/destination", RandomBytes(64, seed: 2));

        await Driver.MoveAsync($"{dir}/source", $"{dir}/destination");

        Assert.Equal(content, await Driver.GetContentAsync($"{dir}/destination"));
        Assert.Equal([$"{dir}/destination"], await Driver.ListAsync(dir));
    }

    [Fact]
    public async Task Move_MissingSource_ThrowsPathNotFound_AndKeepsDestination()
    {
        var dir = NewDirectory();
        var content = RandomBytes(32, seed: 1);
        await Driver.PutContentAsync($"{dir}/destination", content);

        var e = await Assert.ThrowsAsync<PathNotFoundException>(() => Driver.MoveAsync($"{dir}/missing", $"{dir}/destination"));

        Assert.Equal($"{dir}/missing", e.Path);
        Assert.Equal(content, await Driver.GetContentAsync($"{dir}/destination"));
    }

    // ---- delete ----

    [Fact]
    public async Task Delete_Object_RemovesOnlyThatObject()
    {
        var dir = NewDirectory();
        await Driver.PutContentAsync($"{dir}/one", RandomBytes(1, seed: 1));
        await Driver.PutContentAsync($"{dir}/two", RandomBytes(1, seed: 1));

        await Driver.DeleteAsync($"{dir}/one");

        await Assert.ThrowsAsync<PathNotFoundException>(() => Driver.GetContentAsync($"{dir}/one"));
        Assert.Equal([$"{dir}/two"], await Driver.ListAsync(dir));
    }

    [Fact]
    public async Task Delete_Directory_RemovesEverythingBelow()
    {
        var dir = NewDirectory();
        await Driver.PutContentAsync($"{dir}/keep", RandomBytes(1, seed: 1));
        foreach (var path in new[] { $"{dir}/tree/a", $"{dir}/tree/b/c", $"{dir}/tree/b/d/e" })
        {
            await Driver.PutContentAsync(path, RandomBytes(1, seed: 1));
        }

        await Driver.DeleteAsync($"{dir}/tree");

        Assert.Empty(await WalkAllAsync($"{dir}/tree"));
        await Assert.ThrowsAsync<PathNotFoundException>(() => Driver.GetContentAsync($"{dir}/tree/b/d/e"));
        await Assert.ThrowsAsync<PathNotFoundException>(() => Driver.StatAsync($"{dir}/tree"));
        Assert.Equal([$"{dir}/keep"], await Driver.ListAsync(dir));
    }

    [Fact]
    public async Task Delete_DoesNotTouchPathsSharingAPrefix()
    {
        var dir = NewDirectory();
        string[] others = [$"{dir}/ab", $"{dir}/a.b/x", $"{dir}/a-suffix/x"];
        await Driver.PutContentAsync($"{dir}/a", RandomBytes(1, seed: 1));
        await Driver.PutContentAsync($"{dir}/nested/a/x", RandomBytes(1, seed: 1));
        foreach (var path in others)
        {
            await Driver.PutContentAsync(path, RandomBytes(1, seed: 1));
        }

        await Driver.DeleteAsync($"{dir}/a");
        await Driver.DeleteAsync($"{dir}/nested/a");

        Assert.Equal(others.Order(StringComparer.Ordinal), Sorted((await WalkAllAsync(dir)).Select(e => e.Path)));
    }

    // ---- writer ----

    [Fact]
    public async Task Writer_WriteInChunks_SizeGrowsAndCommitPublishes()
    {
        var path = NewPath();
        await using var writer = await Driver.CreateWriterAsync(path, append: false);
        Assert.Equal(0, writer.Size);

        await writer.WriteAsync(Encoding.ASCII.GetBytes("hello "));
        Assert.Equal(6, writer.Size);
        await writer.WriteAsync(ReadOnlyMemory<byte>.Empty);
        await writer.WriteAsync(Encoding.ASCII.GetBytes("world"));
        Assert.Equal(11, writer.Size);
        await writer.CommitAsync();

        Assert.Equal(11, writer.Size);
        Assert.Equal("hello world", Encoding.ASCII.GetString(await Driver.GetContentAsync(path)));
        Assert.Equal(11, (await Driver.StatAsync(path)).Size);
    }

    [Fact]
    public async Task Writer_LargeObject_StreamsInChunks()
    {
        var path = NewPath();
        var random = new Random(7);
        using var expected = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var chunk = new byte[(1024 * 1024) + 17];
        var written = 0;
        await using (var writer = await Driver.CreateWriterAsync(path, append: false))
        {
            while (written < LargeObjectSize)
            {
                var size = Math.Min(LargeObjectSize - written, random.Next(1, chunk.Length + 1));
                random.NextBytes(chunk.AsSpan(0, size));
                expected.AppendData(chunk, 0, size);
                await writer.WriteAsync(chunk.AsMemory(0, size));
                written += size;
                Assert.Equal(written, writer.Size);
            }
            await writer.CommitAsync();
        }

        Assert.Equal(LargeObjectSize, (await Driver.StatAsync(path)).Size);
        Assert.Equal(LargeObjectSize, Assert.Single(await WalkAllAsync(StoragePath.Parent(path))).Size);
        await using (var stream = await Driver.OpenReadAsync(path))
        {
            Assert.Equal(Convert.ToHexString(expected.GetHashAndReset()), Convert.ToHexString(await SHA256.HashDataAsync(stream)));
        }
        var whole = await Driver.GetContentAsync(path);
        await using (var tail = await Driver.OpenReadAsync(path, LargeObjectSize / 2))
        {
            var read = await ReadAllAsync(tail);
            Assert.True(whole.AsSpan(LargeObjectSize / 2).SequenceEqual(read));
        }
    }

    [Fact]
    public async Task Writer_Uncommitted_IsInvisible()
    {
        var dir = NewDirectory();
        await Driver.PutContentAsync($"{dir}/sibling", RandomBytes(1, seed: 1));
        var path = $"{dir}/pending";

        await using (var writer = await Driver.CreateWriterAsync(path, append: false))
        {
            await writer.WriteAsync(RandomBytes(1000, seed: 2));

            await AssertInvisible();
        }
        await AssertInvisible();

        async Task AssertInvisible()
        {
            await Assert.ThrowsAsync<PathNotFoundException>(() => Driver.GetContentAsync(path));
            await Assert.ThrowsAsync<PathNotFoundException>(() => Driver.OpenReadAsync(path));
            await Assert.ThrowsAsync<PathNotFoundException>(() => Driver.StatAsync(path));
            Assert.Equal([$"{dir}/sibling"], await Driver.ListAsync(dir));
            Assert.Equal([$"{dir}/sibling"], (await WalkAllAsync(dir)).Select(e => e.Path));
        }
    }

    [Fact]
    public async Task Writer_DisposedWithoutCommit_AppendContinuesWithSizeKept()
    {
        var path = NewPath();
        var parts = new[] { RandomBytes(3000, seed: 1), RandomBytes(1, seed: 2), RandomBytes(70_000, seed: 3) };

        await using (var writer = await Driver.CreateWriterAsync(path, append: false))
        {
            await writer.WriteAsync(parts[0]);
        }
        await using (var writer = await Driver.CreateWriterAsync(path, append: true))
        {
            Assert.Equal(3000, writer.Size);
            await writer.WriteAsync(parts[1]);
        }
        await Assert.ThrowsAsync<PathNotFoundException>(() => Driver.StatAsync(path));
        await using (var writer = await Driver.CreateWriterAsync(path, append: true))
        {
            Assert.Equal(3001, writer.Size);
            await writer.WriteAsync(parts[2]);
            Assert.Equal(73_001, writer.Size);
            await writer.CommitAsync();
        }

        Assert.Equal(parts.SelectMany(p => p).ToArray(), await Driver.GetContentAsync(path));
    }

    [Fact]
    public async Task Writer_EmptyUncommittedWrite_CanBeResumed()
    {
        var path = NewPath();
        await using (var writer = await Driver.CreateWriterAsync(path, append: false))
        {
        }

        await using (var writer = await Driver.CreateWriterAsync(path, append: true))
        {
            Assert.Equal(0, writer.Size);
            await writer.WriteAsync(Encoding.ASCII.GetBytes("resumed"));
            await writer.CommitAsync();
        }

        Assert.Equal("resumed", Encoding.ASCII.GetString(await Driver.GetContentAsync(path)));
    }

    [Fact]
    public async Task Writer_CommitWithoutBytes_StoresEmptyObject()
    {
        var path = NewPath();

        await using (var writer = await Driver.CreateWriterAsync(path, append: false))
        {
            await writer.CommitAsync();
        }

        Assert.Empty(await Driver.GetContentAsync(path));
        Assert.Equal(0, (await Driver.StatAsync(path)).Size);
    }

    [Fact]
    public async Task Writer_WithoutAppend_DiscardsEarlierUncommittedBytes()
    {
        var path = NewPath();
        await using (var writer = await Driver.CreateWriterAsync(path, append: false))
        {
            await writer.WriteAsync(RandomBytes(5000, seed: 1));
        }

        await using (var writer = await Driver.CreateWriterAsync(path, append: false))
        {
            Assert.Equal(0, writer.Size);
            await writer.WriteAsync(Encoding.ASCII.GetBytes("fresh"));
            await writer.CommitAsync();
        }

        Assert.Equal("fresh", Encoding.ASCII.GetString(await Driver.GetContentAsync(path)));
    }

    [Fact]
    public async Task Writer_WithoutAppend_ReplacesCommittedObjectOnlyAtCommit()
    {
        var path = NewPath();
        await Driver.PutContentAsync(path, Encoding.ASCII.GetBytes("a much longer earlier content"));

        await using (var writer = await Driver.CreateWriterAsync(path, append: false))
        {
            Assert.Equal(0, writer.Size);
            await writer.WriteAsync(Encoding.ASCII.GetBytes("short"));
            Assert.Equal("a much longer earlier content", Encoding.ASCII.GetString(await Driver.GetContentAsync(path)));
            await writer.CommitAsync();
        }

        Assert.Equal("short", Encoding.ASCII.GetString(await Driver.GetContentAsync(path)));
    }

    [Fact]
    public async Task Writer_Cancel_DiscardsEveryWrittenByte()
    {
        var dir = NewDirectory();
        var path = $"{dir}/upload/data";
        await using (var writer = await Driver.CreateWriterAsync(path, append: false))
        {
            await writer.WriteAsync(RandomBytes(100, seed: 1));
        }

        await using (var writer = await Driver.CreateWriterAsync(path, append: true))
        {
            await writer.WriteAsync(RandomBytes(100, seed: 2));
            await writer.CancelAsync();
        }

        await Assert.ThrowsAsync<PathNotFoundException>(() => Driver.GetContentAsync(path));
        await Assert.ThrowsAsync<PathNotFoundException>(() => Driver.CreateWriterAsync(path, append: true));
        Assert.Empty(await WalkAllAsync(dir));
    }

    [Fact]
    public async Task Writer_Cancel_KeepsObjectCommittedEarlier()
    {
        var path = NewPath();
        await Driver.PutContentAsync(path, Encoding.ASCII.GetBytes("committed"));

        await using (var writer = await Driver.CreateWriterAsync(path, append: false))
        {
            await writer.WriteAsync(Encoding.ASCII.GetBytes("discarded"));
            await writer.CancelAsync();
        }

        Assert.Equal("committed", Encoding.ASCII.GetString(await Driver.GetContentAsync(path)));
    }

    [Fact]
    public async Task Writer_AppendWithoutUncommittedWrite_ThrowsPathNotFound()
    {
        var path = NewPath();

        await Assert.ThrowsAsync<PathNotFoundException>(() => Driver.CreateWriterAsync(path, append: true));

        await using (var writer = await Driver.CreateWriterAsync(path, append: false))
        {
            await writer.WriteAsync(Encoding.ASCII.GetBytes("final"));
            await writer.CommitAsync();
        }
        // Committed objects are final.
        await Assert.ThrowsAsync<PathNotFoundException>(() => Driver.CreateWriterAsync(path, append: true));
        Assert.Equal("final", Encoding.ASCII.GetString(await Driver.GetContentAsync(path)));
    }

    [Fact]
    public async Task Writer_AfterCommit_RefusesWrites()
    {
        var path = NewPath();
        await using var writer = await Driver.CreateWriterAsync(path, append: false);
        await writer.WriteAsync(Encoding.ASCII.GetBytes("done"));
        await writer.CommitAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await writer.WriteAsync(Encoding.ASCII.GetBytes("more")));
        Assert.Equal("done", Encoding.ASCII.GetString(await Driver.GetContentAsync(path)));
    }

    // ---- paths ----

    [Theory]
    [InlineData("a")]
    [InlineData("2")]
    [InlineData("a.a")]
    [InlineData(".abc")]
    [InlineData("...")]
    [InlineData("a--b")]
    [InlineData("_.abc")]
    [InlineData("Abc")]
    [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("1.2.3-4_z/123.z/4")]
    public async Task ValidPath_IsAccepted(string relative)
    {
        var path = $"{NewDirectory()}/{relative}";
        var content = RandomBytes(64, seed: 1);

        await Driver.PutContentAsync(path, content);

        Assert.Equal(content, await Driver.GetContentAsync(path));
        Assert.Equal([path], (await WalkAllAsync(StoragePath.Root)).Select(e => e.Path));
    }

    [Theory]
    [InlineData("")]
    [InlineData("relative")]
    [InlineData("relative/path")]
    [InlineData("/trailing/")]
    [InlineData("//double")]
    [InlineData("/a//b")]
    [InlineData("/a/../b")]
    [InlineData("/..")]
    [InlineData("/a/.")]
    [InlineData("/with space")]
    [InlineData("/tab\there")]
    [InlineData("/new\nline")]
    [InlineData("/back\\slash")]
    [InlineData("/percent%2F")]
    [InlineData("/caf\u00e9")]
    [InlineData("/star*")]
    public async Task InvalidPath_IsRejectedByEveryOperation(string path)
    {
        var valid = NewPath();

        await Assert.ThrowsAsync<InvalidPathException>(() => Driver.PutContentAsync(path, RandomBytes(1, seed: 1)));
        await Assert.ThrowsAsync<InvalidPathException>(() => Driver.GetContentAsync(path));
        await Assert.ThrowsAsync<InvalidPathException>(() => Driver.OpenReadAsync(path));
        await Assert.ThrowsAsync<InvalidPathException>(() => Driver.CreateWriterAsync(path, append: false));
        await Assert.ThrowsAsync<InvalidPathException>(() => Driver.CreateWriterAsync(path, append: true));
        await Assert.ThrowsAsync<InvalidPathException>(() => Driver.StatAsync(path));
        await Assert.ThrowsAsync<InvalidPathException>(() => Driver.ListAsync(path));
        await Assert.ThrowsAsync<InvalidPathException>(() => WalkAllAsync(path));
        await Assert.ThrowsAsync<InvalidPathException>(() => Driver.MoveAsync(path, valid));
        await Assert.ThrowsAsync<InvalidPathException>(() => Driver.MoveAsync(valid, path));
        await Assert.ThrowsAsync<InvalidPathException>(() => Driver.DeleteAsync(path));
    }

    [Fact]
    public async Task Root_IsADirectory_NotAnObject()
    {
        var path = NewPath();
        await Driver.PutContentAsync(path, RandomBytes(1, seed: 1));
        var root = StoragePath.Root;

        Assert.True((await Driver.StatAsync(root)).IsDirectory);
        Assert.Single(await Driver.ListAsync(root));
        Assert.Single(await WalkAllAsync(root));
        await Assert.ThrowsAsync<InvalidPathException>(() => Driver.PutContentAsync(root, RandomBytes(1, seed: 1)));
        await Assert.ThrowsAsync<InvalidPathException>(() => Driver.GetContentAsync(root));
        await Assert.ThrowsAsync<InvalidPathException>(() => Driver.OpenReadAsync(root));
        await Assert.ThrowsAsync<InvalidPathException>(() => Driver.CreateWriterAsync(root, append: false));
        await Assert.ThrowsAsync<InvalidPathException>(() => Driver.MoveAsync(root, path));
        await Assert.ThrowsAsync<InvalidPathException>(() => Driver.MoveAsync(path, root));
        await Assert.ThrowsAsync<InvalidPathException>(() => Driver.DeleteAsync(root));
        Assert.Single(await WalkAllAsync(root));
    }

    // ---- helpers ----

    /// <summary>A fresh top-level directory for this test (not created until something is stored in it),
    /// deleted after the test.</summary>
    protected string NewDirectory()
    {
        var dir = "/" + RandomName();
        _directories.Add(dir);
        return dir;
    }

    /// <summary>A path two directories deep inside a fresh top-level directory.</summary>
    protected string NewPath() => $"{NewDirectory()}/{RandomName()}/{RandomName()}";

    protected async Task<List<StorageEntry>> WalkAllAsync(string path)
    {
        var entries = new List<StorageEntry>();
        await foreach (var entry in Driver.WalkAsync(path))
        {
            entries.Add(entry);
        }
        return entries;
    }

    protected static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    protected static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    private static string RandomName() => "t" + Guid.NewGuid().ToString("N")[..12];

    private static List<string> Sorted(IEnumerable<string> paths) => [.. paths.Order(StringComparer.Ordinal)];
}
