using System.Collections.Concurrent;

namespace Berth.Storage.S3;

/// <summary>
/// Buffers of exactly one part (<see cref="S3DriverOptions.ChunkSize"/>) for the writers of one driver. The shared
/// ArrayPool would hand out the next power of two (16 MiB for a 10 MiB part) and keep many of them per core; this
/// keeps at most <see cref="MaxRetained"/> idle buffers and lets the GC have the rest.
/// </summary>
internal sealed class PartBufferPool(int size)
{
    /// <summary>Idle buffers kept for reuse (about 80 MiB with the default 10 MiB parts).</summary>
    public const int MaxRetained = 8;

    private readonly ConcurrentBag<byte[]> _idle = [];

    public int Size { get; } = size;

    public byte[] Rent() => _idle.TryTake(out var buffer) ? buffer : GC.AllocateUninitializedArray<byte>(Size);

    public void Return(byte[] buffer)
    {
        if (buffer.Length == Size && _idle.Count < MaxRetained)
        {
            _idle.Add(buffer);
        }
    }
}
