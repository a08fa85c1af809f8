using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Berth.Storage.FileSystem;

/// <summary>Stores objects as files under a root directory. Whole-object puts are atomic:
/// temporary file in the same directory, flush to disk, rename, then a sync of the directory.</summary>
public sealed partial class FileSystemDriver : IStorageDriver, ILocalFileAccess
{
    internal const string TempPrefix = ".berth-tmp-";
    private readonly string _root;
    private readonly bool _sync;

    public FileSystemDriver(string rootDirectory, bool syncToDisk = true)
    {
        _root = Path.GetFullPath(rootDirectory).TrimEnd('/');
        if (_root.Length == 0)
        {
            _root = "/";
        }
        _sync = syncToDisk;
        Directory.CreateDirectory(_root);
    }

    public string Name => "filesystem";

    public string RootDirectory => _root;

    public string? GetLocalPath(string path) => File.Exists(Local(path)) ? Local(path) : null;

    private string Local(string path)
    {
        StoragePath.Validate(path);
        return path == "/" ? _root : _root + path;
    }

    private string ToDriverPath(string local) => local.Length == _root.Length ? "/" : local[_root.Length..];

    public async Task<byte[]> GetContentAsync(string path, CancellationToken cancellationToken = default)
    {
        try
        {
            return await File.ReadAllBytesAsync(Local(path), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException || (e is UnauthorizedAccessException && Directory.Exists(Local(path))))
        {
            throw new PathNotFoundException(path, Name);
        }
    }

    public async Task PutContentAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        var local = Local(path);
        var dir = Path.GetDirectoryName(local)!;
        EnsureDirectory(dir);
        var temp = Path.Combine(dir, TempPrefix + Guid.NewGuid().ToString("N"));
        try
        {
            await using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.None))
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
            throw;
        }
        SyncDirectory(dir);
    }

    public Task<Stream> OpenReadAsync(string path, long offset = 0, CancellationToken cancellationToken = default)
    {
        var local = Local(path);
        FileStream fs;
        try
        {
            fs = new FileStream(local, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException || (e is UnauthorizedAccessException && Directory.Exists(local)))
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
        var local = Local(path);
        EnsureDirectory(Path.GetDirectoryName(local)!);
        var fs = new FileStream(local, append ? FileMode.OpenOrCreate : FileMode.Create, FileAccess.Write, FileShare.Read | FileShare.Delete, 1, FileOptions.Asynchronous);
        if (append)
        {
            fs.Seek(0, SeekOrigin.End);
        }
        return Task.FromResult<IStorageWriter>(new Writer(this, local, fs));
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
        try
        {
            var result = new List<string>();
            foreach (var entry in Directory.EnumerateFileSystemEntries(local))
            {
                if (!Path.GetFileName(entry).StartsWith(TempPrefix, StringComparison.Ordinal))
                {
                    result.Add(ToDriverPath(entry));
                }
            }
            return Task.FromResult<IReadOnlyList<string>>(result);
        }
        catch (Exception e) when (e is DirectoryNotFoundException or IOException)
        {
            throw new PathNotFoundException(path, Name);
        }
    }

    public async IAsyncEnumerable<StorageEntry> WalkAsync(string path, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var local = Local(path);
        if (!Directory.Exists(local))
        {
            yield break;
        }
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 };
        foreach (var file in new DirectoryInfo(local).EnumerateFiles("*", options))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (file.Name.StartsWith(TempPrefix, StringComparison.Ordinal))
            {
                continue;
            }
            yield return new StorageEntry(ToDriverPath(file.FullName), file.Length, file.LastWriteTimeUtc, false);
        }
        await Task.CompletedTask.ConfigureAwait(false);
    }

    public Task MoveAsync(string sourcePath, string destinationPath, CancellationToken cancellationToken = default)
    {
        var src = Local(sourcePath);
        var dst = Local(destinationPath);
        if (!File.Exists(src))
        {
            throw new PathNotFoundException(sourcePath, Name);
        }
        var dir = Path.GetDirectoryName(dst)!;
        EnsureDirectory(dir);
        File.Move(src, dst, overwrite: true);
        SyncDirectory(dir);
        return Task.CompletedTask;
    }

    public Task DeleteAsync(string path, CancellationToken cancellationToken = default)
    {
        var local = Local(path);
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
        SyncDirectory(Path.GetDirectoryName(local)!);
        return Task.CompletedTask;
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

    private sealed class Writer(FileSystemDriver driver, string local, FileStream stream) : IStorageWriter
    {
        private bool _closed;

        public long Size => stream.Position;

        public ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            return stream.WriteAsync(buffer, cancellationToken);
        }

        public async Task CommitAsync(CancellationToken cancellationToken = default)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (driver._sync)
            {
                stream.Flush(flushToDisk: true);
            }
            _closed = true;
            await stream.DisposeAsync().ConfigureAwait(false);
            driver.SyncDirectory(Path.GetDirectoryName(local)!);
        }

        public async Task CancelAsync(CancellationToken cancellationToken = default)
        {
            _closed = true;
            await stream.DisposeAsync().ConfigureAwait(false);
            TryDeleteFile(local);
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
