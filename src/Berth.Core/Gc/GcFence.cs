using Berth.Storage;
using Berth.Storage.Layout;

namespace Berth.Core.Gc;

/// <summary>
/// The registry's side of <see cref="GcProtocol"/>: announce, then check for tombstones, before a
/// manifest PUT, an upload commit or a mount relies on existing content. One per storage, shared by
/// the services of an instance.
/// </summary>
public sealed class GcFence(IStorageDriver driver, TimeProvider? timeProvider = null, GcTimings? timings = null)
{
    private readonly GcTimings _timings = timings ?? GcProtocol.Timings;
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;
    private readonly Lock _cacheLock = new();
    private readonly Dictionary<string, (long Timestamp, HashSet<string> Hexes)> _cache = new(StringComparer.Ordinal);

    /// <summary>
    /// Journals the digests a manifest PUT relies on (its own first), then refuses with
    /// MANIFEST_BLOB_UNKNOWN if a collection has tombstoned any of them. Call before checking anything.
    /// </summary>
    public async Task<GcAdmission> AdmitManifestAsync(string repository, IReadOnlyList<Digest> digests, CancellationToken cancellationToken = default)
    {
        var started = _time.GetTimestamp();
        await GcJournal.AppendAsync(driver, _time.GetUtcNow(), new GcJournalEntry(repository, GcJournalEntry.ManifestKind, digests), cancellationToken).ConfigureAwait(false);
        var tombstoned = new List<string>();
        foreach (var algorithm in digests.Select(d => d.Algorithm).Distinct())
        {
            var hexes = await GcTombstones.ListAsync(driver, algorithm, cancellationToken).ConfigureAwait(false);
            if (hexes.Count > 0)
            {
                tombstoned.AddRange(digests.Where(d => d.Algorithm == algorithm && hexes.Contains(d.Hex)).Select(d => d.ToString()).Distinct());
            }
        }
        if (tombstoned.Count > 0)
        {
            throw new RegistryException(RegistryErrorCode.ManifestBlobUnknown, "blob unknown to registry",
                new { repository, digests = tombstoned, reason = "blob is being garbage-collected, upload it again" });
        }
        return new GcAdmission(_time, started, _timings.MaxWriteDuration);
    }

    /// <summary>
    /// Journals a blob an upload is about to publish, then waits while a collection holds it
    /// tombstoned; 429 after <see cref="GcTimings.UploadWait"/>. Call before looking at the blob's data.
    /// </summary>
    public async Task AdmitUploadAsync(string repository, Digest digest, CancellationToken cancellationToken = default)
    {
        var started = _time.GetTimestamp();
        await GcJournal.AppendAsync(driver, _time.GetUtcNow(), new GcJournalEntry(repository, GcJournalEntry.UploadKind, [digest]), cancellationToken).ConfigureAwait(false);
        while (await GcTombstones.ExistsAsync(driver, digest, cancellationToken).ConfigureAwait(false))
        {
            if (_time.GetElapsedTime(started) > _timings.UploadWait)
            {
                throw new RegistryException(RegistryErrorCode.TooManyRequests, "blob is being garbage-collected; retry the upload",
                    new { repository, digest = digest.ToString() });
            }
            await Task.Delay(PollInterval, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Journals a blob a mount is about to link; false when a collection holds it tombstoned (the client should upload instead).</summary>
    public async Task<bool> TryAdmitMountAsync(string repository, Digest digest, CancellationToken cancellationToken = default)
    {
        await GcJournal.AppendAsync(driver, _time.GetUtcNow(), new GcJournalEntry(repository, GcJournalEntry.MountKind, [digest]), cancellationToken).ConfigureAwait(false);
        return !await GcTombstones.ExistsAsync(driver, digest, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Whether a collection holds the digest tombstoned, from a listing at most
    /// <see cref="GcTimings.TombstoneCacheTtl"/> old. For blob HEAD/GET, where it only makes clients upload
    /// again; a storage failure here answers false.
    /// </summary>
    public async ValueTask<bool> IsTombstonedAsync(Digest digest, CancellationToken cancellationToken = default)
    {
        HashSet<string>? hexes = null;
        lock (_cacheLock)
        {
            if (_cache.TryGetValue(digest.Algorithm, out var cached) && _time.GetElapsedTime(cached.Timestamp) < _timings.TombstoneCacheTtl)
            {
                hexes = cached.Hexes;
            }
        }
        if (hexes is null)
        {
            var now = _time.GetTimestamp();
            try
            {
                hexes = await GcTombstones.ListAsync(driver, digest.Algorithm, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is StorageException or IOException)
            {
                hexes = [];
            }
            lock (_cacheLock)
            {
                _cache[digest.Algorithm] = (now, hexes);
            }
        }
        return hexes.Contains(digest.Hex);
    }
}

/// <summary>A manifest PUT let through by <see cref="GcFence.AdmitManifestAsync"/>; it must finish in time.</summary>
public sealed class GcAdmission(TimeProvider time, long started, TimeSpan limit)
{
    /// <summary>Call right before each link write that makes the manifest reachable: refuses (429) a PUT that
    /// has run longer than <see cref="GcTimings.MaxWriteDuration"/> since its journal write.</summary>
    public void ThrowIfExpired()
    {
        var elapsed = time.GetElapsedTime(started);
        if (elapsed > limit)
        {
            throw new RegistryException(RegistryErrorCode.TooManyRequests, "manifest write took too long to be safe from garbage collection; push it again",
                new { elapsedSeconds = (int)elapsed.TotalSeconds, limitSeconds = (int)limit.TotalSeconds });
        }
    }
}
