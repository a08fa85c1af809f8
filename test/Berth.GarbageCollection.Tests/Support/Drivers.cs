using System.Runtime.CompilerServices;
using Berth.Storage;
using Berth.Storage.Layout;

namespace Berth.GarbageCollection.Tests.Support;

/// <summary>Wraps a driver and passes every call through, for decorators to override.</summary>
public class DelegatingDriver(IStorageDriver inner) : IStorageDriver
{
    protected IStorageDriver Inner => inner;

    public string Name => inner.Name;

    protected virtual ValueTask BeforeAsync() => ValueTask.CompletedTask;

    public virtual async Task<byte[]> GetContentAsync(string path, CancellationToken cancellationToken = default)
    {
        await BeforeAsync();
        return await inner.GetContentAsync(path, cancellationToken);
    }

    public virtual async Task PutContentAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        await BeforeAsync();
        await inner.PutContentAsync(path, content, cancellationToken);
    }

    public virtual async Task<Stream> OpenReadAsync(string path, long offset = 0, CancellationToken cancellationToken = default)
    {
        await BeforeAsync();
        return await inner.OpenReadAsync(path, offset, cancellationToken);
    }

    public virtual async Task<IStorageWriter> CreateWriterAsync(string path, bool append, CancellationToken cancellationToken = default)
    {
        await BeforeAsync();
        return await inner.CreateWriterAsync(path, append, cancellationToken);
    }

    public virtual async Task<StorageEntry> StatAsync(string path, CancellationToken cancellationToken = default)
    {
        await BeforeAsync();
        return await inner.StatAsync(path, cancellationToken);
    }

    public virtual async Task<IReadOnlyList<string>> ListAsync(string path, CancellationToken cancellationToken = default)
    {
        await BeforeAsync();
        return await inner.ListAsync(path, cancellationToken);
    }

    public virtual async IAsyncEnumerable<StorageEntry> WalkAsync(string path, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await BeforeAsync();
        await foreach (var e in inner.WalkAsync(path, cancellationToken))
        {
            yield return e;
        }
    }

    public virtual async Task MoveAsync(string sourcePath, string destinationPath, CancellationToken cancellationToken = default)
    {
        await BeforeAsync();
        await inner.MoveAsync(sourcePath, destinationPath, cancellationToken);
    }

    public virtual async Task DeleteAsync(string path, CancellationToken cancellationToken = default)
    {
        await BeforeAsync();
        await inner.DeleteAsync(path, cancellationToken);
    }
}

/// <summary>Yields or sleeps a little before every call, so that concurrent operations interleave in many orders.</summary>
public sealed class JitterDriver(IStorageDriver inner) : DelegatingDriver(inner)
{
    protected override async ValueTask BeforeAsync()
    {
        var r = Random.Shared.Next(10);
        if (r < 6)
        {
            await Task.Yield();
        }
        else if (r < 9)
        {
            await Task.Delay(1);
        }
    }
}

/// <summary>
/// A registry that ignores the GC protocol (like Distribution, or Berth before it): journal writes are
/// dropped and no tombstone is ever seen. Used to show the concurrent test catches the hazard.
/// </summary>
public sealed class ProtocolBlindDriver(IStorageDriver inner) : DelegatingDriver(inner)
{
    private static bool IsGc(string path) => path.StartsWith(StoragePaths.GcRoot + "/", StringComparison.Ordinal) || path == StoragePaths.GcRoot;

    public override Task PutContentAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) =>
        IsGc(path) ? Task.CompletedTask : base.PutContentAsync(path, content, cancellationToken);

    public override Task<IReadOnlyList<string>> ListAsync(string path, CancellationToken cancellationToken = default) =>
        IsGc(path) ? throw new PathNotFoundException(path) : base.ListAsync(path, cancellationToken);

    public override Task<StorageEntry> StatAsync(string path, CancellationToken cancellationToken = default) =>
        IsGc(path) ? throw new PathNotFoundException(path) : base.StatAsync(path, cancellationToken);
}

/// <summary>Fails reads of chosen paths with an I/O error.</summary>
public sealed class FaultyDriver(IStorageDriver inner, Func<string, bool> fails) : DelegatingDriver(inner)
{
    public override Task<byte[]> GetContentAsync(string path, CancellationToken cancellationToken = default) =>
        fails(path) ? throw new IOException("injected read failure: " + path) : base.GetContentAsync(path, cancellationToken);
}

/// <summary>The system clock, shifted by <see cref="Advance"/>; timers run in real time.</summary>
public sealed class ShiftedTimeProvider : TimeProvider
{
    private long _offsetTicks;

    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);

    private TimeSpan Offset => TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + Offset;

    public override long GetTimestamp() => System.GetTimestamp() + (long)(Offset.TotalSeconds * System.TimestampFrequency);

    public override long TimestampFrequency => System.TimestampFrequency;
}

/// <summary>Runs a hook before or after chosen calls ("put", "list", "delete" with the path), to force an interleaving.</summary>
public sealed class HookDriver(IStorageDriver inner) : DelegatingDriver(inner)
{
    public Func<string, string, Task>? Before { get; set; }

    public Func<string, string, Task>? After { get; set; }

    private async Task RunAsync(Func<string, string, Task>? hook, string operation, string path)
    {
        if (hook is not null)
        {
            await hook(operation, path);
        }
    }

    public override async Task PutContentAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        await RunAsync(Before, "put", path);
        await base.PutContentAsync(path, content, cancellationToken);
        await RunAsync(After, "put", path);
    }

    public override async Task<IReadOnlyList<string>> ListAsync(string path, CancellationToken cancellationToken = default)
    {
        await RunAsync(Before, "list", path);
        var result = await base.ListAsync(path, cancellationToken);
        await RunAsync(After, "list", path);
        return result;
    }

    public override async Task DeleteAsync(string path, CancellationToken cancellationToken = default)
    {
        await RunAsync(Before, "delete", path);
        await base.DeleteAsync(path, cancellationToken);
        await RunAsync(After, "delete", path);
    }
}
