using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Berth.Core.Blobs;
using Berth.Storage;
using Berth.Storage.Layout;

namespace Berth.Core.Uploads;

/// <summary>
/// Upload sessions. A session's bytes live in storage (<c>_uploads/&lt;id&gt;/data</c>), so any
/// instance sharing the storage can continue or finish it. The sha256 state of a session is kept in
/// memory by the instance that received its chunks; when another instance finishes the upload (or
/// the client asks for another algorithm) the data is hashed again from storage at commit.
/// Commit order: data moved to <c>blobs/</c>, then the repository's layer link, then the session removed.
/// A crash in between leaves an unlinked blob (for GC) or a stale session, never a link to nothing.
/// </summary>
public sealed class UploadService(IStorageDriver driver, BlobService blobs, TimeProvider? timeProvider = null)
{
    /// <summary>Bytes gathered from the request body before one write to storage: large enough that a 64 MiB
    /// push is 64 writes, not thousands of socket-sized ones.</summary>
    private const int BufferSize = 1024 * 1024;

    /// <summary>The copy buffers: a bounded pool of its own, because the shared pool keeps a buffer per thread
    /// (with 32+ threads blocked in fsync that alone held tens of MiB of 1 MiB buffers: peak RSS).</summary>
    private static readonly ArrayPool<byte> Buffers = ArrayPool<byte>.Create(BufferSize, maxArraysPerBucket: 16);
    private readonly ConcurrentDictionary<string, HashState> _states = new(StringComparer.Ordinal);
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;
    private long _open;

    /// <summary>Sessions this instance holds hash state for.</summary>
    public long OpenSessions => Interlocked.Read(ref _open);

    private sealed class HashState(IncrementalHash hash)
    {
        public readonly SemaphoreSlim Gate = new(1, 1);
        public readonly IncrementalHash Hash = hash;

        /// <summary>Bytes hashed so far; -1 once the state no longer matches storage.</summary>
        public long Offset;
        public long LastUsedTicks;
    }

    public async Task<string> StartAsync(string repository, CancellationToken cancellationToken = default)
    {
        var id = Guid.NewGuid().ToString("D");
        var startedAt = _time.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
        await driver.PutContentAsync(StoragePaths.UploadStartedAt(repository, id), Encoding.ASCII.GetBytes(startedAt), Durability.Volatile, cancellationToken).ConfigureAwait(false);
        return id;
    }

    /// <summary>Bytes received so far.</summary>
    public async Task<long> GetSizeAsync(string repository, string id, CancellationToken cancellationToken = default)
    {
        await EnsureExistsAsync(repository, id, cancellationToken).ConfigureAwait(false);
        try
        {
            await using var writer = await driver.CreateWriterAsync(StoragePaths.UploadData(repository, id), append: true, cancellationToken).ConfigureAwait(false);
            return writer.Size;
        }
        catch (PathNotFoundException)
        {
            return 0;
        }
    }

    /// <summary>Appends a chunk. With <paramref name="start"/>, the chunk must begin where the upload ends.</summary>
    public async Task<long> AppendAsync(string repository, string id, Stream body, long? start, CancellationToken cancellationToken = default)
    {
        await EnsureExistsAsync(repository, id, cancellationToken).ConfigureAwait(false);
        var state = GetState(repository, id);
        await state.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var writer = await OpenSessionWriterAsync(StoragePaths.UploadData(repository, id), cancellationToken).ConfigureAwait(false);
            if (start is { } s && s != writer.Size)
            {
                throw new RegistryException(RegistryErrorCode.RangeInvalid, "chunk does not start where the upload ends",
                    new { expectedStart = writer.Size, start = s }) { CurrentSize = writer.Size };
            }
            await CopyAsync(body, writer, state, cancellationToken).ConfigureAwait(false);
            return writer.Size;
        }
        finally
        {
            state.Gate.Release();
        }
    }

    /// <summary>Finishes a session: appends the last chunk, checks the digest, and publishes the blob.</summary>
    public async Task<BlobInfo> CompleteAsync(string repository, string id, Digest expected, Stream? body, CancellationToken cancellationToken = default)
    {
        await EnsureExistsAsync(repository, id, cancellationToken).ConfigureAwait(false);
        var state = GetState(repository, id);
        await state.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var dataPath = StoragePaths.UploadData(repository, id);
            long size;
            await using (var writer = await OpenSessionWriterAsync(dataPath, cancellationToken).ConfigureAwait(false))
            {
                if (body is not null)
                {
                    await CopyAsync(body, writer, state, cancellationToken).ConfigureAwait(false);
                }
                size = writer.Size;
                await writer.CommitAsync(Durability.Volatile, cancellationToken).ConfigureAwait(false);
            }
            Digest actual;
            if (state.Offset == size && expected.Algorithm == Digest.Sha256)
            {
                actual = Digest.FromHash(Digest.Sha256, state.Hash.GetHashAndReset());
            }
            else
            {
                actual = await HashStoredAsync(dataPath, expected, cancellationToken).ConfigureAwait(false);
            }
            return await PublishAsync(repository, id, expected, actual, size, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            state.Gate.Release();
            Forget(repository, id);
        }
    }

    /// <summary>A whole blob in one request (POST ?digest= or a single PUT).</summary>
    public async Task<BlobInfo> UploadAsync(string repository, Digest expected, Stream body, CancellationToken cancellationToken = default)
    {
        var id = Guid.NewGuid().ToString("D");
        using var hash = expected.CreateHash();
        var state = new HashState(hash);
        long size;
        var dataPath = StoragePaths.UploadData(repository, id);
        await using (var writer = await driver.CreateWriterAsync(dataPath, append: false, cancellationToken).ConfigureAwait(false))
        {
            try
            {
                await CopyAsync(body, writer, state, cancellationToken).ConfigureAwait(false);
                size = writer.Size;
                await writer.CommitAsync(Durability.Volatile, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await writer.CancelAsync(CancellationToken.None).ConfigureAwait(false);
                await TryDeleteAsync(StoragePaths.UploadDirectory(repository, id)).ConfigureAwait(false);
                throw;
            }
        }
        var actual = Digest.FromHash(expected.Algorithm, hash.GetHashAndReset());
        return await PublishAsync(repository, id, expected, actual, size, cancellationToken).ConfigureAwait(false);
    }

    public async Task CancelAsync(string repository, string id, CancellationToken cancellationToken = default)
    {
        ValidateId(repository, id);
        Forget(repository, id);
        try
        {
            await driver.DeleteAsync(StoragePaths.UploadDirectory(repository, id), cancellationToken).ConfigureAwait(false);
        }
        catch (PathNotFoundException)
        {
            throw Unknown(repository, id);
        }
    }

    private async Task<BlobInfo> PublishAsync(string repository, string id, Digest expected, Digest actual, long size, CancellationToken cancellationToken)
    {
        var dataPath = StoragePaths.UploadData(repository, id);
        if (actual != expected)
        {
            await TryDeleteAsync(StoragePaths.UploadDirectory(repository, id)).ConfigureAwait(false);
            throw new RegistryException(RegistryErrorCode.DigestInvalid, "provided digest did not match uploaded content",
                new { expected = expected.ToString(), actual = actual.ToString(), size });
        }
        try
        {
            await blobs.Fence.AdmitUploadAsync(repository, expected, cancellationToken).ConfigureAwait(false);
        }
        catch (RegistryException)
        {
            await TryDeleteAsync(StoragePaths.UploadDirectory(repository, id)).ConfigureAwait(false);
            throw;
        }
        if (await blobs.StatDataAsync(expected, cancellationToken).ConfigureAwait(false) is null)
        {
            await driver.MoveAsync(dataPath, StoragePaths.BlobData(expected), cancellationToken).ConfigureAwait(false);
        }
        await blobs.LinkAsync(repository, expected, cancellationToken).ConfigureAwait(false);
        await TryDeleteAsync(StoragePaths.UploadDirectory(repository, id)).ConfigureAwait(false);
        return new BlobInfo(expected, size);
    }

    /// <summary>Continues the session's uncommitted bytes, or starts them when no chunk has arrived yet.
    /// Callers hold the session's gate, so no other writer of this instance races the fallback.</summary>
    private async Task<IStorageWriter> OpenSessionWriterAsync(string dataPath, CancellationToken cancellationToken)
    {
        try
        {
            return await driver.CreateWriterAsync(dataPath, append: true, cancellationToken).ConfigureAwait(false);
        }
        catch (PathNotFoundException)
        {
            return await driver.CreateWriterAsync(dataPath, append: false, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task CopyAsync(Stream body, IStorageWriter writer, HashState state, CancellationToken cancellationToken)
    {
        var hashing = state.Offset == writer.Size;
        state.Offset = -1;
        var buffer = Buffers.Rent(BufferSize);
        try
        {
            while (true)
            {
                var filled = 0;
                int read;
                while (filled < BufferSize
                    && (read = await body.ReadAsync(buffer.AsMemory(filled, BufferSize - filled), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    filled += read;
                }
                if (filled == 0)
                {
                    break;
                }
                await writer.WriteAsync(buffer.AsMemory(0, filled), cancellationToken).ConfigureAwait(false);
                if (hashing)
                {
                    state.Hash.AppendData(buffer, 0, filled);
                }
            }
            if (hashing)
            {
                state.Offset = writer.Size;
            }
        }
        finally
        {
            Buffers.Return(buffer);
        }
    }

    private async Task<Digest> HashStoredAsync(string path, Digest expected, CancellationToken cancellationToken)
    {
        using var hash = expected.CreateHash();
        await using var stream = await driver.OpenReadAsync(path, 0, cancellationToken).ConfigureAwait(false);
        var buffer = Buffers.Rent(BufferSize);
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer.AsMemory(0, BufferSize), cancellationToken).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(buffer, 0, read);
            }
        }
        finally
        {
            Buffers.Return(buffer);
        }
        return Digest.FromHash(expected.Algorithm, hash.GetHashAndReset());
    }

    private HashState GetState(string repository, string id)
    {
        var state = _states.GetOrAdd(repository + "\n" + id, _ =>
        {
            Interlocked.Increment(ref _open);
            return new HashState(IncrementalHash.CreateHash(HashAlgorithmName.SHA256));
        });
        state.LastUsedTicks = _time.GetTimestamp();
        if (_states.Count > 4096)
        {
            Prune();
        }
        return state;
    }

    private void Prune()
    {
        var now = _time.GetTimestamp();
        foreach (var (key, value) in _states)
        {
            if (_time.GetElapsedTime(value.LastUsedTicks, now) > TimeSpan.FromHours(1) && _states.TryRemove(key, out _))
            {
                Interlocked.Decrement(ref _open);
            }
        }
    }

    private void Forget(string repository, string id)
    {
        if (_states.TryRemove(repository + "\n" + id, out var state))
        {
            Interlocked.Decrement(ref _open);
            state.Hash.Dispose();
        }
    }

    private async Task EnsureExistsAsync(string repository, string id, CancellationToken cancellationToken)
    {
        ValidateId(repository, id);
        try
        {
            await driver.StatAsync(StoragePaths.UploadStartedAt(repository, id), cancellationToken).ConfigureAwait(false);
        }
        catch (PathNotFoundException)
        {
            throw Unknown(repository, id);
        }
    }

    private static void ValidateId(string repository, string id)
    {
        if (!Guid.TryParseExact(id, "D", out _) || id != id.ToLowerInvariant())
        {
            throw Unknown(repository, id);
        }
    }

    private async Task TryDeleteAsync(string path)
    {
        try
        {
            await driver.DeleteAsync(path, Durability.Volatile, CancellationToken.None).ConfigureAwait(false);
        }
        catch (PathNotFoundException)
        {
        }
    }

    private static RegistryException Unknown(string repository, string id) =>
        new(RegistryErrorCode.BlobUploadUnknown, "blob upload unknown to registry", new { repository, uuid = Naming.RepositoryName.Clip(id) });
}
