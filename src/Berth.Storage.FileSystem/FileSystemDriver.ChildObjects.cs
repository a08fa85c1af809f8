using System.Runtime.InteropServices;

namespace Berth.Storage.FileSystem;

/// <summary>
/// <see cref="IChildObjectReader"/>: the directory is opened once, listed with getdents64, and each child's object
/// is opened (or stat'ed) relative to it with openat/statx, so the kernel resolves "&lt;child&gt;/link" instead of the
/// whole path from the root for every link file (doctor reads tens of thousands of them).
/// </summary>
public sealed partial class FileSystemDriver : IChildObjectReader
{
    public unsafe bool TryListChildObjects(string directory, string relativePath, bool readContent, out IReadOnlyList<ChildObject> children)
    {
        children = [];
        if (!OperatingSystem.IsLinux() || Volatile.Read(ref s_getdentsUnavailable) != 0 || (!readContent && Volatile.Read(ref s_statxUnavailable) != 0))
        {
            return false;
        }
        if (!IsPlainRelativePath(relativePath))
        {
            throw new ArgumentException($"'{relativePath}' is not a relative object path", nameof(relativePath));
        }
        var local = Local(directory);
        int fd;
        do
        {
            fd = Native.open(local, Native.O_RDONLY | Native.O_DIRECTORY | Native.O_CLOEXEC);
        }
        while (fd < 0 && Marshal.GetLastPInvokeError() == Native.EINTR);
        if (fd < 0)
        {
            if (Marshal.GetLastPInvokeError() is Native.ENOENT or Native.ENOTDIR)
            {
                throw new PathNotFoundException(directory, Name);
            }
            return false; // ListAsync raises the usual exception
        }
        try
        {
            var names = new List<string>();
            if (ReadDirectoryEntries(fd, "", names) != ReadOutcome.Read)
            {
                return false;
            }
            if (names.Count == 0 && directory != StoragePath.Root)
            {
                throw new PathNotFoundException(directory, Name); // as ListAsync: only reserved files, nothing stored
            }
            var result = new ChildObject[names.Count];
            var relative = System.Text.Encoding.UTF8.GetBytes(relativePath);
            Span<byte> path = stackalloc byte[256 * 4 + 2 + relative.Length];
            for (var i = 0; i < names.Count; i++)
            {
                var name = names[i];
                if (!IsPlainSegment(name))
                {
                    // A name that is no valid path segment: GetContentAsync or StatAsync gives its usual answer.
                    result[i] = new ChildObject(name, ChildObjectStatus.Unknown, null, 0);
                    continue;
                }
                var length = System.Text.Encoding.ASCII.GetBytes(name, path);
                path[length++] = (byte)'/';
                relative.CopyTo(path[length..]);
                length += relative.Length;
                path[length] = 0;
                fixed (byte* p = path)
                {
                    result[i] = readContent ? ReadChild(fd, name, p) : StatChild(fd, name, p);
                }
            }
            children = result;
            return true;
        }
        finally
        {
            _ = Native.close(fd);
        }
    }

    private static unsafe ChildObject ReadChild(int directoryFd, string name, byte* path)
    {
        int fd;
        do
        {
            fd = Native.openat(directoryFd, path, Native.O_RDONLY | Native.O_CLOEXEC);
        }
        while (fd < 0 && Marshal.GetLastPInvokeError() == Native.EINTR);
        if (fd < 0)
        {
            return Marshal.GetLastPInvokeError() is Native.ENOENT or Native.ENOTDIR
                ? new ChildObject(name, ChildObjectStatus.Missing, null, 0)
                : new ChildObject(name, ChildObjectStatus.Unknown, null, 0);
        }
        return ReadWholeFileAndClose(fd, out var content) switch
        {
            ReadOutcome.Read => new ChildObject(name, ChildObjectStatus.File, content, content!.Length),
            ReadOutcome.NotFound => new ChildObject(name, ChildObjectStatus.Missing, null, 0), // a directory
            _ => new ChildObject(name, ChildObjectStatus.Unknown, null, 0),
        };
    }

    /// <summary>As <see cref="StatAsync"/> answers: a regular file or a directory from statx (not following a
    /// symbolic link); missing; anything else is left to StatAsync.</summary>
    private static unsafe ChildObject StatChild(int directoryFd, string name, byte* path)
    {
        Statx buffer;
        int result;
        try
        {
            result = Native.statx(directoryFd, path, AtSymlinkNoFollow, StatxTypeSizeMtime, &buffer);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            Volatile.Write(ref s_statxUnavailable, 1);
            return new ChildObject(name, ChildObjectStatus.Unknown, null, 0);
        }
        if (result != 0)
        {
            return Marshal.GetLastPInvokeError() is Native.ENOENT or Native.ENOTDIR
                ? new ChildObject(name, ChildObjectStatus.Missing, null, 0)
                : new ChildObject(name, ChildObjectStatus.Unknown, null, 0);
        }
        if ((buffer.Mask & StatxTypeSizeMtime) != StatxTypeSizeMtime)
        {
            return new ChildObject(name, ChildObjectStatus.Unknown, null, 0);
        }
        return (buffer.Mode & SIfMt) switch
        {
            SIfReg => new ChildObject(name, ChildObjectStatus.File, null, (long)buffer.Size),
            SIfDir => new ChildObject(name, ChildObjectStatus.Directory, null, 0),
            _ => new ChildObject(name, ChildObjectStatus.Unknown, null, 0),
        };
    }

    /// <summary>A path segment <see cref="StoragePath"/> accepts inside a path ([A-Za-z0-9._:-]+, not "." or ".."),
    /// not reserved by this driver.</summary>
    private static bool IsPlainSegment(ReadOnlySpan<char> name)
    {
        if (name.Length == 0 || name is "." or ".." || IsReserved(name))
        {
            return false;
        }
        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '-'))
            {
                return false;
            }
        }
        return true;
    }

    private static bool IsPlainRelativePath(string path)
    {
        if (path.Length == 0)
        {
            return false;
        }
        foreach (var range in path.AsSpan().Split('/'))
        {
            if (!IsPlainSegment(path.AsSpan()[range]))
            {
                return false;
            }
        }
        return true;
    }
}
