using System.Collections.Concurrent;
using Berth.Core.Gc;
using Berth.Storage;
using Berth.Storage.Layout;

namespace Berth.Maintenance.GarbageCollection;

/// <summary>
/// Carries out a plan under <see cref="GcProtocol"/>: tombstones, journal, then for each digest its
/// links before its data (a crash leaves unreferenced data for the next run, never a link to nothing),
/// and its tombstone last.
/// </summary>
internal sealed class GcSweeper(IStorageDriver driver, GcOptions options, GcRunLock runLock, ManifestReader manifests, Findings findings, IProgress<GcProgress>? progress)
{
    private readonly ConcurrentDictionary<string, GcLink> _links = new(StringComparer.Ordinal);
    private readonly ConcurrentBag<GcBlob> _blobs = [];
    private readonly ConcurrentBag<GcManifest> _manifests = [];
    private readonly ConcurrentBag<GcUpload> _uploads = [];
    private long _done;
    private long _total;

    public async Task<GcOutcome> SweepAsync(GcPlan plan, IReadOnlyDictionary<UploadRecord, DateTimeOffset?> uploadStarts,
        Func<CancellationToken, Task<bool>> rereadJournal, CancellationToken cancellationToken)
    {
        try
        {
            await SweepCoreAsync(plan, uploadStarts, rereadJournal, cancellationToken).ConfigureAwait(false);
        }
        catch (GcAbortedException e)
        {
            findings.Add("gc-aborted", GcSeverity.Error, null, null, null,
                e.Message + "; what is listed was deleted, the rest kept (its tombstones are removed by the next collection)");
        }
        return new GcOutcome(
            [.. _blobs.OrderBy(b => b.Digest.ToString(), StringComparer.Ordinal)],
            [.. _manifests.OrderBy(m => m.Repository, StringComparer.Ordinal).ThenBy(m => m.Digest.ToString(), StringComparer.Ordinal)],
            [.. _links.Values.OrderBy(l => l.Path, StringComparer.Ordinal)],
            [.. _uploads.OrderBy(u => u.Repository, StringComparer.Ordinal).ThenBy(u => u.Id, StringComparer.Ordinal)]);
    }

    private async Task SweepCoreAsync(GcPlan plan, IReadOnlyDictionary<UploadRecord, DateTimeOffset?> uploadStarts,
        Func<CancellationToken, Task<bool>> rereadJournal, CancellationToken cancellationToken)
    {
        // 1. Tombstone every digest about to go. A digest whose tombstone cannot be written is kept.
        var tombstoned = plan.TombstoneSet;
        var failed = new ConcurrentBag<Digest>();
        _total = tombstoned.Count;
        await ForEachAsync(tombstoned, "tombstoning", async (digest, ct) =>
        {
            try
            {
                await GcTombstones.WriteAsync(driver, digest, runLock.Id, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is StorageException or IOException or UnauthorizedAccessException)
            {
                failed.Add(digest);
                findings.Add("delete-failed", GcSeverity.Error, null, digest.ToString(), StoragePaths.GcTombstone(digest), "writing the tombstone failed, kept: " + e.Message);
            }
        }, cancellationToken).ConfigureAwait(false);
        await plan.KeepAsync(failed, manifests, cancellationToken).ConfigureAwait(false);

        // 2. Only now read the journal again: a write that did not see our tombstone is in it.
        if (!await rereadJournal(cancellationToken).ConfigureAwait(false))
        {
            plan.KeepAll();
        }
        var stillPlanned = plan.TombstoneSet;
        await ForEachAsync(tombstoned.Where(d => !stillPlanned.Contains(d)).ToList(), "releasing kept", (digest, ct) =>
            new ValueTask(GcTombstones.RemoveAsync(driver, digest, ct)), cancellationToken).ConfigureAwait(false);

        // 3. Untagged revisions: their revision, tag index and referrer links. A revision whose links
        //    cannot all be removed is kept, with what it references.
        var kept = new ConcurrentBag<Digest>();
        await ForEachAsync(plan.RevisionDeletes.ToList(), "removing manifests", async (entry, ct) =>
        {
            var (digest, repositories) = entry;
            runLock.EnsureAlive();
            if (await DeleteLinksAsync([.. plan.RevisionLinks(digest)], ct).ConfigureAwait(false))
            {
                foreach (var repository in repositories)
                {
                    _manifests.Add(new GcManifest(repository, digest));
                }
            }
            else
            {
                kept.Add(digest);
            }
        }, cancellationToken).ConfigureAwait(false);
        await plan.KeepAsync(kept, manifests, cancellationToken).ConfigureAwait(false);
        await ForEachAsync(tombstoned.Where(d => stillPlanned.Contains(d) && !plan.BlobDeletes.ContainsKey(d)).ToList(), "releasing kept", (digest, ct) =>
            new ValueTask(GcTombstones.RemoveAsync(driver, digest, ct)), cancellationToken).ConfigureAwait(false);

        // 4. Blob data: links to it first, then the data, then the tombstone.
        await ForEachAsync(plan.BlobDeletes.Values.ToList(), "deleting blobs", async (blob, ct) =>
        {
            runLock.EnsureAlive();
            if (await DeleteLinksAsync([.. plan.BlobLinks(blob.Digest)], ct).ConfigureAwait(false)
                && await TryDeleteAsync(StoragePaths.BlobDirectory(blob.Digest), blob.Digest.ToString(), ct).ConfigureAwait(false))
            {
                _blobs.Add(new GcBlob(blob.Digest, blob.Size));
            }
            await GcTombstones.RemoveAsync(driver, blob.Digest, ct).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);

        // 5. Stale upload sessions (no protocol needed: nothing relies on an abandoned upload).
        await ForEachAsync(plan.UploadDeletes, "deleting uploads", async (upload, ct) =>
        {
            if (await TryDeleteAsync(StoragePaths.UploadDirectory(upload.Repository, upload.Id), upload.Id, ct).ConfigureAwait(false))
            {
                _uploads.Add(GcOutcome.ToUpload(upload, uploadStarts));
            }
        }, cancellationToken).ConfigureAwait(false);
    }

    private async Task<bool> DeleteLinksAsync(List<LinkRecord> links, CancellationToken cancellationToken)
    {
        var ok = true;
        foreach (var link in links)
        {
            if (_links.ContainsKey(link.Path))
            {
                continue;
            }
            // The link's own directory (…/<alg>/<hex>), as Distribution removes it.
            if (await TryDeleteAsync(StoragePath.Parent(link.Path), link.Digest.ToString(), cancellationToken).ConfigureAwait(false))
            {
                _links[link.Path] = GcOutcome.ToLink(link);
            }
            else
            {
                ok = false;
            }
        }
        return ok;
    }

    private async Task<bool> TryDeleteAsync(string path, string reference, CancellationToken cancellationToken)
    {
        try
        {
            await driver.DeleteAsync(path, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (PathNotFoundException)
        {
            return true;
        }
        catch (Exception e) when (e is StorageException or IOException or UnauthorizedAccessException)
        {
            findings.Add("delete-failed", GcSeverity.Error, null, reference, path, "deleting failed, kept: " + e.Message);
            return false;
        }
    }

    private async Task ForEachAsync<T>(IReadOnlyCollection<T> items, string phase, Func<T, CancellationToken, ValueTask> body, CancellationToken cancellationToken)
    {
        _done = 0;
        _total = items.Count;
        progress?.Report(new GcProgress(phase, 0, _total));
        await Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Concurrency), CancellationToken = cancellationToken }, async (item, ct) =>
        {
            await body(item, ct).ConfigureAwait(false);
            var n = Interlocked.Increment(ref _done);
            if (n % 64 == 0 || n == _total)
            {
                progress?.Report(new GcProgress(phase, n, _total));
            }
        }).ConfigureAwait(false);
    }
}
