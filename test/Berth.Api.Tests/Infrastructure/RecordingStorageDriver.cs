using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Berth.Storage.Layout;

namespace Berth.Api.Tests.Infrastructure;

/// <summary>One storage operation that changes state, in the order the driver saw it.</summary>
public sealed record StorageOperation(string Kind, string Path, string? Destination = null)
{
    public override string ToString() => Destination is null ? $"{Kind} {Path}" : $"{Kind} {Path} -> {Destination}";
}

/// <summary>Passes every call through and records the writes (put, move, commit, delete) in order.
/// Reads are not recorded. Only what the write-order tests need; fault injection lives elsewhere.</summary>
public sealed class RecordingStorageDriver(IStorageDriver inner) : IStorageDriver, ILocalFileAccess, IDirectoryVersionSource, IAtomicDirectoryCreator, IObjectAppender
{
    private readonly ConcurrentQueue<StorageOperation> _operations = new();

    public IStorageDriver Inner => inner;

    public string Name => inner.Name;

    /// <summary>The writes to the registry's layout (blobs/ and repositories/), in order. Writes to Berth's
    /// own area (the GC journal a push announces itself in first) are left out: the GC tests pin those.</summary>
    public IReadOnlyList<StorageOperation> Operations => [.. _operations.Where(o => !o.Path.StartsWith(StoragePaths.BerthRoot + "/", StringComparison.Ordinal))];

    public void Clear() => _operations.Clear();

    public string? GetLocalPath(string path) => (inner as ILocalFileAccess)?.GetLocalPath(path);

    public DirectoryVersion? GetDirectoryVersion(string path) => (inner as IDirectoryVersionSource)?.GetDirectoryVersion(path);

    public Task<byte[]> GetContentAsync(string path, CancellationToken cancellationToken = default) =>
        inner.GetContentAsync(path, cancellationToken);

    public async Task PutContentAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        await inner.PutContentAsync(path, content, cancellationToken).ConfigureAwait(false);
        _operations.Enqueue(new StorageOperation("put", path));
    }

    /// <summary>Volatile writes are recorded with a "~" after the verb ("put~", "commit~", "delete~").</summary>
    public async Task PutContentAsync(string path, ReadOnlyMemory<byte> content, Durability durability, CancellationToken cancellationToken = default)
    {
        await inner.PutContentAsync(path, content, durability, cancellationToken).ConfigureAwait(false);
        _operations.Enqueue(new StorageOperation(Verb("put", durability), path));
    }

    /// <summary>Recorded as "create DIR" with the files in brackets, when the wrapped driver created it.</summary>
    public async Task<bool> TryCreateDirectoryAsync(string path, IReadOnlyList<KeyValuePair<string, byte[]>> files, Func<Task>? beforePublish = null, CancellationToken cancellationToken = default)
    {
        if (inner is not IAtomicDirectoryCreator creator || !await creator.TryCreateDirectoryAsync(path, files, beforePublish, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }
        _operations.Enqueue(new StorageOperation("create", $"{path} [{string.Join(", ", files.Select(f => f.Key))}]"));
        return true;
    }

    /// <summary>Recorded as "append~" (appends are volatile), when the wrapped driver appended.</summary>
    public async Task<bool> TryAppendAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        if (inner is not IObjectAppender appender || !await appender.TryAppendAsync(path, content, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }
        _operations.Enqueue(new StorageOperation("append~", path));
        return true;
    }

    private static string Verb(string verb, Durability durability) => durability == Durability.Volatile ? verb + "~" : verb;

    public Task<Stream> OpenReadAsync(string path, long offset = 0, CancellationToken cancellationToken = default) =>
        inner.OpenReadAsync(path, offset, cancellationToken);

    public async Task<IStorageWriter> CreateWriterAsync(string path, bool append, CancellationToken cancellationToken = default)
    {
        var writer = await inner.CreateWriterAsync(path, append, cancellationToken).ConfigureAwait(false);
        return new RecordingWriter(writer, path, _operations);
    }

    public Task<StorageEntry> StatAsync(string path, CancellationToken cancellationToken = default) =>
        inner.StatAsync(path, cancellationToken);

    public Task<IReadOnlyList<string>> ListAsync(string path, CancellationToken cancellationToken = default) =>
        inner.ListAsync(path, cancellationToken);

    public async IAsyncEnumerable<StorageEntry> WalkAsync(string path, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var entry in inner.WalkAsync(path, cancellationToken).ConfigureAwait(false))
        {
            yield return entry;
        }
    }

    public async Task MoveAsync(string sourcePath, string destinationPath, CancellationToken cancellationToken = default)
    {
        await inner.MoveAsync(sourcePath, destinationPath, cancellationToken).ConfigureAwait(false);
        _operations.Enqueue(new StorageOperation("move", sourcePath, destinationPath));
    }

    public async Task DeleteAsync(string path, CancellationToken cancellationToken = default)
    {
        await inner.DeleteAsync(path, cancellationToken).ConfigureAwait(false);
        _operations.Enqueue(new StorageOperation("delete", path));
    }

    public async Task DeleteAsync(string path, Durability durability, CancellationToken cancellationToken = default)
    {
        await inner.DeleteAsync(path, durability, cancellationToken).ConfigureAwait(false);
        _operations.Enqueue(new StorageOperation(Verb("delete", durability), path));
    }

    private sealed class RecordingWriter(IStorageWriter inner, string path, ConcurrentQueue<StorageOperation> operations) : IStorageWriter
    {
        public long Size => inner.Size;

        public ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            inner.WriteAsync(buffer, cancellationToken);

        public async Task CommitAsync(CancellationToken cancellationToken = default)
        {
            await inner.CommitAsync(cancellationToken).ConfigureAwait(false);
            operations.Enqueue(new StorageOperation("commit", path));
        }

        public async Task CommitAsync(Durability durability, CancellationToken cancellationToken = default)
        {
            await inner.CommitAsync(durability, cancellationToken).ConfigureAwait(false);
            operations.Enqueue(new StorageOperation(Verb("commit", durability), path));
        }

        public Task CancelAsync(CancellationToken cancellationToken = default) => inner.CancelAsync(cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
