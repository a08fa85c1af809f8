using System.Runtime.InteropServices;

namespace Berth.Storage.FileSystem;

/// <summary>
/// <see cref="IObjectAppender"/>: open(2) with O_APPEND, one write(2), close. Appends of this process are serialized
/// by a lock, so that one call's bytes never interleave with another's even where O_APPEND is not atomic (NFS);
/// other processes append to files of their own (the GC journal names its file per process).
/// </summary>
public sealed partial class FileSystemDriver : IObjectAppender
{
    private readonly Lock _appendLock = new();

    public Task<bool> TryAppendAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!OperatingSystem.IsLinux())
        {
            return Task.FromResult(false);
        }
        var local = LocalObject(path);
        var dir = Path.GetDirectoryName(local)!;
        List<string>? created = null;
        lock (_appendLock)
        {
            var fd = InDirectory(dir, ref created, () => OpenForAppend(local, path));
            try
            {
                WriteAll(fd, content.Span, path);
            }
            finally
            {
                _ = Native.close(fd);
            }
        }
        return Task.FromResult(true);
    }

    private static int OpenForAppend(string local, string path)
    {
        var fd = Native.openWithMode(local, Native.O_WRONLY | Native.O_APPEND | Native.O_CREAT | Native.O_CLOEXEC, Convert.ToInt32("666", 8));
        if (fd >= 0)
        {
            return fd;
        }
        var errno = Marshal.GetLastPInvokeError();
        throw errno switch
        {
            Native.ENOENT => new DirectoryNotFoundException($"no folder for '{path}'"),
            Native.EACCES or Native.EPERM => new UnauthorizedAccessException($"cannot open '{path}' to append: errno {errno}"),
            _ => new IOException($"cannot open '{path}' to append: errno {errno}"),
        };
    }

    private static unsafe void WriteAll(int fd, ReadOnlySpan<byte> content, string path)
    {
        fixed (byte* start = content)
        {
            var done = 0;
            while (done < content.Length)
            {
                var n = Native.write(fd, start + done, content.Length - done);
                if (n < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == Native.EINTR)
                    {
                        continue;
                    }
                    throw new IOException($"append to '{path}' failed after {done} of {content.Length} bytes: errno {errno}");
                }
                done += (int)n;
            }
        }
    }
}
