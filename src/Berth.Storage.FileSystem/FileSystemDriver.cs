using System.Collections.Concurrent;
using System.IO.Enumeration;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Berth.Storage.FileSystem;

/// <summary>
/// Stores objects as files under a root directory.
/// <list type="bullet">
/// <item>Whole-object puts are atomic: temporary file in the same directory, flush to disk, rename, then a
/// sync of the directory.</item>
/// <item>A writer writes to a hidden file beside its target and commit renames it over the target, so
/// uncommitted bytes are invisible, an earlier object survives a cancel, and a later append (even by
/// another process) finds the bytes by name.</item>
/// <item>Delete and Move remove the directories they leave empty, so that, as on an object store, a
/// directory exists only while it holds something. Creating a file retries when a concurrent delete
/// removed its directory in between.</item>
/// <item>Names starting with <see cref="TemporaryFilePrefix"/> are reserved: such paths are invalid and
/// such files never show in List or Walk.</item>
/// </list>
/// </summary>
public sealed partial class FileSystemDriver : IStorageDriver, ILocalFileAccess
{
    /// <summary>Prefix of the driver's own files: temporary files of puts in progress ("&lt;prefix&gt;&lt;guid&gt;")
    /// and uncommitted writes ("&lt;prefix&gt;w-&lt;name&gt;"). A crash can leave them behind.</summary>
    public const string TemporaryFilePrefix = ".berth-tmp-";

    private const string WriterFilePrefix = TemporaryFilePrefix + "w-";
    private const int CreateAttempts = 10;
    private readonly string _root;
    private readonly bool _sync;

    /// <param name="rootDirectory">Where the objects live.</param>
    /// <param name="syncToDisk">Flush durable writes to disk (fsync) before they complete.</param>
    /// <param name="directWrites">Let writers write big aligned chunks with O_DIRECT (see the DirectWrites part);
    /// only with <paramref name="syncToDisk"/>, and turned off by itself where the file system refuses it.</param>
    public FileSystemDriver(string rootDirectory, bool syncToDisk = true, bool directWrites = true)
    {
        _root = Path.GetFullPath(rootDirectory).TrimEnd('/');
        if (_root.Length == 0)
        {
            throw new ArgumentException("the filesystem root '/' cannot be the storage root", nameof(rootDirectory));
        }
        _sync = syncToDisk;
        _directWrites = syncToDisk && directWrites && OperatingSystem.IsLinux();
        Directory.CreateDirectory(_root);
    }

    public string Name => "filesystem";

    public string RootDirectory => _root;

    public string? GetLocalPath(string path)
    {
        var local = LocalObject(path);
        return File.Exists(local) ? local : null;
    }

    public Task<byte[]> GetContentAsync(string path, CancellationToken cancellationToken = default)
    {
        var local = LocalObject(path);
        cancellationToken.ThrowIfCancellationRequested();
        if (OperatingSystem.IsLinux())
        {
            // Small objects (links, manifests) are read synchronously with open/read/close: FileStream would add an
            // fstat, a shared flock and its release, and a hop to the thread pool (which is where an asynchronous
            // file read runs on Unix anyway) for every link file.
            switch (TryReadWholeFile(local, out var content))
            {
                case ReadOutcome.Read:
                    return Task.FromResult(content!);
                case ReadOutcome.NotFound:
                    return Task.FromException<byte[]>(new PathNotFoundException(path, Name));
            }
        }
        return ReadWithFileStreamAsync(path, local, cancellationToken);
    }

    private async Task<byte[]> ReadWithFileStreamAsync(string path, string local, CancellationToken cancellationToken)
    {
        try
        {
            return await File.ReadAllBytesAsync(local, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && !File.Exists(local))
        {
            throw new PathNotFoundException(path, Name);
        }
    }

    private enum ReadOutcome
    {
        Read,
        NotFound,

        /// <summary>Anything else (permissions, I/O errors): the FileStream path raises the usual exception.</summary>
        Other,
    }

    /// <summary>Reads a whole file with open, read, close: three system calls for a link file. A read of a regular
    /// file that returns less than it was asked for has reached the end of the file (read(2) returns less only at
    /// end of file, or after a signal, which a regular file read does not stop for), so no second read confirms it;
    /// a read that fills the buffer is followed by more reads into a bigger one.</summary>
    private static unsafe ReadOutcome TryReadWholeFile(string local, out byte[]? content)
    {
        content = null;
        int fd;
        do
        {
            fd = Native.open(local, Native.O_RDONLY | Native.O_CLOEXEC);
        }
        while (fd < 0 && Marshal.GetLastPInvokeError() == Native.EINTR);
        if (fd < 0)
        {
            return Marshal.GetLastPInvokeError() is Native.ENOENT or Native.ENOTDIR ? ReadOutcome.NotFound : ReadOutcome.Other;
        }
        return ReadWholeFileAndClose(fd, out content);
    }

    /// <summary>The reading half of <see cref="TryReadWholeFile"/>: reads the open file to its end and closes it.</summary>
    private static unsafe ReadOutcome ReadWholeFileAndClose(int fd, out byte[]? content)
    {
        content = null;
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            var length = 0;
            while (true)
            {
                if (length == buffer.Length)
                {
                    var bigger = System.Buffers.ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }
                nint n;
                fixed (byte* p = &buffer[length])
                {
                    n = Native.read(fd, p, buffer.Length - length);
                }
                if (n > 0)
                {
                    var asked = buffer.Length - length;
                    length += (int)n;
                    if (n < asked)
                    {
                        content = buffer.AsSpan(0, length).ToArray();
                        return ReadOutcome.Read;
                    }
                    continue;
                }
                if (n == 0)
                {
                    content = buffer.AsSpan(0, length).ToArray();
                    return ReadOutcome.Read;
                }
                var errno = Marshal.GetLastPInvokeError();
                if (errno == Native.EINTR)
                {
                    continue;
                }
                // EISDIR: a directory is not an object.
                return errno == Native.EISDIR ? ReadOutcome.NotFound : ReadOutcome.Other;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            _ = Native.close(fd);
        }
    }

    public Task PutContentAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) =>
        PutContentAsync(path, content, Durability.Durable, cancellationToken);

    /// <summary>Durable: the parents of the directories this put created are synced beside the data's flush,
    /// then the file is renamed and its directory synced. Volatile: neither the file nor its own directory is
    /// flushed, but new directories above that are (<see cref="ParentsToSync"/>).</summary>
    public Task PutContentAsync(string path, ReadOnlyMemory<byte> content, Durability durability, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var local = LocalObject(path);
        var dir = Path.GetDirectoryName(local)!;
        var temp = Path.Combine(dir, TemporaryFilePrefix + Guid.NewGuid().ToString("N"));
        var sync = _sync && durability == Durability.Durable;
        List<string>? created = null;
        Task? parents = null;
        try
        {
            using (var handle = InDirectory(dir, ref created, () => File.OpenHandle(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None)))
            {
                if (ParentsToSync(created, dir, sync) is { } newDirectories)
                {
                    // The new (still empty) directories may become durable before the data: start their
                    // parents' syncs now, beside the data's flush, rather than one after another at the end.
                    parents = Task.Run(() => SyncCreated(newDirectories), CancellationToken.None);
                }
                RandomAccess.Write(handle, content.Span, 0);
                if (sync)
                {
                    Fsync(handle);
                }
            }
            File.Move(temp, local, overwrite: true);
        }
        catch
        {
            TryDeleteFile(temp);
            PruneEmptyDirectories(dir, sync);
            parents?.Wait(CancellationToken.None);
            throw;
        }
        if (sync)
        {
            SyncDirectory(dir);
        }
        return parents ?? Task.CompletedTask;
    }

    public Task<Stream> OpenReadAsync(string path, long offset = 0, CancellationToken cancellationToken = default)
    {
        var local = LocalObject(path);
        FileStream fs;
        try
        {
            fs = new FileStream(local, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && !File.Exists(local))
        {
            throw new PathNotFoundException(path, Name);
        }
        if (offset < 0 || offset > fs.Length)
        {
            fs.Dispose();
            throw new InvalidOffsetException(path, offset);
        }
        fs.Position = offset;
        return Task.FromResult<Stream>(fs);
    }

    public Task<IStorageWriter> CreateWriterAsync(string path, bool append, CancellationToken cancellationToken = default)
    {
        var local = LocalObject(path);
        var dir = Path.GetDirectoryName(local)!;
        var pending = Path.Combine(dir, WriterFilePrefix + Path.GetFileName(local));
        SafeFileHandle handle;
        List<string>? created = null;
        if (append)
        {
            try
            {
                handle = File.OpenHandle(pending, FileMode.Open, FileAccess.Write, FileShare.Read | FileShare.Delete);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException && !File.Exists(pending))
            {
                throw new PathNotFoundException(path, Name);
            }
        }
        else
        {
            handle = InDirectory(dir, ref created, () => File.OpenHandle(pending, FileMode.Create, FileAccess.Write, FileShare.Read | FileShare.Delete));
            // Now rather than at commit: a writer resumed by another process cannot know what this one created.
            SyncCreated(created);
        }
        return Task.FromResult<IStorageWriter>(new Writer(this, path, local, pending, handle));
    }

    public Task<StorageEntry> StatAsync(string path, CancellationToken cancellationToken = default)
    {
        var local = Local(path);
        if (TryStatx(local, out var size, out var modified, out var isDirectory))
        {
            // One statx(2); FileInfo costs an lstat, a geteuid and an object. Anything unusual (missing, a
            // symbolic link, no statx) takes the FileInfo path below, which keeps its exceptions and answers.
            return Task.FromResult(new StorageEntry(path, isDirectory ? 0 : size, modified, isDirectory));
        }
        var file = new FileInfo(local);
        if (file.Exists)
        {
            return Task.FromResult(new StorageEntry(path, file.Length, file.LastWriteTimeUtc, false));
        }
        var dir = new DirectoryInfo(local);
        if (dir.Exists)
        {
            return Task.FromResult(new StorageEntry(path, 0, dir.LastWriteTimeUtc, true));
        }
        throw new PathNotFoundException(path, Name);
    }

    public Task<IReadOnlyList<string>> ListAsync(string path, CancellationToken cancellationToken = default)
    {
        var local = Local(path);
        var prefix = path == StoragePath.Root ? "/" : path + "/";
        List<string>? result;
        switch (TryListDirectory(local, prefix, out result))
        {
            case ReadOutcome.NotFound:
                throw new PathNotFoundException(path, Name);
            case ReadOutcome.Read:
                break;
            default:
                result = ListWithEnumerator(path, local, prefix);
                break;
        }
        if (result!.Count == 0 && path != StoragePath.Root)
        {
            // Only files of puts or writes in progress: nothing is stored here.
            throw new PathNotFoundException(path, Name);
        }
        return Task.FromResult<IReadOnlyList<string>>(result);
    }

    private List<string> ListWithEnumerator(string path, string local, string prefix)
    {
        try
        {
            var children = new FileSystemEnumerable<string>(local, (ref FileSystemEntry e) => string.Concat(prefix, e.FileName), new EnumerationOptions { AttributesToSkip = 0 })
            {
                ShouldIncludePredicate = (ref FileSystemEntry e) => !IsReserved(e.FileName),
            };
            return [.. children];
        }
        catch (IOException) when (!Directory.Exists(local))
        {
            // Missing, or not a directory (ENOTDIR is an IOException). A directory that exists but cannot be
            // read (EIO) is an error, not an empty listing: garbage collection must not take it for "nothing
            // references this".
            throw new PathNotFoundException(path, Name);
        }
    }

    /// <summary>Lists a directory with open, getdents64 (32 KiB at a time) until it returns nothing, close: the
    /// enumerator behind <see cref="FileSystemEnumerable{T}"/> adds an fstat and per-entry work. Missing or not a
    /// directory: <see cref="ReadOutcome.NotFound"/>. Any other error, or not Linux: <see cref="ReadOutcome.Other"/>,
    /// and the caller lists again with the enumerator, which raises the usual exception.</summary>
    private static unsafe ReadOutcome TryListDirectory(string local, string prefix, out List<string>? result)
    {
        result = null;
        if (!OperatingSystem.IsLinux() || Volatile.Read(ref s_getdentsUnavailable) != 0)
        {
            return ReadOutcome.Other;
        }
        int fd;
        do
        {
            fd = Native.open(local, Native.O_RDONLY | Native.O_DIRECTORY | Native.O_CLOEXEC);
        }
        while (fd < 0 && Marshal.GetLastPInvokeError() == Native.EINTR);
        if (fd < 0)
        {
            return Marshal.GetLastPInvokeError() is Native.ENOENT or Native.ENOTDIR ? ReadOutcome.NotFound : ReadOutcome.Other;
        }
        try
        {
            var list = new List<string>();
            var outcome = ReadDirectoryEntries(fd, prefix, list);
            if (outcome == ReadOutcome.Read)
            {
                result = list;
            }
            return outcome;
        }
        finally
        {
            _ = Native.close(fd);
        }
    }

    /// <summary>Adds the names in the open directory <paramref name="fd"/> (not "." or "..", nor reserved ones) to
    /// <paramref name="list"/>, each after <paramref name="prefix"/>: getdents64, 32 KiB at a time, until it returns nothing.</summary>
    private static unsafe ReadOutcome ReadDirectoryEntries(int fd, string prefix, List<string> list)
    {
        const int BufferSize = 32 * 1024;
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(BufferSize);
        Span<char> name = stackalloc char[256];
        try
        {
            fixed (byte* p = buffer)
            {
                while (true)
                {
                    nint n;
                    try
                    {
                        n = Native.getdents64(fd, p, BufferSize);
                    }
                    catch (EntryPointNotFoundException)
                    {
                        Volatile.Write(ref s_getdentsUnavailable, 1);
                        return ReadOutcome.Other;
                    }
                    if (n == 0)
                    {
                        break;
                    }
                    if (n < 0)
                    {
                        if (Marshal.GetLastPInvokeError() == Native.EINTR)
                        {
                            continue;
                        }
                        return ReadOutcome.Other;
                    }
                    // struct linux_dirent64: d_ino (8), d_off (8), d_reclen (2), d_type (1), d_name (NUL-terminated).
                    for (var offset = 0; offset < n;)
                    {
                        var entry = p + offset;
                        var recordLength = *(ushort*)(entry + 16);
                        var bytes = new ReadOnlySpan<byte>(entry + 19, recordLength - 19);
                        bytes = bytes[..bytes.IndexOf((byte)0)];
                        offset += recordLength;
                        if (bytes.Length > 255 || bytes.SequenceEqual("."u8) || bytes.SequenceEqual(".."u8))
                        {
                            continue;
                        }
                        var length = System.Text.Encoding.UTF8.GetChars(bytes, name);
                        if (!IsReserved(name[..length]))
                        {
                            list.Add(prefix.Length == 0 ? new string(name[..length]) : string.Concat(prefix.AsSpan(), name[..length]));
                        }
                    }
                }
            }
            return ReadOutcome.Read;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static int s_getdentsUnavailable;

    /// <summary>One statx(2) for a regular file or a directory; false for anything else (missing, another kind of
    /// file, an error, statx unavailable), which the caller handles the portable way.</summary>
    private static bool TryStatx(string local, out long size, out DateTime modifiedUtc, out bool isDirectory)
    {
        size = 0;
        modifiedUtc = default;
        isDirectory = false;
        if (!OperatingSystem.IsLinux() || Volatile.Read(ref s_statxUnavailable) != 0)
        {
            return false;
        }
        Statx buffer;
        int result;
        try
        {
            // AT_SYMLINK_NOFOLLOW: a symbolic link is left to FileInfo, as before.
            result = StatxNative.statx(AtFdCwd, local, AtSymlinkNoFollow, StatxTypeSizeMtime, out buffer);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            Volatile.Write(ref s_statxUnavailable, 1);
            return false;
        }
        if (result != 0 || (buffer.Mask & StatxTypeSizeMtime) != StatxTypeSizeMtime)
        {
            return false;
        }
        var type = buffer.Mode & SIfMt;
        if (type != SIfReg && type != SIfDir)
        {
            return false;
        }
        isDirectory = type == SIfDir;
        size = (long)buffer.Size;
        modifiedUtc = DateTime.UnixEpoch.AddTicks(buffer.Mtime.Seconds * TimeSpan.TicksPerSecond + buffer.Mtime.Nanoseconds / 100);
        return true;
    }

    public async IAsyncEnumerable<StorageEntry> WalkAsync(string path, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var local = Local(path);
        if (!Directory.Exists(local))
        {
            yield break;
        }
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 };
        var files = new FileSystemEnumerable<StorageEntry>(
            local,
            (ref FileSystemEntry e) => new StorageEntry(ToDriverPath(e.ToFullPath()), e.Length, e.LastWriteTimeUtc, false),
            options)
        {
            ShouldIncludePredicate = (ref FileSystemEntry e) => !e.IsDirectory && !IsReserved(e.FileName),
            ShouldRecursePredicate = (ref FileSystemEntry e) => !IsReserved(e.FileName),
        };
        IEnumerator<StorageEntry> enumerator;
        try
        {
            enumerator = files.GetEnumerator();
        }
        catch (DirectoryNotFoundException)
        {
            // Deleted since the check above.
            yield break;
        }
        using (enumerator)
        {
            while (enumerator.MoveNext())
            {
                cancellationToken.ThrowIfCancellationRequested();
                yield return enumerator.Current;
            }
        }
        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <summary>Flushes the source's data (cheap when its writer already did), renames it, then syncs the
    /// destination directory and the parents of the directories the move created. The source directory is
    /// pruned without a sync: should a crash undo that, an empty folder is left, never missing data.</summary>
    public Task MoveAsync(string sourcePath, string destinationPath, CancellationToken cancellationToken = default)
    {
        var src = LocalObject(sourcePath);
        var dst = LocalObject(destinationPath);
        var dstDir = Path.GetDirectoryName(dst)!;
        if (_sync)
        {
            try
            {
                using var handle = File.OpenHandle(src, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                Fsync(handle);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                throw new PathNotFoundException(sourcePath, Name);
            }
        }
        else if (!File.Exists(src))
        {
            throw new PathNotFoundException(sourcePath, Name);
        }
        List<string>? created = null;
        try
        {
            InDirectory(dstDir, ref created, () =>
            {
                File.Move(src, dst, overwrite: true);
                return true;
            });
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException && !File.Exists(src))
        {
            throw new PathNotFoundException(sourcePath, Name);
        }
        SyncDirectory(dstDir);
        SyncCreated(created);
        var srcDir = Path.GetDirectoryName(src)!;
        if (srcDir != dstDir)
        {
            PruneEmptyDirectories(srcDir, sync: false);
        }
        return Task.CompletedTask;
    }

    public Task DeleteAsync(string path, CancellationToken cancellationToken = default) =>
        DeleteAsync(path, Durability.Durable, cancellationToken);

    public Task DeleteAsync(string path, Durability durability, CancellationToken cancellationToken = default)
    {
        var local = LocalObject(path);
        if (File.Exists(local))
        {
            File.Delete(local);
        }
        else if (Directory.Exists(local))
        {
            Directory.Delete(local, recursive: true);
        }
        else
        {
            throw new PathNotFoundException(path, Name);
        }
        PruneEmptyDirectories(Path.GetDirectoryName(local)!, durability == Durability.Durable);
        return Task.CompletedTask;
    }

    private string Local(string path)
    {
        StoragePath.Validate(path);
        CheckNotReserved(path);
        return path == StoragePath.Root ? _root : _root + path;
    }

    private string LocalObject(string path)
    {
        StoragePath.ValidateObjectPath(path);
        CheckNotReserved(path);
        return _root + path;
    }

    private static void CheckNotReserved(string path)
    {
        foreach (var segment in path.AsSpan().Split('/'))
        {
            if (IsReserved(path.AsSpan()[segment]))
            {
                throw new InvalidPathException(path, $"names starting with '{TemporaryFilePrefix}' are reserved by the filesystem driver");
            }
        }
    }

    private static bool IsReserved(ReadOnlySpan<char> name) => name.StartsWith(TemporaryFilePrefix, StringComparison.Ordinal);

    private string ToDriverPath(string local) => local.Length == _root.Length ? StoragePath.Root : local[_root.Length..];

    /// <summary>Creates <paramref name="dir"/> and runs <paramref name="step"/>, which puts something in it.
    /// A concurrent delete may remove the directory, still empty, in between (or while it is being created):
    /// the step then fails with a not-found error (or the creation with "already exists") and is retried.
    /// The parents of the directories created are added to <paramref name="created"/> (deepest first): the
    /// caller syncs them (<see cref="SyncCreated"/>) once its own data is flushed.</summary>
    private static T InDirectory<T>(string dir, ref List<string>? created, Func<T> step)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                EnsureDirectory(dir, ref created);
            }
            catch (IOException) when (attempt < CreateAttempts)
            {
                continue;
            }
            try
            {
                return step();
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException && attempt < CreateAttempts)
            {
            }
        }
    }

    /// <summary>Creates missing directories, remembering each new one's parent, whose sync makes a rename into
    /// them survive a crash.</summary>
    private static void EnsureDirectory(string dir, ref List<string>? created)
    {
        if (Directory.Exists(dir))
        {
            return;
        }
        var parent = Path.GetDirectoryName(dir);
        if (parent is not null)
        {
            EnsureDirectory(parent, ref created);
        }
        Directory.CreateDirectory(dir);
        if (parent is not null)
        {
            created ??= [];
            created.Insert(0, parent);
        }
    }

    /// <summary>Which parents of the directories a put created to sync: all of them for a durable put; for a
    /// volatile one all but the entry of the object's own directory. A volatile put in a new repository (an
    /// upload's startedat) creates the repository's folders, which durable links later go into: a durable put
    /// syncs only the directories it creates itself, so those folders must not stay unsynced.</summary>
    private static List<string>? ParentsToSync(List<string>? created, string ownDirectory, bool durable)
    {
        if (created is null || durable)
        {
            return created;
        }
        var ownEntry = Path.GetDirectoryName(ownDirectory);
        var rest = created.Where(d => d != ownEntry).ToList();
        return rest.Count > 0 ? rest : null;
    }

    /// <summary>Syncs the parents of new directories, in parallel: the device serves parallel flushes far
    /// better than a chain of them (docs/performance.md).</summary>
    private void SyncCreated(List<string>? created)
    {
        if (created is null)
        {
            return;
        }
        if (created.Count == 1)
        {
            SyncDirectory(created[0]);
            return;
        }
        Parallel.ForEach(created, new ParallelOptions { MaxDegreeOfParallelism = created.Count }, SyncDirectory);
    }

    /// <summary>Removes <paramref name="dir"/> and its ancestors while they are empty, never the root; with
    /// <paramref name="sync"/>, then syncs the first directory that stays.</summary>
    private void PruneEmptyDirectories(string dir, bool sync = true)
    {
        while (dir.Length > _root.Length && dir.StartsWith(_root, StringComparison.Ordinal) && dir[_root.Length] == '/')
        {
            try
            {
                Directory.Delete(dir, recursive: false);
            }
            catch (DirectoryNotFoundException)
            {
                // Removed concurrently: go on with its parent.
            }
            catch (IOException)
            {
                break; // Not empty.
            }
            catch (UnauthorizedAccessException)
            {
                break;
            }
            dir = Path.GetDirectoryName(dir)!;
        }
        if (sync)
        {
            SyncDirectory(dir);
        }
    }

    /// <summary>Makes the directory's entries durable. Concurrent callers for one directory share syncs (group
    /// commit): a caller needs a sync that starts after its own change, so it waits for the one in flight to
    /// end and then joins the next, which one of the waiters runs for all of them. Under parallel pushes the
    /// shared folders (revisions/sha256, tags, _layers/sha256) are synced once per round, not once per push.</summary>
    private void SyncDirectory(string dir)
    {
        if (!_sync || !OperatingSystem.IsLinux())
        {
            return;
        }
        var group = _directorySyncs.GetOrAdd(dir, static _ => new DirectorySyncGroup());
        lock (group)
        {
            group.Users++;
        }
        try
        {
            group.Sync(dir);
        }
        finally
        {
            lock (group)
            {
                if (--group.Users == 0)
                {
                    _directorySyncs.TryRemove(new KeyValuePair<string, DirectorySyncGroup>(dir, group));
                }
            }
        }
    }

    private readonly ConcurrentDictionary<string, DirectorySyncGroup> _directorySyncs = new(StringComparer.Ordinal);

    /// <summary>Syncs of one directory, numbered; <see cref="Users"/> counts the callers inside.</summary>
    private sealed class DirectorySyncGroup
    {
        public int Users;
        private long _started;
        private long _completed;
        private bool _running;

        public void Sync(string dir)
        {
            lock (this)
            {
                var needed = _started + 1;
                while (_completed < needed)
                {
                    if (_running)
                    {
                        Monitor.Wait(this);
                        continue;
                    }
                    _running = true;
                    var ticket = ++_started;
                    Monitor.Exit(this);
                    try
                    {
                        FsyncDirectory(dir);
                    }
                    finally
                    {
                        Monitor.Enter(this);
                        _running = false;
                        _completed = ticket;
                        Monitor.PulseAll(this);
                    }
                }
            }
        }
    }

    private static void FsyncDirectory(string dir)
    {
        var fd = Native.open(dir, Native.O_RDONLY | Native.O_DIRECTORY | Native.O_CLOEXEC);
        if (fd < 0)
        {
            return;
        }
        try
        {
            _ = Native.fsync(fd);
        }
        finally
        {
            _ = Native.close(fd);
        }
    }

    /// <summary>fsync(2) of an open file; an error (EIO) is thrown, never ignored.</summary>
    private static void Fsync(SafeFileHandle handle)
    {
        if (!OperatingSystem.IsLinux())
        {
            using var fs = new FileStream(handle, FileAccess.Write, 1);
            fs.Flush(flushToDisk: true);
            return;
        }
        var added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            if (Native.fsync((int)handle.DangerousGetHandle()) != 0)
            {
                throw new IOException($"fsync failed: errno {Marshal.GetLastPInvokeError()}");
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>Starts writeback of a written range without waiting for it, so that the disk works while more
    /// data arrives and the flush at commit has little left to do.</summary>
    private static void StartWriteback(SafeFileHandle handle, long offset, long length)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        var added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            _ = Native.sync_file_range((int)handle.DangerousGetHandle(), offset, length, Native.SYNC_FILE_RANGE_WRITE);
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    private static void TryDeleteFile(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static partial class Native
    {
        public const int O_RDONLY = 0;
        public const int O_WRONLY = 1;
        public const int O_DIRECTORY = 0x10000;
        public const int O_CLOEXEC = 0x80000;

        public const int O_CREAT = 0x40;
        public const int O_APPEND = 0x400;

        [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        public static partial int open(string path, int flags);

        [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        public static partial int openWithMode(string path, int flags, int mode);

        [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
        public static unsafe partial nint write(int fd, byte* buffer, nint count);

        [LibraryImport("libc", EntryPoint = "openat", SetLastError = true)]
        public static unsafe partial int openat(int dirfd, byte* path, int flags);

        [LibraryImport("libc", EntryPoint = "statx", SetLastError = true)]
        public static unsafe partial int statx(int dirfd, byte* path, int flags, uint mask, Statx* buffer);

        public const int EPERM = 1;
        public const int ENOENT = 2;
        public const int EINTR = 4;
        public const int EACCES = 13;
        public const int EEXIST = 17;
        public const int EXDEV = 18;
        public const int ENOTDIR = 20;
        public const int EISDIR = 21;
        public const int EINVAL = 22;
        public const int ENOTEMPTY = 39;

        [LibraryImport("libc", EntryPoint = "rename", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        public static partial int rename(string oldPath, string newPath);

        [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
        public static unsafe partial nint read(int fd, byte* buffer, nint count);

        public const int POSIX_FADV_RANDOM = 1;
        public const int POSIX_FADV_WILLNEED = 3;

        [LibraryImport("libc", EntryPoint = "posix_fadvise")]
        public static partial int posix_fadvise(int fd, long offset, long length, int advice);

        [LibraryImport("libc", EntryPoint = "pwrite", SetLastError = true)]
        public static unsafe partial nint pwrite(int fd, byte* buffer, nint count, long offset);

        [LibraryImport("libc", EntryPoint = "getdents64", SetLastError = true)]
        public static unsafe partial nint getdents64(int fd, byte* buffer, nint count);

        [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
        public static partial int fsync(int fd);

        [LibraryImport("libc", EntryPoint = "close")]
        public static partial int close(int fd);

        public const uint SYNC_FILE_RANGE_WRITE = 2;

        [LibraryImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
        public static partial int sync_file_range(int fd, long offset, long nbytes, uint flags);
    }

    /// <summary>Writes to the hidden file <paramref name="pending"/>; commit renames it to <paramref name="local"/>.
    /// Whole aligned chunks at aligned offsets go to the disk directly (<see cref="DirectWriter"/>); other writes go
    /// to the page cache (pwrite on the calling thread: no buffering, no thread hop), and every
    /// <see cref="WritebackWindow"/> bytes that range is handed to the disk (sync_file_range), so the flush at
    /// commit waits only for the tail.</summary>
    private sealed class Writer(FileSystemDriver driver, string path, string local, string pending, SafeFileHandle handle) : IStorageWriter
    {
        private const long WritebackWindow = 8 * 1024 * 1024;
        private long _size = RandomAccess.GetLength(handle);
        private long _writtenBack = RandomAccess.GetLength(handle);
        private DirectWriter? _direct;
        private bool _directTried;
        private bool _wroteDirect;
        private bool _closed;

        public long Size => _size;

        public ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            cancellationToken.ThrowIfCancellationRequested();
            if (DirectEligible(buffer.Length) || _direct is { Idle: false })
            {
                return WriteWithDirectAsync(buffer);
            }
            WriteBuffered(buffer.Span);
            return ValueTask.CompletedTask;
        }

        /// <summary>Bytes to write through the page cache before the writer is at an aligned offset again.</summary>
        private int Misalignment => (int)((DirectAlignment - (_size % DirectAlignment)) % DirectAlignment);

        private bool DirectEligible(int length) =>
            length - Misalignment >= DirectMinimum && driver._directWrites
            && (_direct is not null || TryOpenDirect());

        private bool TryOpenDirect()
        {
            if (_directTried)
            {
                return false;
            }
            _directTried = true;
            _direct = DirectWriter.TryOpen(driver, pending, handle);
            return _direct is not null;
        }

        private async ValueTask WriteWithDirectAsync(ReadOnlyMemory<byte> buffer)
        {
            while (buffer.Length - Misalignment >= DirectMinimum && driver._directWrites && _direct is not null)
            {
                if (Misalignment is var gap and > 0)
                {
                    // After an unaligned append: the bytes up to the next block boundary through the page cache.
                    await DrainDirectAsync().ConfigureAwait(false);
                    WriteBuffered(buffer.Span[..gap]);
                    buffer = buffer[gap..];
                }
                var length = Math.Min(buffer.Length, DirectChunk) / DirectAlignment * DirectAlignment;
                await _direct.WriteAsync(buffer[..length], _size).ConfigureAwait(false);
                _wroteDirect = true;
                _size += length;
                _writtenBack = _size;
                buffer = buffer[length..];
            }
            if (buffer.Length > 0)
            {
                // Page-cache writes start after the direct ones have landed: one writer, one order.
                await DrainDirectAsync().ConfigureAwait(false);
                WriteBuffered(buffer.Span);
            }
        }

        private void WriteBuffered(ReadOnlySpan<byte> buffer)
        {
            RandomAccess.Write(handle, buffer, _size);
            _size += buffer.Length;
            if (driver._sync && _size - _writtenBack >= WritebackWindow)
            {
                StartWriteback(handle, _writtenBack, _size - _writtenBack);
                _writtenBack = _size;
            }
        }

        private Task DrainDirectAsync() => _direct?.DrainAsync() ?? Task.CompletedTask;

        /// <summary>Waits for direct writes in flight (errors swallowed when <paramref name="rethrow"/> is false) and releases the direct half.</summary>
        private async Task CloseDirectAsync(bool rethrow)
        {
            if (_direct is not { } direct)
            {
                return;
            }
            try
            {
                await direct.DrainAsync().ConfigureAwait(false);
            }
            catch when (!rethrow)
            {
            }
            finally
            {
                direct.Dispose();
                _direct = null;
            }
        }

        public Task CommitAsync(CancellationToken cancellationToken = default) => CommitAsync(Durability.Durable, cancellationToken);

        public async Task CommitAsync(Durability durability, CancellationToken cancellationToken = default)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            _closed = true;
            var sync = driver._sync && durability == Durability.Durable;
            try
            {
                await CloseDirectAsync(rethrow: true).ConfigureAwait(false);
                if (sync)
                {
                    Fsync(handle);
                }
                if (_wroteDirect)
                {
                    driver.WarmLater(pending, _size);
                }
            }
            finally
            {
                await CloseDirectAsync(rethrow: false).ConfigureAwait(false);
                handle.Dispose();
            }
            try
            {
                File.Move(pending, local, overwrite: true);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                // A delete of the path or of a directory above it discarded the write.
                throw new PathNotFoundException(path, driver.Name);
            }
            if (sync)
            {
                driver.SyncDirectory(Path.GetDirectoryName(local)!);
            }
        }

        public async Task CancelAsync(CancellationToken cancellationToken = default)
        {
            if (!_closed)
            {
                _closed = true;
                await CloseDirectAsync(rethrow: false).ConfigureAwait(false);
                handle.Dispose();
            }
            TryDeleteFile(pending);
            driver.PruneEmptyDirectories(Path.GetDirectoryName(local)!);
        }

        /// <summary>Without a commit the bytes stay in the hidden file for a later append; a direct write that
        /// failed is thrown here, so that the caller does not report bytes as stored that are not.</summary>
        public async ValueTask DisposeAsync()
        {
            if (!_closed)
            {
                _closed = true;
                try
                {
                    await CloseDirectAsync(rethrow: true).ConfigureAwait(false);
                }
                finally
                {
                    handle.Dispose();
                }
            }
        }
    }
}
