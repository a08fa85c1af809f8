using System.Runtime.InteropServices;

namespace Berth.Storage.FileSystem;

/// <summary>
/// Directory versions for listing caches, in the manner of git's index ("racy git"): a directory's listing is
/// identified by its device, inode, modification and change times (nanoseconds) and size, read with one
/// <c>statx(2)</c>. Adding, removing or renaming an entry updates the directory's mtime and ctime, and a
/// directory deleted and created again gets a new inode or new times; so equal versions mean an unchanged
/// listing, with one exception that <see cref="DirectoryVersion.Stable"/> guards against: timestamps are coarse
/// (the kernel stamps with its tick, up to 10 ms; some filesystems keep whole seconds), so a change made within
/// the same tick as the last one keeps the times. A version is therefore only stable when its times are older
/// than <see cref="FineRacyWindow"/> (<see cref="CoarseRacyWindow"/> when the times have no sub-second part,
/// which is what one-second and two-second filesystems store) at the moment it is read: any later change gets
/// a later timestamp. A cache reads the version, lists, reads it again, and keeps the listing only when both
/// reads are equal and stable.
/// <para>Shared filesystems: the times come from the file server's clock. The window also covers a server clock
/// that runs up to that much behind ours; NFS clients may in any case serve listings from their attribute cache
/// (<c>actimeo</c>) whether or not Berth caches.</para>
/// <para>Linux only (<c>statx</c>, glibc 2.28); elsewhere the driver answers null and callers list every time.</para>
/// </summary>
public sealed partial class FileSystemDriver : IDirectoryVersionSource
{
    /// <summary>How old nanosecond timestamps must be before a version may be cached.</summary>
    public static readonly TimeSpan FineRacyWindow = TimeSpan.FromMilliseconds(100);

    /// <summary>How old whole-second timestamps must be (FAT keeps two-second times).</summary>
    public static readonly TimeSpan CoarseRacyWindow = TimeSpan.FromSeconds(3);

    private const int AtFdCwd = -100;
    private const uint StatxBasicStats = 0x7ff;
    private const int ENOENT = 2;
    private const int ENOTDIR = 20;
    private const ushort SIfMt = 0xF000;
    private const ushort SIfDir = 0x4000;
    private const ushort SIfReg = 0x8000;
    private const int AtSymlinkNoFollow = 0x100;

    /// <summary>STATX_TYPE | STATX_MODE | STATX_SIZE | STATX_MTIME.</summary>
    private const uint StatxTypeSizeMtime = 0x1 | 0x2 | 0x200 | 0x40;

    private static int s_statxUnavailable;

    public DirectoryVersion? GetDirectoryVersion(string path)
    {
        var local = Local(path);
        if (Volatile.Read(ref s_statxUnavailable) != 0 || !OperatingSystem.IsLinux())
        {
            return null;
        }
        var now = DateTime.UtcNow;
        Statx buffer;
        int result;
        try
        {
            result = StatxNative.statx(AtFdCwd, local, 0, StatxBasicStats, out buffer);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            Volatile.Write(ref s_statxUnavailable, 1);
            return null;
        }
        if (result != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            return errno is ENOENT or ENOTDIR ? DirectoryVersion.Missing : null;
        }
        if ((buffer.Mode & SIfMt) != SIfDir)
        {
            return DirectoryVersion.Missing;
        }
        var modified = buffer.Mtime.Seconds * 1_000_000_000L + buffer.Mtime.Nanoseconds;
        var changed = buffer.Ctime.Seconds * 1_000_000_000L + buffer.Ctime.Nanoseconds;
        var window = buffer.Mtime.Nanoseconds == 0 && buffer.Ctime.Nanoseconds == 0 ? CoarseRacyWindow : FineRacyWindow;
        var nowNanoseconds = (now - DateTime.UnixEpoch).Ticks * 100L;
        var newest = Math.Max(modified, changed);
        var stable = nowNanoseconds - newest > window.Ticks * 100L;
        var device = ((ulong)buffer.DevMajor << 32) | buffer.DevMinor;
        return new DirectoryVersion(true, stable, device, buffer.Ino, modified, changed, buffer.Size);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct StatxTimestamp
    {
        public long Seconds;
        public uint Nanoseconds;
        public int Reserved;
    }

    /// <summary><c>struct statx</c> (linux/stat.h): the same layout on every architecture.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 256)]
    private struct Statx
    {
        public uint Mask;
        public uint BlockSize;
        public ulong Attributes;
        public uint Nlink;
        public uint Uid;
        public uint Gid;
        public ushort Mode;
        public ushort Spare0;
        public ulong Ino;
        public ulong Size;
        public ulong Blocks;
        public ulong AttributesMask;
        public StatxTimestamp Atime;
        public StatxTimestamp Btime;
        public StatxTimestamp Ctime;
        public StatxTimestamp Mtime;
        public uint RdevMajor;
        public uint RdevMinor;
        public uint DevMajor;
        public uint DevMinor;
    }

    private static partial class StatxNative
    {
        [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        public static partial int statx(int dirfd, string path, int flags, uint mask, out Statx buffer);
    }
}
