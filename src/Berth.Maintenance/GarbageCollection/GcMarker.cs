using System.Collections.Concurrent;
using Berth.Storage;
using Berth.Storage.Layout;

namespace Berth.Maintenance.GarbageCollection;

/// <summary>What marking decided.</summary>
internal sealed class MarkResult
{
    /// <summary>Every digest whose blob data must stay.</summary>
    public HashSet<Digest> Marked { get; } = [];

    /// <summary>Manifest revisions to remove (only with --delete-untagged), by repository.</summary>
    public Dictionary<string, HashSet<Digest>> RevisionDeletes { get; } = new(StringComparer.Ordinal);

    public List<string> RepositoriesKeptWhole { get; } = [];
}

/// <summary>
/// The mark phase. Per repository: the roots are the tags' targets (and every revision unless
/// untagged manifests are deleted, and every revision whose data is younger than the grace period);
/// from them, child manifests of indexes and referrers whose subject is reached, transitively.
/// Everything reached, and the configs and layers of what was reached, is marked. A repository in
/// which something could hide references (a tag or manifest that cannot be read) is kept whole:
/// every revision and every layer link it has is marked, and none of its revisions is deleted.
/// </summary>
internal sealed class GcMarker(IStorageDriver driver, GcOptions options, StorageInventory inventory, ManifestReader manifests,
    Findings findings, DateTimeOffset startedAt, IProgress<GcProgress>? progress)
{
    private readonly ParallelOptions _parallel = new() { MaxDegreeOfParallelism = Math.Max(1, options.Concurrency) };

    private sealed record TagTarget(string Repository, string Tag, LinkFile.Result Link, string? Failure);

    private sealed class RepositoryMark
    {
        public HashSet<Digest> Reachable { get; } = [];
        public HashSet<Digest> TagReachable { get; } = [];
        public bool KeptWhole { get; set; }
        public HashSet<Digest> RevisionDeletes { get; } = [];
    }

    public async Task<MarkResult> MarkAsync(CancellationToken cancellationToken)
    {
        var tags = await ReadTagsAsync(cancellationToken).ConfigureAwait(false);
        await PrefetchAsync(tags, cancellationToken).ConfigureAwait(false);

        var marks = new ConcurrentDictionary<string, RepositoryMark>(StringComparer.Ordinal);
        long done = 0;
        await Parallel.ForEachAsync(inventory.Repositories.Values, Options(cancellationToken), async (repo, ct) =>
        {
            tags.TryGetValue(repo.Name, out var repoTags);
            marks[repo.Name] = await MarkRepositoryAsync(repo, repoTags ?? [], ct).ConfigureAwait(false);
            progress?.Report(new GcProgress("marking", Interlocked.Increment(ref done), inventory.Repositories.Count));
        }).ConfigureAwait(false);

        var result = new MarkResult();
        foreach (var (name, mark) in marks.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var repo = inventory.Repositories[name];
            foreach (var digest in mark.Reachable)
            {
                result.Marked.Add(digest);
                if (manifests.TryGetCached(digest, out var refs))
                {
                    result.Marked.UnionWith(refs.Blobs);
                }
            }
            if (mark.KeptWhole)
            {
                result.RepositoriesKeptWhole.Add(name);
                result.Marked.UnionWith(repo.Layers);
                result.Marked.UnionWith(repo.Revisions);
                result.Marked.UnionWith(repo.ReferrerLinks.Select(r => r.Referrer));
            }
            if (mark.RevisionDeletes.Count > 0)
            {
                result.RevisionDeletes[name] = mark.RevisionDeletes;
            }
        }
        await CheckLayersAsync(marks, cancellationToken).ConfigureAwait(false);
        return result;
    }

    private ParallelOptions Options(CancellationToken cancellationToken) =>
        new() { MaxDegreeOfParallelism = _parallel.MaxDegreeOfParallelism, CancellationToken = cancellationToken };

    /// <summary>Reads every tag's current/link.</summary>
    private async Task<Dictionary<string, List<TagTarget>>> ReadTagsAsync(CancellationToken cancellationToken)
    {
        var work = inventory.Repositories.Values.SelectMany(r => r.Tags.Select(t => (Repository: r.Name, Tag: t))).ToList();
        var results = new TagTarget[work.Count];
        long done = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, work.Count), Options(cancellationToken), async (i, ct) =>
        {
            var (repository, tag) = work[i];
            try
            {
                var link = await LinkFile.ReadAsync(driver, StoragePaths.TagCurrentLink(repository, tag), ct).ConfigureAwait(false);
                results[i] = new TagTarget(repository, tag, link, null);
            }
            catch (Exception e) when (e is StorageException or IOException or UnauthorizedAccessException)
            {
                results[i] = new TagTarget(repository, tag, default, e.Message);
            }
            var n = Interlocked.Increment(ref done);
            if (n % 256 == 0 || n == work.Count)
            {
                progress?.Report(new GcProgress("reading tags", n, work.Count));
            }
        }).ConfigureAwait(false);
        return results.GroupBy(r => r.Repository, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
    }

    /// <summary>Reads every revision's manifest and every tag target, in parallel, into the cache.</summary>
    private async Task PrefetchAsync(Dictionary<string, List<TagTarget>> tags, CancellationToken cancellationToken)
    {
        var digests = new HashSet<Digest>();
        foreach (var repo in inventory.Repositories.Values)
        {
            digests.UnionWith(repo.Revisions);
            digests.UnionWith(repo.ReferrerLinks.Select(r => r.Referrer));
        }
        foreach (var t in tags.Values.SelectMany(t => t))
        {
            if (t.Failure is null && t.Link.IsOk)
            {
                digests.Add(t.Link.Digest);
            }
        }
        long done = 0;
        await Parallel.ForEachAsync(digests, Options(cancellationToken), async (digest, ct) =>
        {
            await ReadManifestAsync(digest, ct).ConfigureAwait(false);
            var n = Interlocked.Increment(ref done);
            if (n % 256 == 0 || n == digests.Count)
            {
                progress?.Report(new GcProgress("reading manifests", n, digests.Count));
            }
        }).ConfigureAwait(false);
    }

    private Task<ManifestRefs> ReadManifestAsync(Digest digest, CancellationToken cancellationToken) =>
        manifests.ReadAsync(digest, inventory.Blobs.TryGetValue(digest, out var blob) ? blob.Size : null, cancellationToken);

    private async Task<RepositoryMark> MarkRepositoryAsync(RepositoryInventory repo, List<TagTarget> tags, CancellationToken cancellationToken)
    {
        var mark = new RepositoryMark();
        var reported = new HashSet<Digest>();
        // A revision whose manifest data is missing: make sure its link is really there (a listing scan names
        // revision directories, and a crash half-way through a delete can leave one without its link).
        foreach (var revision in repo.Revisions.ToList())
        {
            if ((await ReadManifestAsync(revision, cancellationToken).ConfigureAwait(false)).Status == ManifestStatus.Missing
                && await RevisionLinkMissingAsync(repo.Name, revision, cancellationToken).ConfigureAwait(false))
            {
                repo.Revisions.Remove(revision);
            }
        }
        var tagRoots = new List<Digest>();
        foreach (var t in tags.OrderBy(t => t.Tag, StringComparer.Ordinal))
        {
            var path = StoragePaths.TagCurrentLink(repo.Name, t.Tag);
            if (t.Failure is not null)
            {
                findings.Add("storage-unreadable", GcSeverity.Error, repo.Name, t.Tag, path,
                    $"reading the tag failed ({t.Failure}); every blob the repository links is kept");
                mark.KeptWhole = true;
                continue;
            }
            switch (t.Link.Status)
            {
                case LinkFile.Status.Ok:
                    tagRoots.Add(t.Link.Digest);
                    if (!repo.Revisions.Contains(t.Link.Digest))
                    {
                        await CheckTagRevisionAsync(repo.Name, t.Tag, t.Link.Digest, cancellationToken).ConfigureAwait(false);
                    }
                    break;
                case LinkFile.Status.Missing:
                    break;
                case LinkFile.Status.Empty:
                    findings.Add("tag-link-empty", GcSeverity.Error, repo.Name, t.Tag, path,
                        "the tag's current/link is empty, so what it pointed at is unknown; every blob the repository links is kept (push the tag again or delete it)");
                    mark.KeptWhole = true;
                    break;
                case LinkFile.Status.Invalid:
                    findings.Add("tag-link-invalid", GcSeverity.Error, repo.Name, t.Tag, path,
                        "the tag's current/link does not hold a valid digest, so what it pointed at is unknown; every blob the repository links is kept (push the tag again or delete it)");
                    mark.KeptWhole = true;
                    break;
            }
        }

        // Referrers: Berth's _referrers links, and any revision whose manifest names a subject (storage written by others).
        var referrersOf = new Dictionary<Digest, List<Digest>>();
        void AddReferrer(Digest subject, Digest referrer)
        {
            if (!referrersOf.TryGetValue(subject, out var list))
            {
                referrersOf[subject] = list = [];
            }
            list.Add(referrer);
        }
        foreach (var (subject, referrer) in repo.ReferrerLinks)
        {
            AddReferrer(subject, referrer);
        }
        foreach (var revision in repo.Revisions)
        {
            if ((await ReadManifestAsync(revision, cancellationToken).ConfigureAwait(false)).Subject is { } subject)
            {
                AddReferrer(subject, revision);
            }
        }

        // Reachable from tags: broken manifests here are errors (a pull of the tag fails).
        await CloseAsync(repo, tagRoots, mark.TagReachable, referrersOf, GcSeverity.Error, reported, mark, cancellationToken).ConfigureAwait(false);
        mark.Reachable.UnionWith(mark.TagReachable);

        var otherRoots = new List<Digest>();
        foreach (var revision in repo.Revisions)
        {
            if (!options.DeleteUntagged || !inventory.Blobs.TryGetValue(revision, out var blob) || IsYoung(blob))
            {
                otherRoots.Add(revision);
            }
        }
        await CloseAsync(repo, otherRoots, mark.Reachable, referrersOf, GcSeverity.Warning, reported, mark, cancellationToken).ConfigureAwait(false);

        foreach (var revision in repo.Revisions.Where(r => !mark.Reachable.Contains(r)).OrderBy(r => r.ToString(), StringComparer.Ordinal))
        {
            var refs = await ReadManifestAsync(revision, cancellationToken).ConfigureAwait(false);
            if (refs.Status != ManifestStatus.Ok && reported.Add(revision))
            {
                Report(repo.Name, revision, refs, GcSeverity.Warning);
                mark.KeptWhole = true;
            }
        }
        if (mark.KeptWhole)
        {
            var all = repo.Revisions.Concat(repo.ReferrerLinks.Select(r => r.Referrer)).ToList();
            await CloseAsync(repo, all, mark.Reachable, referrersOf, GcSeverity.Warning, reported, mark, cancellationToken).ConfigureAwait(false);
        }
        else if (options.DeleteUntagged)
        {
            mark.RevisionDeletes.UnionWith(repo.Revisions.Where(r => !mark.Reachable.Contains(r)));
        }
        return mark;
    }

    private bool IsYoung(BlobRecord blob) => blob.ModifiedAt > startedAt - options.Grace;

    /// <summary>Adds to <paramref name="reachable"/> everything reached from the roots: child manifests and referrers, transitively.</summary>
    private async Task CloseAsync(RepositoryInventory repo, IEnumerable<Digest> roots, HashSet<Digest> reachable,
        Dictionary<Digest, List<Digest>> referrersOf, GcSeverity severity, HashSet<Digest> reported, RepositoryMark mark, CancellationToken cancellationToken)
    {
        var queue = new Queue<Digest>(roots);
        while (queue.TryDequeue(out var digest))
        {
            if (!reachable.Add(digest))
            {
                continue;
            }
            var refs = await ReadManifestAsync(digest, cancellationToken).ConfigureAwait(false);
            if (refs.Status == ManifestStatus.Ok)
            {
                foreach (var child in refs.Children)
                {
                    queue.Enqueue(child);
                }
            }
            else
            {
                mark.KeptWhole = true;
                if (reported.Add(digest))
                {
                    Report(repo.Name, digest, refs, severity);
                }
            }
            if (referrersOf.TryGetValue(digest, out var referrers))
            {
                foreach (var r in referrers)
                {
                    queue.Enqueue(r);
                }
            }
        }
    }

    private void Report(string repository, Digest digest, ManifestRefs refs, GcSeverity severity)
    {
        var (failureClass, what) = refs.Status switch
        {
            ManifestStatus.Missing => ("manifest-blob-missing", "the manifest's blob data is missing"),
            ManifestStatus.Unparseable => ("manifest-unparseable", "the manifest cannot be parsed (" + refs.Detail + ")"),
            _ => ("storage-unreadable", refs.Detail),
        };
        findings.Add(failureClass, severity, repository, digest.ToString(), StoragePaths.BlobData(digest),
            $"{what}; what it references is unknown, so every blob the repository links is kept");
    }

    private Task<bool> RevisionLinkMissingAsync(string repository, Digest digest, CancellationToken cancellationToken) =>
        LinkMissingAsync(StoragePaths.RevisionLink(repository, digest), cancellationToken);

    private async Task<bool> LinkMissingAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            return (await LinkFile.ReadAsync(driver, path, cancellationToken).ConfigureAwait(false)).Status == LinkFile.Status.Missing;
        }
        catch (Exception e) when (e is StorageException or IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private async Task CheckTagRevisionAsync(string repository, string tag, Digest digest, CancellationToken cancellationToken)
    {
        // The walk may predate a push that wrote the revision since: look again before reporting.
        var path = StoragePaths.RevisionLink(repository, digest);
        try
        {
            var revision = await LinkFile.ReadAsync(driver, path, cancellationToken).ConfigureAwait(false);
            if (revision.Status == LinkFile.Status.Missing)
            {
                findings.Add("tag-revision-missing", GcSeverity.Error, repository, tag, path,
                    $"the tag points at {digest}, which is not a manifest of this repository; its content is kept (push the tag again or delete it)");
            }
        }
        catch (Exception e) when (e is StorageException or IOException or UnauthorizedAccessException)
        {
            findings.Add("storage-unreadable", GcSeverity.Warning, repository, tag, path, "reading the revision link failed: " + e.Message);
        }
    }

    /// <summary>Reports configs and layers that reached manifests need but that have no data (layer-missing), and layer
    /// links whose data is gone (layer-link-dangling). Each is confirmed with a stat: the walk may predate an upload.</summary>
    private async Task CheckLayersAsync(ConcurrentDictionary<string, RepositoryMark> marks, CancellationToken cancellationToken)
    {
        var missing = new List<(string Repository, Digest Manifest, Digest Blob, GcSeverity Severity)>();
        var dangling = new List<(string Repository, Digest Blob)>();
        foreach (var (name, mark) in marks.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            foreach (var digest in mark.Reachable)
            {
                if (manifests.TryGetCached(digest, out var refs))
                {
                    foreach (var blob in refs.RequiredBlobs.Where(b => !inventory.Blobs.ContainsKey(b)).Distinct())
                    {
                        missing.Add((name, digest, blob, mark.TagReachable.Contains(digest) ? GcSeverity.Error : GcSeverity.Warning));
                    }
                }
            }
            dangling.AddRange(inventory.Repositories[name].Layers.Where(b => !inventory.Blobs.ContainsKey(b)).Select(b => (name, b)));
        }
        var toStat = missing.Select(m => m.Blob).Concat(dangling.Select(d => d.Blob)).ToHashSet();
        var absent = new ConcurrentDictionary<Digest, bool>();
        await Parallel.ForEachAsync(toStat, Options(cancellationToken), async (digest, ct) =>
        {
            try
            {
                await driver.StatAsync(StoragePaths.BlobData(digest), ct).ConfigureAwait(false);
            }
            catch (PathNotFoundException)
            {
                absent[digest] = true;
            }
            catch (Exception e) when (e is StorageException or IOException or UnauthorizedAccessException)
            {
                // Uncertain: say nothing.
            }
        }).ConfigureAwait(false);
        foreach (var (repository, manifest, blob, severity) in missing.Where(m => absent.ContainsKey(m.Blob)))
        {
            findings.Add("layer-missing", severity, repository, manifest.ToString(), StoragePaths.BlobData(blob),
                $"the manifest needs {blob}, whose data is missing; pulls of it fail (push the image again)");
        }
        foreach (var (repository, blob) in dangling.Where(d => absent.ContainsKey(d.Blob)))
        {
            if (await LinkMissingAsync(StoragePaths.LayerLink(repository, blob), cancellationToken).ConfigureAwait(false))
            {
                continue; // only its directory is left (Distribution's blob DELETE does that)
            }
            findings.Add("layer-link-dangling", GcSeverity.Warning, repository, blob.ToString(), StoragePaths.LayerLink(repository, blob),
                "the repository links a blob whose data is missing; left for berth doctor");
        }
    }
}

/// <summary>Findings collected from parallel work.</summary>
internal sealed class Findings
{
    private readonly HashSet<GcFinding> _items = [];

    /// <summary>Adds a finding; the same finding twice (the journal is read twice) is kept once.</summary>
    public void Add(string failureClass, GcSeverity severity, string? repository, string? reference, string? path, string detail)
    {
        lock (_items)
        {
            _items.Add(new GcFinding(failureClass, severity, repository, reference, path, detail));
        }
    }

    public IReadOnlyList<GcFinding> ToList()
    {
        lock (_items)
        {
            return [.. _items.OrderBy(f => f.Repository, StringComparer.Ordinal).ThenBy(f => f.Class, StringComparer.Ordinal).ThenBy(f => f.Reference, StringComparer.Ordinal)];
        }
    }
}
