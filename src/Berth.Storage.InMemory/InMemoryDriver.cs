using System.Runtime.CompilerServices;

namespace Berth.Storage.InMemory;

/// <summary>Keeps objects in memory: a fast driver for tests, with the same behaviour as the others.
/// Uncommitted writes are kept apart from objects, as an object store keeps multipart uploads.</summary>
public sealed class InMemoryDriver(TimeProvider? timeProvider = null) : IStorageDriver
{
    private readonly SortedDictionary<string, StoredObject> _objects = new(StringComparer.Ordinal);
    private readonly Dictionary<string, MemoryStream> _pending = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;

    private sealed record StoredObject(byte[] Content, DateTimeOffset ModifiedAt);

    public string Name => "inmemory";

    public Task<byte[]> GetContentAsync(string path, CancellationToken cancellationToken = default)
    {
        StoragePath.ValidateObjectPath(path);
        lock (_lock)
        {
            return _objects.TryGetValue(path, out var o)
                ? Task.FromResult(o.Content.ToArray())
                : throw new PathNotFoundException(path, Name);
        }
    }

    public Task PutContentAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        StoragePath.ValidateObjectPath(path);
        var copy = content.ToArray();
        lock (_lock)
        {
            _objects[path] = new StoredObject(copy, _time.GetUtcNow());
        }
        return Task.CompletedTask;
    }

    public Task<Stream> OpenReadAsync(string path, long offset = 0, CancellationToken cancellationToken = default)
    {
        StoragePath.ValidateObjectPath(path);
        byte[] content;
        lock (_lock)
        {
            if (!_objects.TryGetValue(path, out var o))
            {
                throw new PathNotFoundException(path, Name);
            }
            content = o.Content;
        }
        if (offset < 0 || offset > content.Length)
        {
            throw new InvalidOffsetException(path, offset);
        }
        // Stored arrays are never mutated (puts and commits store copies), so the stream can share one.
        return Task.FromResult<Stream>(new MemoryStream(content, (int)offset, content.Length - (int)offset, writable: false));
    }

    public Task<IStorageWriter> CreateWriterAsync(string path, bool append, CancellationToken cancellationToken = default)
    {
        StoragePath.ValidateObjectPath(path);
        var buffer = new MemoryStream();
        lock (_lock)
        {
            if (append)
            {
                if (!_pending.TryGetValue(path, out var pending))
                {
                    throw new PathNotFoundException(path, Name);
                }
                buffer.Write(pending.GetBuffer(), 0, (int)pending.Length);
            }
            _pending[path] = buffer;
        }
        return Task.FromResult<IStorageWriter>(new Writer(this, path, buffer));
    }

    public Task<StorageEntry> StatAsync(string path, CancellationToken cancellationToken = default)
    {
        StoragePath.Validate(path);
        lock (_lock)
        {
            if (_objects.TryGetValue(path, out var o))
            {
                return Task.FromResult(new StorageEntry(path, o.Content.LongLength, o.ModifiedAt, false));
            }
            DateTimeOffset? newest = null;
            foreach (var (_, value) in Under(DirectoryPrefix(path)))
            {
                if (newest is null || value.ModifiedAt > newest)
                {
                    newest = value.ModifiedAt;
                }
            }
            if (path == StoragePath.Root)
            {
                return Task.FromResult(new StorageEntry(path, 0, newest ?? DateTimeOffset.UnixEpoch, true));
            }
            return newest is { } modified
                ? Task.FromResult(new StorageEntry(path, 0, modified, true))
                : throw new PathNotFoundException(path, Name);
        }
    }

    public Task<IReadOnlyList<string>> ListAsync(string path, CancellationToken cancellationToken = default)
    {
        StoragePath.Validate(path);
        var prefix = DirectoryPrefix(path);
        var children = new SortedSet<string>(StringComparer.Ordinal);
        lock (_lock)
        {
            foreach (var (key, _) in Under(prefix))
            {
                var rest = key[prefix.Length..];
                var slash = rest.IndexOf('/');
                children.Add(prefix + (slash < 0 ? rest : rest[..slash]));
            }
        }
        return children.Count == 0 && path != StoragePath.Root
            ? throw new PathNotFoundException(path, Name)
            : Task.FromResult<IReadOnlyList<string>>([.. children]);
    }

    public async IAsyncEnumerable<StorageEntry> WalkAsync(string path, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        StoragePath.Validate(path);
        List<StorageEntry> entries;
        lock (_lock)
        {
            entries = [.. Under(DirectoryPrefix(path)).Select(kv => new StorageEntry(kv.Key, kv.Value.Content.LongLength, kv.Value.ModifiedAt, false))];
        }
        foreach (var e in entries)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return e;
        }
        await Task.CompletedTask.ConfigureAwait(false);
    }

    public Task MoveAsync(string sourcePath, string destinationPath, CancellationToken cancellationToken = default)
    {
        StoragePath.ValidateObjectPath(sourcePath);
        StoragePath.ValidateObjectPath(destinationPath);
        lock (_lock)
        {
            if (!_objects.Remove(sourcePath, out var o))
            {
                throw new PathNotFoundException(sourcePath, Name);
            }
            _objects[destinationPath] = o;
        }
        return Task.CompletedTask;
    }

    public Task DeleteAsync(string path, CancellationToken cancellationToken = default)
    {
        StoragePath.ValidateObjectPath(path);
        var prefix = DirectoryPrefix(path);
        lock (_lock)
        {
            var removed = _objects.Remove(path);
            foreach (var key in Under(prefix).Select(kv => kv.Key).ToList())
            {
                removed |= _objects.Remove(key);
            }
            foreach (var key in _pending.Keys.Where(k => k == path || k.StartsWith(prefix, StringComparison.Ordinal)).ToList())
            {
                _pending.Remove(key);
            }
            if (!removed)
            {
                throw new PathNotFoundException(path, Name);
            }
        }
        return Task.CompletedTask;
    }

    private static string DirectoryPrefix(string path) => path == StoragePath.Root ? StoragePath.Root : path + "/";

    /// <summary>Objects whose key starts with <paramref name="prefix"/>; keys are sorted, so the scan stops after them.</summary>
    private IEnumerable<KeyValuePair<string, StoredObject>> Under(string prefix) =>
        _objects.SkipWhile(kv => string.CompareOrdinal(kv.Key, prefix) < 0).TakeWhile(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal));

    /// <summary>Forgets the uncommitted write of <paramref name="path"/> if it is still this writer's.</summary>
    private void RemovePending(string path, MemoryStream buffer)
    {
        if (_pending.TryGetValue(path, out var current) && ReferenceEquals(current, buffer))
        {
            _pending.Remove(path);
        }
    }

    private sealed class Writer(InMemoryDriver driver, string path, MemoryStream buffer) : IStorageWriter
    {
        private bool _closed;

        public long Size
        {
            get
            {
                lock (driver._lock)
                {
                    return buffer.Length;
                }
            }
        }

        public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            cancellationToken.ThrowIfCancellationRequested();
            lock (driver._lock)
            {
                buffer.Write(data.Span);
            }
            return ValueTask.CompletedTask;
        }

        public Task CommitAsync(CancellationToken cancellationToken = default)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            _closed = true;
            lock (driver._lock)
            {
                driver.RemovePending(path, buffer);
                driver._objects[path] = new StoredObject(buffer.ToArray(), driver._time.GetUtcNow());
            }
            return Task.CompletedTask;
        }

        public Task CancelAsync(CancellationToken cancellationToken = default)
        {
            _closed = true;
            lock (driver._lock)
            {
                driver.RemovePending(path, buffer);
            }
            return Task.CompletedTask;
        }

        public ValueTask DisposeAsync()
        {
            _closed = true;
            return ValueTask.CompletedTask;
        }
    }
}
