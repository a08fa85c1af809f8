using System.Text;
using Berth.Storage.InMemory;
using Berth.Testing;

namespace Berth.Storage.Tests.Testing;

public sealed class FaultInjectingStorageDriverTests
{
    private readonly InMemoryDriver _storage = new();
    private readonly FaultInjectingStorageDriver _driver;

    public FaultInjectingStorageDriverTests()
    {
        _driver = new FaultInjectingStorageDriver(_storage);
    }

    [Fact]
    public async Task Mutations_AreRecordedInOrder_ReadsAreNot()
    {
        await _driver.PutContentAsync("/blob/data", Bytes("blob"));
        await using (var writer = await _driver.CreateWriterAsync("/upload/data", append: false))
        {
            await writer.WriteAsync(Bytes("layer"));
            await writer.CommitAsync();
        }
        await _driver.MoveAsync("/upload/data", "/blob2/data");
        await _driver.GetContentAsync("/blob/data");
        await _driver.StatAsync("/blob2/data");
        await _driver.ListAsync("/");
        await _driver.DeleteAsync("/blob");

        Assert.Equal(
        [
            new StorageMutation(StorageMutationKind.PutContent, "/blob/data"),
            new StorageMutation(StorageMutationKind.WriterCommit, "/upload/data"),
            new StorageMutation(StorageMutationKind.Move, "/upload/data", "/blob2/data"),
            new StorageMutation(StorageMutationKind.Delete, "/blob"),
        ], _driver.Mutations);
        Assert.Equal(4, _driver.MutationCount);
        Assert.False(_driver.HasCrashed);
    }

    [Fact]
    public async Task CrashOnMutation_FailsThatMutationBeforeItHappens_AndEveryLaterOne()
    {
        _driver.CrashOnMutation(3);
        await _driver.PutContentAsync("/one", Bytes("1"));
        await _driver.PutContentAsync("/two", Bytes("2"));

        var crash = await Assert.ThrowsAsync<SimulatedCrashException>(() => _driver.PutContentAsync("/three", Bytes("3")));

        Assert.IsAssignableFrom<IOException>(crash);
        Assert.True(_driver.HasCrashed);
        await Assert.ThrowsAsync<PathNotFoundException>(() => _storage.GetContentAsync("/three"));
        await Assert.ThrowsAsync<SimulatedCrashException>(() => _driver.PutContentAsync("/four", Bytes("4")));
        await Assert.ThrowsAsync<SimulatedCrashException>(() => _driver.DeleteAsync("/one"));
        await Assert.ThrowsAsync<SimulatedCrashException>(() => _driver.MoveAsync("/one", "/moved"));
        await Assert.ThrowsAsync<SimulatedCrashException>(() => _driver.CreateWriterAsync("/five", append: false));
        Assert.Equal(["/one", "/two"], _driver.Mutations.Select(m => m.Path));
        Assert.Equal(6, _driver.MutationCount);
        // Reads still show what the dead process left.
        Assert.Equal(Bytes("1"), await _driver.GetContentAsync("/one"));
        Assert.Equal(["/one", "/two"], (await _driver.ListAsync("/")).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task CrashOnWriterCommit_LeavesTheUncommittedBytesForAResume()
    {
        _driver.CrashOnNextMutation();
        await using (var writer = await _driver.CreateWriterAsync("/upload/data", append: false))
        {
            await writer.WriteAsync(Bytes("half"));

            await Assert.ThrowsAsync<SimulatedCrashException>(() => writer.CommitAsync());
            await Assert.ThrowsAsync<SimulatedCrashException>(async () => await writer.WriteAsync(Bytes("more")));
            await Assert.ThrowsAsync<SimulatedCrashException>(() => writer.CancelAsync());
        }

        await Assert.ThrowsAsync<PathNotFoundException>(() => _storage.GetContentAsync("/upload/data"));
        await using var resumed = await _storage.CreateWriterAsync("/upload/data", append: true);
        Assert.Equal(4, resumed.Size);
    }

    [Fact]
    public async Task FailedMutation_IsCountedButNotRecorded()
    {
        await Assert.ThrowsAsync<PathNotFoundException>(() => _driver.DeleteAsync("/missing"));

        Assert.Equal(1, _driver.MutationCount);
        Assert.Empty(_driver.Mutations);
        Assert.False(_driver.HasCrashed);
    }

    [Fact]
    public async Task Crash_RefusesMutationsFromNowOn()
    {
        await _driver.PutContentAsync("/before", Bytes("x"));

        _driver.Crash();

        await Assert.ThrowsAsync<SimulatedCrashException>(() => _driver.PutContentAsync("/after", Bytes("y")));
        Assert.Single(_driver.Mutations);
    }

    [Fact]
    public async Task CrashOnMutation_AlreadyAttempted_IsRefused()
    {
        await _driver.PutContentAsync("/one", Bytes("1"));

        Assert.Throws<ArgumentOutOfRangeException>(() => _driver.CrashOnMutation(1));
    }

    /// <summary>The kind of test the driver exists for: a write sequence is data before pointer, and a crash
    /// between the two leaves an orphan, never a dangling pointer.</summary>
    [Fact]
    public async Task CrashBetweenDataAndLink_LeavesOrphanNotDanglingLink()
    {
        _driver.CrashOnMutation(2);

        await Assert.ThrowsAsync<SimulatedCrashException>(() => PublishAsync(_driver));

        Assert.Equal([new StorageMutation(StorageMutationKind.PutContent, "/blobs/data")], _driver.Mutations);
        Assert.Equal(Bytes("content"), await _storage.GetContentAsync("/blobs/data"));
        await Assert.ThrowsAsync<PathNotFoundException>(() => _storage.GetContentAsync("/repo/link"));

        static async Task PublishAsync(IStorageDriver driver)
        {
            await driver.PutContentAsync("/blobs/data", Bytes("content"));
            await driver.PutContentAsync("/repo/link", Bytes("sha256:..."));
        }
    }

    private static byte[] Bytes(string text) => Encoding.ASCII.GetBytes(text);
}
