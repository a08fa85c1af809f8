using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Berth.Core.Gc;
using Berth.Storage;
using Berth.Storage.Layout;

namespace Berth.Maintenance.GarbageCollection;

/// <summary>
/// Mark and sweep over Distribution-layout storage, through <see cref="IStorageDriver"/> only. Safe to
/// run while Berth instances push into the same storage (see <see cref="GcProtocol"/>); never aborts on
/// broken links or manifests (they become findings, and whatever they might reference is kept).
/// </summary>
public sealed class GarbageCollector(IStorageDriver driver, GcOptions options, TimeProvider? timeProvider = null)
{
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;

    /// <summary>Runs a collection. Throws <see cref="GcAbortedException"/> when it cannot run at all.</summary>
    public async Task<GcReport> RunAsync(IProgress<GcProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var clock = _time.GetTimestamp();
        await EnsureStorageAsync(cancellationToken).ConfigureAwait(false);
        var findings = new Findings();
        GcRunLock? runLock = null;
        if (!options.DryRun)
        {
            runLock = await GcRunLock.AcquireAsync(driver, _time, options.Timings, cancellationToken).ConfigureAwait(false);
        }
        try
        {
            if (runLock is not null && await GcTombstones.RemoveAllAsync(driver, cancellationToken).ConfigureAwait(false))
            {
                findings.Add("gc-interrupted", GcSeverity.Warning, null, null, StoragePaths.GcTombstonesRoot,
                    "an earlier collection stopped half-way; its tombstones were removed (pushes of those blobs were refused meanwhile)");
            }
            var startedAt = _time.GetUtcNow();
            StorageInventory inventory;
            try
            {
                inventory = await StorageInventory.ScanAsync(driver, options.Concurrency, options.ListDirectories, progress, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is StorageException or IOException or UnauthorizedAccessException)
            {
                throw new GcAbortedException("listing the storage failed, nothing was deleted: " + e.Message, e);
            }
            var manifests = new ManifestReader(driver);
            var mark = await new GcMarker(driver, options, inventory, manifests, findings, startedAt, progress).MarkAsync(cancellationToken).ConfigureAwait(false);
            var uploadStarts = await ReadUploadStartsAsync(inventory, startedAt, cancellationToken).ConfigureAwait(false);
            var plan = GcPlan.Build(inventory, mark, options, startedAt, uploadStarts);

            // Writes announced since the journal window began keep what they name (a dry run reports what a real run would do now).
            if (!await ApplyJournalAsync(plan, manifests, startedAt, findings, cancellationToken).ConfigureAwait(false))
            {
                plan.KeepAll();
            }

            await plan.ListTagIndexesAsync(driver, options.Concurrency, cancellationToken).ConfigureAwait(false);
            await plan.ConfirmLinksAsync(driver, options.Concurrency, cancellationToken).ConfigureAwait(false);

            GcOutcome outcome;
            if (runLock is null)
            {
                outcome = GcOutcome.FromPlan(plan, uploadStarts);
            }
            else
            {
                var sweeper = new GcSweeper(driver, options, runLock, manifests, findings, progress);
                outcome = await sweeper.SweepAsync(plan, uploadStarts, async ct =>
                    await ApplyJournalAsync(plan, manifests, startedAt, findings, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
                try
                {
                    await GcJournal.PruneBeforeAsync(driver, startedAt - options.Timings.JournalWindow, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is StorageException or IOException or UnauthorizedAccessException)
                {
                    findings.Add("delete-failed", GcSeverity.Warning, null, null, StoragePaths.GcJournalRoot, "pruning old journal hours failed: " + e.Message);
                }
            }

            var list = findings.ToList();
            var summary = new GcSummary
            {
                DryRun = options.DryRun,
                DeleteUntagged = options.DeleteUntagged,
                Grace = options.Grace,
                UploadAge = options.UploadAge,
                Repositories = inventory.Repositories.Count,
                BlobsScanned = inventory.Blobs.Count,
                BlobsMarked = inventory.Blobs.Keys.Count(mark.Marked.Contains),
                Blobs = outcome.Blobs.Count,
                BlobBytes = outcome.Blobs.Sum(b => b.Size),
                Manifests = outcome.Manifests.Count,
                Links = outcome.Links.Count,
                Uploads = outcome.Uploads.Count,
                UploadBytes = outcome.Uploads.Sum(u => u.Size),
                KeptByGrace = plan.KeptByGrace,
                KeptByJournal = plan.KeptByJournal,
                RepositoriesKeptWhole = mark.RepositoriesKeptWhole.Count,
                Errors = list.Count(f => f.Severity == GcSeverity.Error),
                Warnings = list.Count(f => f.Severity == GcSeverity.Warning),
                Duration = _time.GetElapsedTime(clock),
            };
            return new GcReport(outcome.Blobs, outcome.Manifests, outcome.Links, outcome.Uploads, list, summary);
        }
        finally
        {
            if (runLock is not null)
            {
                await runLock.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task EnsureStorageAsync(CancellationToken cancellationToken)
    {
        try
        {
            await driver.StatAsync(StoragePaths.Root, cancellationToken).ConfigureAwait(false);
        }
        catch (PathNotFoundException)
        {
            throw new GcAbortedException($"no registry storage here: {StoragePaths.Root} does not exist");
        }
        catch (Exception e) when (e is StorageException or IOException or UnauthorizedAccessException)
        {
            throw new GcAbortedException("storage is not readable: " + e.Message, e);
        }
    }

    /// <summary>Reads the journal since the window began and keeps what it names. False when an entry could not be read (keep everything).</summary>
    private async Task<bool> ApplyJournalAsync(GcPlan plan, ManifestReader manifests, DateTimeOffset startedAt, Findings findings, CancellationToken cancellationToken)
    {
        GcJournalRead read;
        try
        {
            read = await GcJournal.ReadSinceAsync(driver, startedAt - options.Timings.JournalWindow, options.Concurrency, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is StorageException or IOException or UnauthorizedAccessException)
        {
            findings.Add("gc-journal-unreadable", GcSeverity.Error, null, null, StoragePaths.GcJournalRoot,
                "reading the journal of pushes in progress failed, so nothing is deleted: " + e.Message);
            return false;
        }
        foreach (var path in read.Foreign)
        {
            findings.Add("gc-journal-foreign", GcSeverity.Warning, null, null, path, "an object in the journal that Berth did not write; ignored");
        }
        if (read.Unreadable.Count > 0)
        {
            foreach (var path in read.Unreadable)
            {
                findings.Add("gc-journal-unreadable", GcSeverity.Error, null, null, path,
                    "a journal entry of a push in progress cannot be parsed, so what it protects is unknown and nothing is deleted");
            }
            return false;
        }
        await plan.KeepAsync(read.Entries.SelectMany(e => e.Digests), manifests, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>When each old upload session started, from its startedat file (null when absent or unreadable).</summary>
    private async Task<Dictionary<UploadRecord, DateTimeOffset?>> ReadUploadStartsAsync(StorageInventory inventory, DateTimeOffset startedAt, CancellationToken cancellationToken)
    {
        var result = new ConcurrentDictionary<UploadRecord, DateTimeOffset?>();
        var old = inventory.Repositories.Values.SelectMany(r => r.Uploads.Values)
            .Where(u => u.HasStartedAt && u.LastModified <= startedAt - options.UploadAge).ToList();
        await Parallel.ForEachAsync(old, new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency, CancellationToken = cancellationToken }, async (upload, ct) =>
        {
            DateTimeOffset? started = null;
            try
            {
                var content = await driver.GetContentAsync(StoragePaths.UploadStartedAt(upload.Repository, upload.Id), ct).ConfigureAwait(false);
                if (DateTimeOffset.TryParse(Encoding.UTF8.GetString(content).Trim(), CultureInfo.InvariantCulture,
                    DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
                {
                    started = parsed;
                }
            }
            catch (Exception e) when (e is StorageException or IOException or UnauthorizedAccessException)
            {
            }
            result[upload] = started;
        }).ConfigureAwait(false);
        return new Dictionary<UploadRecord, DateTimeOffset?>(result);
    }
}

/// <summary>The lists a report shows: planned (dry run) or done (real run).</summary>
internal sealed record GcOutcome(List<GcBlob> Blobs, List<GcManifest> Manifests, List<GcLink> Links, List<GcUpload> Uploads)
{
    public static GcOutcome FromPlan(GcPlan plan, IReadOnlyDictionary<UploadRecord, DateTimeOffset?> uploadStarts) => new(
        [.. plan.BlobDeletes.Values.Select(b => new GcBlob(b.Digest, b.Size)).OrderBy(b => b.Digest.ToString(), StringComparer.Ordinal)],
        [.. plan.RevisionDeletes.SelectMany(kv => kv.Value.Select(r => new GcManifest(r, kv.Key))).OrderBy(m => m.Repository, StringComparer.Ordinal).ThenBy(m => m.Digest.ToString(), StringComparer.Ordinal)],
        [.. plan.AllLinks().Select(ToLink).OrderBy(l => l.Path, StringComparer.Ordinal)],
        [.. plan.UploadDeletes.Select(u => ToUpload(u, uploadStarts)).OrderBy(u => u.Repository, StringComparer.Ordinal).ThenBy(u => u.Id, StringComparer.Ordinal)]);

    public static GcLink ToLink(LinkRecord l) => new(l.Repository, l.Kind, l.Digest, l.Path);

    public static GcUpload ToUpload(UploadRecord u, IReadOnlyDictionary<UploadRecord, DateTimeOffset?> uploadStarts) =>
        new(u.Repository, u.Id, u.Size, uploadStarts.TryGetValue(u, out var s) ? s : null, u.LastModified);
}
