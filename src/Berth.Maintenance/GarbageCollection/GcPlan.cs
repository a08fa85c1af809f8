using Berth.Storage;
using Berth.Storage.Layout;

namespace Berth.Maintenance.GarbageCollection;

/// <summary>What a collection is going to delete. Built from the mark, then narrowed by the journal.</summary>
internal sealed class GcPlan
{
    /// <summary>Small enough to be a manifest worth reading when a journal entry keeps it.</summary>
    private const long ManifestSizeLimit = 4 * 1024 * 1024;

    private readonly StorageInventory _inventory;
    private readonly HashSet<Digest> _keptVisited = [];

    private GcPlan(StorageInventory inventory) => _inventory = inventory;

    /// <summary>Blob data to delete (manifest blobs included).</summary>
    public Dictionary<Digest, BlobRecord> BlobDeletes { get; } = [];

    /// <summary>Manifest revisions to remove: digest → repositories.</summary>
    public Dictionary<Digest, SortedSet<string>> RevisionDeletes { get; } = [];

    public List<UploadRecord> UploadDeletes { get; } = [];

    public long KeptByGrace { get; private set; }

    public long KeptByJournal { get; private set; }

    /// <summary>Every digest a concurrent write must not rely on while this plan runs.</summary>
    public HashSet<Digest> TombstoneSet => [.. BlobDeletes.Keys, .. RevisionDeletes.Keys];

    public static GcPlan Build(StorageInventory inventory, MarkResult mark, GcOptions options, DateTimeOffset startedAt,
        IReadOnlyDictionary<UploadRecord, DateTimeOffset?> uploadStarts)
    {
        var plan = new GcPlan(inventory);
        foreach (var (repository, digests) in mark.RevisionDeletes)
        {
            foreach (var digest in digests)
            {
                if (!plan.RevisionDeletes.TryGetValue(digest, out var repositories))
                {
                    plan.RevisionDeletes[digest] = repositories = new SortedSet<string>(StringComparer.Ordinal);
                }
                repositories.Add(repository);
            }
        }
        foreach (var blob in inventory.Blobs.Values)
        {
            if (mark.Marked.Contains(blob.Digest))
            {
                continue;
            }
            if (blob.ModifiedAt > startedAt - options.Grace)
            {
                plan.KeptByGrace++;
                continue;
            }
            // A revision that stays must keep its data. Marking already ensures it; this guards the invariant.
            if (inventory.LinksByDigest.TryGetValue(blob.Digest, out var links)
                && links.Any(l => l.Kind == GcLinkKinds.Revision && !(plan.RevisionDeletes.TryGetValue(blob.Digest, out var r) && r.Contains(l.Repository))))
            {
                continue;
            }
            plan.BlobDeletes[blob.Digest] = blob;
        }
        var cutoff = startedAt - options.UploadAge;
        foreach (var upload in inventory.Repositories.Values.SelectMany(r => r.Uploads.Values))
        {
            if (upload.LastModified <= cutoff && (!uploadStarts.TryGetValue(upload, out var started) || started is null || started <= cutoff))
            {
                plan.UploadDeletes.Add(upload);
            }
        }
        return plan;
    }

    /// <summary>
    /// Takes digests a concurrent write announced out of the plan, with everything they reference
    /// (a kept manifest keeps its configs, layers and children, transitively). Returns how many digests left the plan.
    /// </summary>
    public async Task<int> KeepAsync(IEnumerable<Digest> digests, ManifestReader manifests, CancellationToken cancellationToken)
    {
        var kept = 0;
        var stack = new Stack<Digest>(digests);
        while (stack.TryPop(out var digest))
        {
            if (!_keptVisited.Add(digest))
            {
                continue;
            }
            var wasBlob = BlobDeletes.Remove(digest, out var blob);
            var removed = wasBlob | RevisionDeletes.Remove(digest);
            if (removed)
            {
                kept++;
                KeptByJournal++;
            }
            ManifestRefs? refs = null;
            if (manifests.TryGetCached(digest, out var cached))
            {
                refs = cached;
            }
            else if (wasBlob && blob!.Size <= ManifestSizeLimit)
            {
                refs = await manifests.ReadAsync(digest, blob.Size, cancellationToken).ConfigureAwait(false);
            }
            if (refs is { Status: ManifestStatus.Ok })
            {
                foreach (var d in refs.Blobs.Concat(refs.Children))
                {
                    stack.Push(d);
                }
            }
        }
        return kept;
    }

    /// <summary>After a listing scan, lists the tag history of the repositories that lose revisions.</summary>
    public async Task ListTagIndexesAsync(IStorageDriver driver, int concurrency, CancellationToken cancellationToken)
    {
        if (_inventory.TagIndexesListed)
        {
            return;
        }
        var byRepository = RevisionDeletes.SelectMany(kv => kv.Value.Select(r => (Repository: r, Digest: kv.Key)))
            .GroupBy(x => x.Repository, StringComparer.Ordinal).ToList();
        await Parallel.ForEachAsync(byRepository, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, concurrency), CancellationToken = cancellationToken }, async (group, ct) =>
            await _inventory.ListTagIndexesAsync(driver, group.Key, group.Select(x => x.Digest).ToHashSet(), ct).ConfigureAwait(false)).ConfigureAwait(false);
    }

    /// <summary>Checks that the links the plan removes exist, where only their directories were listed; drops the others.</summary>
    public async Task ConfirmLinksAsync(IStorageDriver driver, int concurrency, CancellationToken cancellationToken)
    {
        var unconfirmed = AllLinks().Where(l => !l.Confirmed).ToList();
        var missing = new System.Collections.Concurrent.ConcurrentDictionary<LinkRecord, bool>();
        await Parallel.ForEachAsync(unconfirmed, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, concurrency), CancellationToken = cancellationToken }, async (link, ct) =>
        {
            try
            {
                await driver.StatAsync(link.Path, ct).ConfigureAwait(false);
            }
            catch (PathNotFoundException)
            {
                missing[link] = true;
            }
        }).ConfigureAwait(false);
        foreach (var link in missing.Keys)
        {
            _inventory.LinksByDigest[link.Digest].Remove(link);
        }
    }

    /// <summary>Keeps everything: the plan becomes empty (uploads aside).</summary>
    public void KeepAll()
    {
        KeptByJournal += BlobDeletes.Count;
        BlobDeletes.Clear();
        RevisionDeletes.Clear();
    }

    /// <summary>Links a removed revision takes with it, in its repositories: revision, tag index and referrer links.</summary>
    public IEnumerable<LinkRecord> RevisionLinks(Digest digest) =>
        RevisionDeletes.TryGetValue(digest, out var repositories) && _inventory.LinksByDigest.TryGetValue(digest, out var links)
            ? links.Where(l => l.Kind != GcLinkKinds.Layer && repositories.Contains(l.Repository))
            : [];

    /// <summary>Links to deleted blob data, in any repository: layer and referrer links (and the links of removed revisions).
    /// Tag history entries go with their revision, as in Distribution; stale ones naming older deletions stay.</summary>
    public IEnumerable<LinkRecord> BlobLinks(Digest digest) =>
        _inventory.LinksByDigest.TryGetValue(digest, out var links)
            ? links.Where(l => l.Kind is GcLinkKinds.Layer or GcLinkKinds.Referrer
                || (RevisionDeletes.TryGetValue(digest, out var r) && r.Contains(l.Repository)))
            : [];

    /// <summary>Every link the plan removes, once each.</summary>
    public IEnumerable<LinkRecord> AllLinks() =>
        RevisionDeletes.Keys.SelectMany(RevisionLinks).Concat(BlobDeletes.Keys.SelectMany(BlobLinks)).DistinctBy(l => l.Path);
}
