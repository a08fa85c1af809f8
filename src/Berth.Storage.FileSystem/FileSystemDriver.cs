using System.IO.Enumeration;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

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

    public FileSystemDriver(string rootDirectory, bool syncToDisk = true)
    {
        _root = Path.GetFullPath(rootDirectory).TrimEnd('/');
        if (_root.Length == 0)
        {
            throw new ArgumentException("the filesystem root '/' cannot be the storage root", nameof(rootDirectory));
        }
        _sync = syncToDisk;
        Directory.CreateDirectory(_root);
    }

    public string Name => "filesystem";

    public string RootDirectory => _root;

    public string? GetLocalPath(string path)
    {
        var local = LocalObject(path);
        return File.Exists(local) ? local : null;
    }

    public async Task<byte[]> GetContentAsync(string path, CancellationToken cancellationToken = default)
    {
        var local = LocalObject(path);
        try
        {
            return await File.ReadAllBytesAsync(local, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && !File.Exists(local))
        {
            throw new PathNotFoundException(path, Name);
        }
    }

    public async Task PutContentAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        var local = LocalObject(path);
        var dir = Path.GetDirectoryName(local)!;
        var temp = Path.Combine(dir, TemporaryFilePrefix + Guid.NewGuid().ToString("N"));
        try
        {
            await using (var fs = CreateFile(temp, FileMode.CreateNew, FileShare.None, FileOptions.None))
            {
                await fs.WriteAsync(content, cancellationToken).ConfigureAwait(false);
                if (_sync)
                {
                    fs.Flush(flushToDisk: true);
                }
            }
            File.Move(temp, local, overwrite: true);
        }
        catch
        {
            TryDeleteFile(temp);
            PruneEmptyDirectories(dir);
            throw;
        }
        SyncDirectory(dir);
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
        var pending = Path.Combine(Path.GetDirectoryName(local)!, WriterFilePrefix + Path.GetFileName(local));
        FileStream fs;
        if (append)
        {
            try
            {
                fs = new FileStream(pending, FileMode.Open, FileAccess.Write, FileShare.Read | FileShare.Delete, 1, FileOptions.Asynchronous);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException && !File.Exists(pending))
            {
                throw new PathNotFoundException(path, Name);
            }
            fs.Seek(0, SeekOrigin.End);
        }
        else
        {
            fs = CreateFile(pending, FileMode.Create, FileShare.Read | FileShare.Delete, FileOptions.Asynchronous);
        }
        return Task.FromResult<IStorageWriter>(new Writer(this, path, local, pending, fs));
    }

    public Task<StorageEntry> StatAsync(string path, CancellationToken cancellationToken = default)
    {
        var local = Local(path);
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
        List<string> result;
        try
        {
            var prefix = path == StoragePath.Root ? "/" : path + "/";
            var children = new FileSystemEnumerable<string>(local, (ref FileSystemEntry e) => string.Concat(prefix, e.FileName), new EnumerationOptions { AttributesToSkip = 0 })
            {
                ShouldIncludePredicate = (ref FileSystemEntry e) => !IsReserved(e.FileName),
            };
            result = [.. children];
        }
        catch (IOException)
        {
            // Missing, or not a directory (ENOTDIR is an IOException).
            throw new PathNotFoundException(path, Name);
        }
        if (result.Count == 0 && path != StoragePath.Root)
        {
            // Only files of puts or writes in progress: nothing is stored here.
            throw new PathNotFoundException(path, Name);
        }
        return Task.FromResult<IReadOnlyList<string>>(result);
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

    public Task MoveAsync(string sourcePath, string destinationPath, CancellationToken cancellationToken = default)
    {
        var src = LocalObject(sourcePath);
        var dst = LocalObject(destinationPath);
        var dstDir = Path.GetDirectoryName(dst)!;
        if (!File.Exists(src))
        {
            throw new PathNotFoundException(sourcePath, Name);
        }
        try
        {
            InDirectory(dstDir, () =>
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
        var srcDir = Path.GetDirectoryName(src)!;
        if (srcDir != dstDir)
        {
            PruneEmptyDirectories(srcDir);
        }
        return Task.CompletedTask;
    }

    public Task DeleteAsync(string path, CancellationToken cancellationToken = default)
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
        PruneEmptyDirectories(Path.GetDirectoryName(local)!);
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

    /// <summary>Opens a new file for writing, creating its directory; see <see cref="InDirectory{T}"/>.</summary>
    private FileStream CreateFile(string file, FileMode mode, FileShare share, FileOptions options) =>
        InDirectory(Path.GetDirectoryName(file)!, () => new FileStream(file, mode, FileAccess.Write, share, 1, options));

    /// <summary>Creates <paramref name="dir"/> and runs <paramref name="step"/>, which puts something in it.
    /// A concurrent delete may remove the directory, still empty, in between (or while it is being created):
    /// the step then fails with a not-found error (or the creation with "already exists") and is retried.</summary>
    private T InDirectory<T>(string dir, Func<T> step)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                EnsureDirectory(dir);
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

    /// <summary>Creates missing directories and syncs each new one's parent, so that a rename into
    /// them survives a crash.</summary>
    private void EnsureDirectory(string dir)
    {
        if (Directory.Exists(dir))
        {
            return;
        }
        var parent = Path.GetDirectoryName(dir);
        if (parent is not null)
        {
            EnsureDirectory(parent);
        }
        Directory.CreateDirectory(dir);
        if (parent is not null)
        {
            SyncDirectory(parent);
        }
    }

    /// <summary>Removes <paramref name="dir"/> and its ancestors while they are empty, never the root, then
    /// syncs the first directory that stays.</summary>
    private void PruneEmptyDirectories(string dir)
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
        SyncDirectory(dir);
    }

    private void SyncDirectory(string dir)
    {
        if (!_sync || !OperatingSystem.IsLinux())
        {
            return;
        }
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
        public const int O_DIRECTORY = 0x10000;
        public const int O_CLOEXEC = 0x80000;

        [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        public static partial int open(string path, int flags);

        [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
        public static partial int fsync(int fd);

        [LibraryImport("libc", EntryPoint = "close")]
        public static partial int close(int fd);
    }

    /// <summary>Writes to the hidden file <paramref name="pending"/>; commit renames it to <paramref name="local"/>.</summary>
    private sealed class Writer(FileSystemDriver driver, string path, string local, string pending, FileStream stream) : IStorageWriter
    {
        private long _size = stream.Position;
        private bool _closed;

        public long Size => _size;

        public async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            await stream.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            _size += buffer.Length;
        }

        public async Task CommitAsync(CancellationToken cancellationToken = default)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            _closed = true;
            try
            {
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                if (driver._sync)
                {
                    stream.Flush(flushToDisk: true);
                }
            }
            finally
            {
                await stream.DisposeAsync().ConfigureAwait(false);
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
            driver.SyncDirectory(Path.GetDirectoryName(local)!);
        }

        public async Task CancelAsync(CancellationToken cancellationToken = default)
        {
            if (!_closed)
            {
                _closed = true;
                await stream.DisposeAsync().ConfigureAwait(false);
            }
            TryDeleteFile(pending);
            driver.PruneEmptyDirectories(Path.GetDirectoryName(local)!);
        }

        public async ValueTask DisposeAsync()
        {
            if (!_closed)
            {
                _closed = true;
                await stream.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
