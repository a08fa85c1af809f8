using System.Runtime.InteropServices;
using Berth.Api.Hosting;

namespace Berth.Api.Tests;

/// <summary>The pool of 64 KiB blocks that Kestrel's socket transport receives into (see KestrelTests).</summary>
public sealed class LargeBlockMemoryPoolTests
{
    private static byte[] ArrayOf(System.Buffers.IMemoryOwner<byte> owner)
    {
        Assert.True(MemoryMarshal.TryGetArray<byte>(owner.Memory, out var segment));
        return segment.Array!;
    }

    [Fact]
    public void ARentedBlock_HasTheFullSize_AndIsReusedAfterItsReturn()
    {
        using var pool = new LargeBlockMemoryPool(64 * 1024, 16, TimeSpan.Zero);
        Assert.Equal(64 * 1024, pool.MaxBufferSize);
        var first = pool.Rent(4096);
        Assert.Equal(64 * 1024, first.Memory.Length);
        var array = ArrayOf(first);
        first.Dispose();
        Assert.Equal(1, pool.FreeBlocks);

        var second = pool.Rent();
        Assert.Same(array, ArrayOf(second));
        Assert.Equal(1, pool.BlocksAllocated);
        Assert.Equal(0, pool.FreeBlocks);
    }

    [Fact]
    public void ARentalDisposedTwice_IsReturnedOnce()
    {
        using var pool = new LargeBlockMemoryPool(4096, 16, TimeSpan.Zero);
        var owner = pool.Rent();
        owner.Dispose();
        owner.Dispose();
        Assert.Equal(1, pool.FreeBlocks);

        var a = pool.Rent();
        var b = pool.Rent();
        Assert.NotSame(ArrayOf(a), ArrayOf(b));
        Assert.Equal(2, pool.BlocksAllocated);
    }

    [Fact]
    public void ARequestLargerThanABlock_IsRefused()
    {
        using var pool = new LargeBlockMemoryPool(4096, 16, TimeSpan.Zero);
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(4097));
    }

    [Fact]
    public void FreeBlocksBeyondTheCap_AreNotKept()
    {
        using var pool = new LargeBlockMemoryPool(4096, 2, TimeSpan.Zero);
        var rented = Enumerable.Range(0, 5).Select(_ => pool.Rent()).ToList();
        rented.ForEach(r => r.Dispose());
        Assert.Equal(2, pool.FreeBlocks);
    }

    [Fact]
    public void BlocksReturnedAfterThePoolIsDisposed_AreNotKept()
    {
        var pool = new LargeBlockMemoryPool(4096, 16, TimeSpan.Zero);
        var owner = pool.Rent();
        pool.Dispose();
        owner.Dispose();
        Assert.Equal(0, pool.FreeBlocks);
    }

    [Fact]
    public void Eviction_ReleasesTheBlocksNoRentalNeededOverAWholeInterval()
    {
        using var pool = new LargeBlockMemoryPool(4096, 16, TimeSpan.Zero);
        var rented = Enumerable.Range(0, 4).Select(_ => pool.Rent()).ToList();
        rented.ForEach(r => r.Dispose());
        // All four were in use during this interval: none is released.
        pool.Evict();
        Assert.Equal(4, pool.FreeBlocks);

        // One rental in the next interval: the three that stayed free go.
        pool.Rent().Dispose();
        pool.Evict();
        Assert.Equal(1, pool.FreeBlocks);

        // An idle interval releases the last.
        pool.Evict();
        Assert.Equal(0, pool.FreeBlocks);
        Assert.Equal(4, pool.BlocksAllocated);
    }

    [Fact]
    public async Task TheTimer_Evicts()
    {
        using var pool = new LargeBlockMemoryPool(4096, 16, TimeSpan.FromMilliseconds(20));
        pool.Rent().Dispose();
        for (var i = 0; i < 250 && pool.FreeBlocks > 0; i++)
        {
            await Task.Delay(20);
        }
        Assert.Equal(0, pool.FreeBlocks);
    }
}
