namespace Berth.Storage;

/// <summary>
/// The one storage contract. It is shaped like an object store: whole-object put, ranged read,
/// listing, stat, delete and a resumable writer. Paths are absolute, '/'-separated and never end
/// with '/': "/docker/registry/v2/blobs/sha256/ab/abcd.../data" (see <see cref="StoragePath"/>).
/// Every operation throws <see cref="InvalidPathException"/> for a malformed path before it touches storage.
/// The root "/" is a directory: Stat, List and Walk accept it; operations on objects and Delete do not.
/// <para>
/// A "directory" exists only as the common prefix of stored objects. When its last object is deleted or
/// moved away the directory is gone too: Stat and List then throw <see cref="PathNotFoundException"/>.
/// Uncommitted writes are not objects; whether a directory holding only uncommitted writes is reported is
/// unspecified. Storing an object at a path that is a directory, or beneath an object, is unspecified
/// (object stores allow it, a filesystem does not); callers never do it.
/// </para>
/// <para>The conformance suite (test/Berth.Storage.Tests/Conformance) pins every behaviour documented here;
/// each driver's tests subclass it.</para>
/// </summary>
public interface IStorageDriver
{
    /// <summary>Short name for logs and metrics ("filesystem", "inmemory", "s3").</summary>
    string Name { get; }

    /// <summary>Reads a whole small object. Throws <see cref="PathNotFoundException"/>.</summary>
    Task<byte[]> GetContentAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>Stores a whole object atomically: readers see the old content or the new, never a part,
    /// and concurrent puts of one path leave exactly one of the values. The content is durable when the
    /// call returns. Missing parent directories are created. Listings never show a put in progress.</summary>
    Task PutContentAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default);

    /// <summary>As <see cref="PutContentAsync(string, ReadOnlyMemory{byte}, CancellationToken)"/>, atomic and
    /// visible to every reader (other processes included) when the call returns; with
    /// <see cref="Durability.Volatile"/> the object may be lost (never half-written) when the machine crashes
    /// before the operating system flushes it. For bookkeeping that nothing durable depends on.</summary>
    Task PutContentAsync(string path, ReadOnlyMemory<byte> content, Durability durability, CancellationToken cancellationToken = default) =>
        PutContentAsync(path, content, cancellationToken);

    /// <summary>Opens the object for reading from <paramref name="offset"/>; an offset equal to the size gives
    /// an empty stream. Throws <see cref="PathNotFoundException"/>, or <see cref="InvalidOffsetException"/>
    /// for a negative offset or one past the end.</summary>
    Task<Stream> OpenReadAsync(string path, long offset = 0, CancellationToken cancellationToken = default);

    /// <summary>
    /// Opens a writer for <paramref name="path"/>. The written bytes stay invisible (to GetContent, OpenRead,
    /// Stat, List and Walk) until <see cref="IStorageWriter.CommitAsync"/>; until then an object already
    /// stored at the path keeps its old content.
    /// <para>Without <paramref name="append"/> the writer starts empty and discards any uncommitted write of
    /// the path. With <paramref name="append"/> it continues the uncommitted write of the same path, left by
    /// a writer disposed without commit (possibly in another process), and <see cref="IStorageWriter.Size"/>
    /// starts at the bytes already written: this is how the size of an uncommitted write is learnt, since
    /// Stat does not see it. Committed objects are final: with <paramref name="append"/> and no uncommitted
    /// write of the path (none started, or it was committed or cancelled) this throws
    /// <see cref="PathNotFoundException"/>.</para>
    /// <para>One writer per path at a time; concurrent writers of one path are unspecified.</para>
    /// </summary>
    Task<IStorageWriter> CreateWriterAsync(string path, bool append, CancellationToken cancellationToken = default);

    /// <summary>Describes an object (its size, <see cref="StorageEntry.IsDirectory"/> false) or a directory
    /// (size 0, <see cref="StorageEntry.IsDirectory"/> true). The root always exists. Throws
    /// <see cref="PathNotFoundException"/>.</summary>
    Task<StorageEntry> StatAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>Direct children (objects and directories) of a directory, full paths, in no particular order.
    /// The root always lists (empty when nothing is stored). Throws <see cref="PathNotFoundException"/> when
    /// nothing is stored under any other path, including when the path names an object.</summary>
    Task<IReadOnlyList<string>> ListAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>Every object under a directory, recursively, with its size (the object-store "list by prefix").
    /// Directories are not yielded. Yields nothing when nothing is stored there; never throws
    /// <see cref="PathNotFoundException"/>. The path is checked when enumeration starts.</summary>
    IAsyncEnumerable<StorageEntry> WalkAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>Moves an object (not a directory), replacing any object at the destination and creating the
    /// destination's directories. The destination appears whole, and is durable when the call returns (also
    /// when the source was committed <see cref="Durability.Volatile"/>); on a filesystem this is a rename. Throws
    /// <see cref="PathNotFoundException"/> when the source is missing, leaving the destination as it was.</summary>
    Task MoveAsync(string sourcePath, string destinationPath, CancellationToken cancellationToken = default);

    /// <summary>Deletes an object or everything under a directory; "/a" never touches "/ab". Throws
    /// <see cref="PathNotFoundException"/> when nothing is stored at or under the path.</summary>
    Task DeleteAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>As <see cref="DeleteAsync(string, CancellationToken)"/>; with <see cref="Durability.Volatile"/>
    /// the deleted objects may come back after a machine crash.</summary>
    Task DeleteAsync(string path, Durability durability, CancellationToken cancellationToken = default) =>
        DeleteAsync(path, cancellationToken);
}

/// <summary>What a mutation must survive. <see cref="Durable"/> (the default everywhere): the change is on
/// stable storage when the call returns. <see cref="Volatile"/>: the change is atomic and visible at once, but
/// a machine crash may undo it; drivers whose writes are always durable treat both alike.</summary>
public enum Durability
{
    Durable,
    Volatile,
}

/// <summary>Optional: drivers that keep objects as local files let the HTTP layer send them with sendfile.
/// Decorators forward it when the driver they wrap supports it.</summary>
public interface ILocalFileAccess
{
    /// <summary>The local file holding the object, or null.</summary>
    string? GetLocalPath(string path);
}

/// <summary>An object or directory.</summary>
public sealed record StorageEntry(string Path, long Size, DateTimeOffset ModifiedAt, bool IsDirectory);

/// <summary>A resumable writer. Bytes become the object's content at <see cref="CommitAsync"/>;
/// disposing without commit keeps what was written so that a later writer opened with append can resume.
/// After commit or cancel the writer is closed: further writes throw <see cref="ObjectDisposedException"/>.</summary>
public interface IStorageWriter : IAsyncDisposable
{
    /// <summary>Bytes written so far, including those of earlier sessions when appending.</summary>
    long Size { get; }

    ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default);

    /// <summary>Makes the written bytes durable and the object's whole content, replacing any earlier
    /// content at once.</summary>
    Task CommitAsync(CancellationToken cancellationToken = default);

    /// <summary>As <see cref="CommitAsync(CancellationToken)"/>; with <see cref="Durability.Volatile"/> the
    /// object may be lost after a machine crash (a later <see cref="IStorageDriver.MoveAsync"/> of it makes it
    /// durable at its destination).</summary>
    Task CommitAsync(Durability durability, CancellationToken cancellationToken = default) => CommitAsync(cancellationToken);

    /// <summary>Throws the written bytes away, those of earlier sessions included. An object committed
    /// earlier at the path is left as it was.</summary>
    Task CancelAsync(CancellationToken cancellationToken = default);
}
