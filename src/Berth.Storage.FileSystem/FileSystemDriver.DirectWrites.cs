using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Berth.Storage.FileSystem;

/// <summary>
/// Direct writes for big uploads. A writer that receives whole aligned chunks (the upload copy loop hands it
/// 1 MiB at a time) writes them with O_DIRECT from an aligned buffer: the disk reads the bytes by DMA instead
/// of the kernel copying them into fresh page-cache pages. That copy was 45% of the registry's CPU in a
/// 64 MiB push (perf: copy_folio_from_iter_atomic; on this VM first-touch page-cache pages are expensive), and
/// the dirty pages had to be written back before the push could be acknowledged anyway. Two buffers per
/// writer: one is on its way to the disk while the next chunk is copied in. The unaligned rest (the tail, or
/// anything after an unaligned append) goes through the page cache as before, and commit's fsync covers both.
/// A file system that refuses O_DIRECT (tmpfs, some FUSE mounts) turns direct writes off for the driver.
/// </summary>
public sealed partial class FileSystemDriver
{
    /// <summary>Offset, length and address alignment of direct writes (the logical block size of any disk
    /// we expect divides it).</summary>
    internal const int DirectAlignment = 4096;

    /// <summary>Largest single direct write, also the size of each writer buffer (two per writer: 1 MiB of a
    /// writer's bytes on their way to the disk at most; small enough to keep eight parallel pushes' RSS low).</summary>
    internal const int DirectChunk = 512 * 1024;

    /// <summary>Smaller writes are not worth a direct write's round trip to the disk.</summary>
    internal const int DirectMinimum = 64 * 1024;

    private readonly DirectBufferPool _directBuffers = new(maxRetained: 16);
    private volatile bool _directWrites;

    private long _directBytes;

    /// <summary>Whether writers currently use direct writes (false after the file system refused one).</summary>
    public bool DirectWritesEnabled => _directWrites;

    /// <summary>Bytes writers have written with O_DIRECT since the driver was created.</summary>
    public long DirectBytesWritten => Interlocked.Read(ref _directBytes);

    /// <summary>Bytes the warmer asks the disk for at a time: an fsync issued meanwhile waits behind at most this
    /// much queued reading.</summary>
    internal const int WarmStep = 1024 * 1024;

    private readonly System.Threading.Channels.Channel<(SafeFileHandle Handle, long Length)> _warming =
        System.Threading.Channels.Channel.CreateBounded<(SafeFileHandle, long)>(new System.Threading.Channels.BoundedChannelOptions(64) { SingleReader = true });

    private int _warmerStarted;

    /// <summary>Reads a directly written file back into the page cache in the background (a just-pushed blob is often
    /// pulled next, and Distribution's buffered writes leave it cached), one <see cref="WarmStep"/> at a time. Asking
    /// for the whole file at once queued 64 MiB of reads on the device, and every fsync after them waited 35-40 ms
    /// (docs/performance.md). Best effort: nothing is warmed when the queue is full or the file cannot be opened.</summary>
    private void WarmLater(string local, long length)
    {
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(local, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }
        if (!_warming.Writer.TryWrite((handle, length)))
        {
            handle.Dispose();
            return;
        }
        if (Interlocked.Exchange(ref _warmerStarted, 1) == 0)
        {
            _ = Task.Run(WarmAsync);
        }
    }

    private async Task WarmAsync()
    {
        var probe = new byte[1];
        await foreach (var (handle, length) in _warming.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            using (handle)
            {
                try
                {
                    Warm(handle, length, probe);
                }
                catch (Exception)
                {
                    // Best effort, and the reader must outlive any one file: a disk error, a truncated file or
                    // anything else is reported by the read that needs the bytes, not here.
                }
            }
        }
    }

    private static void Warm(SafeFileHandle handle, long length, byte[] probe)
    {
        var fd = (int)handle.DangerousGetHandle();
        // No read-ahead of the kernel's own on this descriptor: only the pieces asked for are in flight.
        _ = Native.posix_fadvise(fd, 0, 0, Native.POSIX_FADV_RANDOM);
        for (long offset = 0; offset < length; offset += WarmStep)
        {
            var end = Math.Min(offset + WarmStep, length);
            if (Native.posix_fadvise(fd, offset, end - offset, Native.POSIX_FADV_WILLNEED) != 0)
            {
                return;
            }
            RandomAccess.Read(handle, probe, end - 1); // waits for the piece's last page
        }
    }

    private static int OpenDirect(string local)
    {
        if (!OperatingSystem.IsLinux())
        {
            return -1;
        }
        // O_DIRECT differs between architectures (x64 0x4000, arm/arm64 0x10000).
        var oDirect = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x10000 : 0x4000;
        int fd;
        do
        {
            fd = Native.open(local, Native.O_WRONLY | Native.O_CLOEXEC | oDirect);
        }
        while (fd < 0 && Marshal.GetLastPInvokeError() == Native.EINTR);
        return fd;
    }

    /// <summary>Native, aligned, reused buffers. Bounded: when they are all in use a writer falls back to the page
    /// cache rather than growing the process.</summary>
    private sealed unsafe class DirectBufferPool(int maxRetained)
    {
        private readonly ConcurrentBag<nint> _free = [];
        private int _allocated;

        public nint Rent()
        {
            if (_free.TryTake(out var buffer))
            {
                return buffer;
            }
            if (Interlocked.Increment(ref _allocated) > maxRetained)
            {
                Interlocked.Decrement(ref _allocated);
                return 0;
            }
            return (nint)NativeMemory.AlignedAlloc(DirectChunk, DirectAlignment);
        }

        public void Return(nint buffer)
        {
            if (buffer != 0)
            {
                _free.Add(buffer);
            }
        }
    }

    /// <summary>The direct half of a <see cref="Writer"/>: a second descriptor opened with O_DIRECT and two buffers.</summary>
    private sealed class DirectWriter(FileSystemDriver driver, SafeFileHandle handle, int fd, nint first, nint second) : IDisposable
    {
        private readonly nint[] _buffers = [first, second];
        private readonly Task?[] _pending = new Task?[2];
        private int _next;
        private bool _disposed;

        public static DirectWriter? TryOpen(FileSystemDriver driver, string local, SafeFileHandle handle)
        {
            var first = driver._directBuffers.Rent();
            var second = first == 0 ? 0 : driver._directBuffers.Rent();
            if (second == 0)
            {
                driver._directBuffers.Return(first);
                return null;
            }
            var fd = OpenDirect(local);
            if (fd < 0)
            {
                if (Marshal.GetLastPInvokeError() == Native.EINVAL)
                {
                    driver._directWrites = false;
                }
                driver._directBuffers.Return(first);
                driver._directBuffers.Return(second);
                return null;
            }
            return new DirectWriter(driver, handle, fd, first, second);
        }

        /// <summary>Copies <paramref name="chunk"/> (aligned length, at most <see cref="DirectChunk"/>) into a free
        /// buffer and starts writing it at <paramref name="offset"/>; waits only for that buffer's previous write.</summary>
        public async ValueTask WriteAsync(ReadOnlyMemory<byte> chunk, long offset)
        {
            var slot = _next;
            _next ^= 1;
            if (_pending[slot] is { } previous)
            {
                _pending[slot] = null;
                await previous.ConfigureAwait(false);
            }
            var buffer = _buffers[slot];
            CopyIn(chunk.Span, buffer);
            var length = chunk.Length;
            _pending[slot] = Task.Run(() => Write(buffer, length, offset));
        }

        /// <summary>Waits for every write in flight; the first failure is thrown.</summary>
        public async Task DrainAsync()
        {
            Exception? failure = null;
            for (var i = 0; i < _pending.Length; i++)
            {
                if (_pending[i] is { } pending)
                {
                    _pending[i] = null;
                    try
                    {
                        await pending.ConfigureAwait(false);
                    }
                    catch (Exception e)
                    {
                        failure ??= e;
                    }
                }
            }
            if (failure is not null)
            {
                throw failure;
            }
        }

        public bool Idle => _pending[0] is null && _pending[1] is null;

        private static unsafe void CopyIn(ReadOnlySpan<byte> chunk, nint buffer) => chunk.CopyTo(new Span<byte>((void*)buffer, chunk.Length));

        private unsafe void Write(nint buffer, int length, long offset)
        {
            var done = 0;
            while (done < length)
            {
                var written = Native.pwrite(fd, (byte*)buffer + done, length - done, offset + done);
                if (written > 0)
                {
                    done += (int)written;
                    if (done < length && done % DirectAlignment != 0)
                    {
                        break; // a short, unaligned write: the rest goes through the page cache
                    }
                    continue;
                }
                var errno = Marshal.GetLastPInvokeError();
                if (written < 0 && errno == Native.EINTR)
                {
                    continue;
                }
                if (written < 0 && errno != Native.EINVAL)
                {
                    throw new IOException($"direct write failed: errno {errno}");
                }
                // EINVAL: the file system does not take this direct write after all; stop trying for the driver.
                driver._directWrites = false;
                break;
            }
            Interlocked.Add(ref driver._directBytes, done);
            if (done < length)
            {
                RandomAccess.Write(handle, new ReadOnlySpan<byte>((byte*)buffer + done, length - done), offset + done);
            }
        }

        /// <summary>Closes the descriptor and returns the buffers; call after <see cref="DrainAsync"/>.</summary>
        public void Dispose()
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            _ = Native.close(fd);
            foreach (var buffer in _buffers)
            {
                driver._directBuffers.Return(buffer);
            }
        }
    }
}
