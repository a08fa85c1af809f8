using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;

namespace Berth.Api.Hosting;

/// <summary>
/// Hands Kestrel's socket transport blocks of 64 KiB to receive into and send from, instead of its own 4 KiB.
/// The transport asks the operating system for at most one block per receive call, so with 4 KiB blocks a pushed
/// layer arrived in 4 KiB reads, each waking a thread-pool worker: <c>strace -c</c> of the server during one
/// skopeo push of a 4 x 64 MiB image counted 132,000 recvfrom and 67,000 futex calls; with 64 KiB blocks 9,300
/// and 22,000 (side by side without strace: the registry's CPU 10-14 % lower over the benchmark's push phases,
/// 64 MiB pushes +6 to +21 % depending on the run and the number of streams; docs/performance.md). The server registers this factory as the <see cref="IMemoryPoolFactory{T}"/> that
/// the socket transport takes its pool from.
/// </summary>
public sealed class LargeBlockMemoryPoolFactory : IMemoryPoolFactory<byte>
{
    /// <summary>The size of every block: loopback and most networks deliver at most 64 KiB per segment.</summary>
    public const int BlockSize = 64 * 1024;

    /// <summary>Free blocks kept per pool (16 MiB); blocks returned beyond it are left to the garbage collector.</summary>
    public const int MaxFreeBlocks = 256;

    /// <summary>How often each pool releases the free blocks that no rental needed since the last time.</summary>
    public static readonly TimeSpan EvictionInterval = TimeSpan.FromSeconds(10);

    private readonly ConcurrentBag<LargeBlockMemoryPool> _pools = [];

    public MemoryPool<byte> Create(MemoryPoolOptions? options = null)
    {
        var pool = new LargeBlockMemoryPool(BlockSize, MaxFreeBlocks, EvictionInterval);
        _pools.Add(pool);
        return pool;
    }

    /// <summary>Blocks allocated so far by the pools this factory created.</summary>
    public long BlocksAllocated => _pools.Sum(p => p.BlocksAllocated);
}

/// <summary>
/// A pool of pinned blocks of one size. At most <c>maxFree</c> free blocks are kept, and every
/// <c>evictionInterval</c> the pool lets go of as many free blocks as stayed unused over the whole interval (the
/// fewest free blocks it had at any moment since the last eviction), so that an idle server gives back what a
/// burst of connections needed.
/// </summary>
public sealed class LargeBlockMemoryPool : MemoryPool<byte>
{
    private readonly ConcurrentQueue<Block> _free = new();
    private readonly int _blockSize;
    private readonly int _maxFree;
    private readonly Timer? _evictionTimer;
    private int _freeCount;
    private int _lowWater;
    private long _allocated;
    private volatile bool _disposed;

    public LargeBlockMemoryPool(int blockSize, int maxFree, TimeSpan evictionInterval)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockSize);
        _blockSize = blockSize;
        _maxFree = maxFree;
        if (evictionInterval > TimeSpan.Zero)
        {
            _evictionTimer = new Timer(static state => ((LargeBlockMemoryPool)state!).Evict(), this, evictionInterval, evictionInterval);
        }
    }

    public override int MaxBufferSize => _blockSize;

    /// <summary>Blocks allocated since the pool was created (free blocks reused are not counted).</summary>
    public long BlocksAllocated => Interlocked.Read(ref _allocated);

    /// <summary>Free blocks the pool holds now.</summary>
    public int FreeBlocks => Volatile.Read(ref _freeCount);

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, _blockSize);
        if (_free.TryDequeue(out var block))
        {
            var free = Interlocked.Decrement(ref _freeCount);
            if (free < Volatile.Read(ref _lowWater))
            {
                Volatile.Write(ref _lowWater, free);
            }
        }
        else
        {
            Interlocked.Increment(ref _allocated);
            block = new Block(this, GC.AllocateUninitializedArray<byte>(_blockSize, pinned: true));
        }
        block.Rented = 1;
        return block;
    }

    /// <summary>Releases the free blocks that no rental needed since the last eviction.</summary>
    internal void Evict()
    {
        // Counts read without a lock: a rental or return racing with this only makes the eviction a block more or
        // less generous, never takes a rented block.
        var unused = Math.Min(Volatile.Read(ref _lowWater), Volatile.Read(ref _freeCount));
        for (var i = 0; i < unused && _free.TryDequeue(out _); i++)
        {
            Interlocked.Decrement(ref _freeCount);
        }
        Volatile.Write(ref _lowWater, Volatile.Read(ref _freeCount));
    }

    private void Return(Block block)
    {
        if (_disposed)
        {
            return;
        }
        if (Interlocked.Increment(ref _freeCount) <= _maxFree)
        {
            _free.Enqueue(block);
        }
        else
        {
            Interlocked.Decrement(ref _freeCount);
        }
    }

    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        _evictionTimer?.Dispose();
        _free.Clear();
        Volatile.Write(ref _freeCount, 0);
    }

    private sealed class Block(LargeBlockMemoryPool pool, byte[] array) : IMemoryOwner<byte>
    {
        internal int Rented;

        public Memory<byte> Memory { get; } = array;

        // A second Dispose of one rental must not put the block into the queue twice: two renters would then
        // share its memory.
        public void Dispose()
        {
            if (Interlocked.Exchange(ref Rented, 0) == 1)
            {
                pool.Return(block: this);
            }
        }
    }
}
