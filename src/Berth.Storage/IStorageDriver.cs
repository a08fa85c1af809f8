namespace Berth.Storage;

/// <summary>
/// The one storage contract. It is shaped like an object store: whole-object put, ranged read,
/// listing, stat, delete and a resumable writer. Paths are absolute, '/'-separated and never end
/// with '/': "/docker/registry/v2/blobs/sha256/ab/abcd.../data".
/// A "directory" exists only as the common prefix of stored objects.
/// </summary>
public interface IStorageDriver
{
    /// <summary>Short name for logs and metrics ("filesystem", "inmemory", "s3").</summary>
    string Name { get; }

    /// <summary>Reads a whole small object. Throws <see cref="PathNotFoundException"/>.</summary>
    Task<byte[]> GetContentAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>Stores a whole object atomically: readers see the old content or the new, never a part.
    /// The content is durable when the call returns.</summary>
    Task PutContentAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default);

    /// <summary>Opens the object for reading from <paramref name="offset"/>.
    /// Throws <see cref="PathNotFoundException"/>, or <see cref="InvalidOffsetException"/> past the end.</summary>
    Task<Stream> OpenReadAsync(string path, long offset = 0, CancellationToken cancellationToken = default);

    /// <summary>Opens a writer. With <paramref name="append"/> the writer continues an earlier,
    /// uncommitted write of the same path (possibly by another process).</summary>
    Task<IStorageWriter> CreateWriterAsync(string path, bool append, CancellationToken cancellationToken = default);

    /// <summary>Describes an object or a directory (a prefix of objects). Throws <see cref="PathNotFoundException"/>.</summary>
    Task<StorageEntry> StatAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>Direct children (objects and directories) of a directory, full paths, in no particular order.
    /// Throws <see cref="PathNotFoundException"/> when nothing is stored under the path.</summary>
    Task<IReadOnlyList<string>> ListAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>Every object under a directory, recursively (the object-store "list by prefix").
    /// Yields nothing when nothing is stored there.</summary>
    IAsyncEnumerable<StorageEntry> WalkAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>Moves an object. The destination appears whole; on a filesystem this is a rename.</summary>
    Task MoveAsync(string sourcePath, string destinationPath, CancellationToken cancellationToken = default);

    /// <summary>Deletes an object or everything under a directory. Throws <see cref="PathNotFoundException"/>.</summary>
    Task DeleteAsync(string path, CancellationToken cancellationToken = default);
}

/// <summary>Optional: drivers that keep objects as local files let the HTTP layer send them with sendfile.</summary>
public interface ILocalFileAccess
{
    /// <summary>The local file holding the object, or null.</summary>
    string? GetLocalPath(string path);
}

/// <summary>An object or directory.</summary>
public sealed record StorageEntry(string Path, long Size, DateTimeOffset ModifiedAt, bool IsDirectory);

/// <summary>A resumable writer. Bytes become the object's content at <see cref="CommitAsync"/>;
/// disposing without commit keeps what was written so that a later append can resume.</summary>
public interface IStorageWriter : IAsyncDisposable
{
    /// <summary>Bytes written so far, including those of earlier sessions when appending.</summary>
    long Size { get; }

    ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default);

    /// <summary>Makes the written bytes durable and final.</summary>
    Task CommitAsync(CancellationToken cancellationToken = default);

    /// <summary>Throws the written bytes away.</summary>
    Task CancelAsync(CancellationToken cancellationToken = default);
}
