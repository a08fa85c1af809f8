using Berth.Storage;
using Berth.Storage.Layout;

namespace Berth.Maintenance.GarbageCollection;

/// <summary>Blob data as a walk of <c>blobs/</c> saw it.</summary>
internal sealed record BlobRecord(Digest Digest, long Size, DateTimeOffset ModifiedAt);

/// <summary>A link file of a repository, by the digest its path names. <see cref="Confirmed"/>: the file itself was
/// seen (a walk, or a stat); otherwise only its directory was listed.</summary>
internal sealed record LinkRecord(string Repository, string Kind, Digest Digest, string Path, bool Confirmed);

internal sealed class UploadRecord(string repository, string id)
{
    public string Repository { get; } = repository;
    public string Id { get; } = id;
    public long Size { get; set; }
    public DateTimeOffset LastModified { get; set; } = DateTimeOffset.MinValue;
    public bool HasStartedAt { get; set; }
}

/// <summary>Everything one repository holds, from the walk (no link is read here).</summary>
internal sealed class RepositoryInventory(string name)
{
    public string Name { get; } = name;

    /// <summary>Tags that have a current/link.</summary>
    public List<string> Tags { get; } = [];

    public HashSet<Digest> Revisions { get; } = [];

    public HashSet<Digest> Layers { get; } = [];

    public List<(Digest Subject, Digest Referrer)> ReferrerLinks { get; } = [];

    public Dictionary<string, UploadRecord> Uploads { get; } = new(StringComparer.Ordinal);
}

/// <summary>
/// A walk of <c>blobs/</c> and <c>repositories/</c> (object-store listings by prefix). Link contents are not
/// read here; paths name the digests. Whatever is written after the walk is not in it: such writes are
/// either younger than the grace period or announced in the journal the collector reads before deleting.
/// </summary>
internal sealed class StorageInventory
{
    public Dictionary<Digest, BlobRecord> Blobs { get; } = [];

    public SortedDictionary<string, RepositoryInventory> Repositories { get; } = new(StringComparer.Ordinal);

    /// <summary>False when the scan did not list the tags' history (<c>index/</c>); <see cref="GcPlan"/> lists it where it needs it.</summary>
    public bool TagIndexesListed { get; private set; } = true;

    /// <summary>Every link that names a digest (layer, revision, tag index, referrer), by that digest.</summary>
    public Dictionary<Digest, List<LinkRecord>> LinksByDigest { get; } = [];

    /// <summary>
    /// Lists what the storage holds. On a local filesystem (<see cref="ILocalFileAccess"/>) directories are
    /// listed, which reads one directory per repository part instead of opening every link's directory and
    /// stat'ing its file; on an object store the two trees are walked (listed by prefix, a thousand keys a request).
    /// </summary>
    public static async Task<StorageInventory> ScanAsync(IStorageDriver driver, int concurrency, bool? listDirectories, IProgress<GcProgress>? progress, CancellationToken cancellationToken)
    {
        var inventory = new StorageInventory();
        long seen = 0;
        void Seen(int n) => progress?.Report(new GcProgress("scanning", Interlocked.Add(ref seen, n), null));
        concurrency = Math.Max(1, concurrency);
        Task<List<StorageEntry>> blobs, repositories;
        if (listDirectories ?? driver is ILocalFileAccess)
        {
            inventory.TagIndexesListed = false;
            blobs = new ListingScan(driver, concurrency, Seen, cancellationToken).BlobsAsync();
            repositories = new ListingScan(driver, concurrency, Seen, cancellationToken).RepositoriesAsync();
        }
        else
        {
            blobs = WalkTreeAsync(driver, StoragePaths.BlobsRoot, concurrency, Seen, cancellationToken);
            repositories = WalkTreeAsync(driver, StoragePaths.RepositoriesRoot, concurrency, Seen, cancellationToken);
        }
        foreach (var entry in await blobs.ConfigureAwait(false))
        {
            if (StoragePaths.TryParseBlobData(entry.Path, out var digest))
            {
                inventory.Blobs[digest] = new BlobRecord(digest, entry.Size, entry.ModifiedAt);
            }
        }
        foreach (var entry in await repositories.ConfigureAwait(false))
        {
            inventory.Add(entry);
        }
        progress?.Report(new GcProgress("scanning", seen, seen));
        return inventory;
    }

    /// <summary>
    /// Every object under <paramref name="root"/>: the tree is split by listing its first two levels (where
    /// neither layout keeps objects of interest), then each subtree is walked, several at a time.
    /// </summary>
    private static async Task<List<StorageEntry>> WalkTreeAsync(IStorageDriver driver, string root, int concurrency, Action<int> seen, CancellationToken cancellationToken)
    {
        List<string> subtrees = [root];
        for (var depth = 0; depth < 2 && subtrees.Count < concurrency * 4; depth++)
        {
            var next = new List<string>();
            foreach (var dir in subtrees)
            {
                try
                {
                    next.AddRange(await driver.ListAsync(dir, cancellationToken).ConfigureAwait(false));
                }
                catch (PathNotFoundException)
                {
                }
            }
            subtrees = next;
        }
        var results = new List<StorageEntry>[subtrees.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, subtrees.Count),
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, concurrency), CancellationToken = cancellationToken }, async (i, ct) =>
            {
                var list = new List<StorageEntry>();
                await foreach (var entry in driver.WalkAsync(subtrees[i], ct).ConfigureAwait(false))
                {
                    list.Add(entry);
                }
                results[i] = list;
                seen(list.Count);
            }).ConfigureAwait(false);
        return [.. results.SelectMany(r => r)];
    }

    private void Add(StorageEntry entry)
    {
        if (!StoragePaths.TryParseRepositoryObject(entry.Path, out var o))
        {
            return;
        }
        if (!Repositories.TryGetValue(o.Repository, out var repo))
        {
            repo = new RepositoryInventory(o.Repository);
            Repositories.Add(o.Repository, repo);
        }
        var confirmed = entry.ModifiedAt != DateTimeOffset.MinValue;
        switch (o.Kind)
        {
            case WalkedObjectKind.LayerLink:
                repo.Layers.Add(o.Digest);
                AddLink(new LinkRecord(o.Repository, GcLinkKinds.Layer, o.Digest, entry.Path, confirmed));
                break;
            case WalkedObjectKind.RevisionLink:
                repo.Revisions.Add(o.Digest);
                AddLink(new LinkRecord(o.Repository, GcLinkKinds.Revision, o.Digest, entry.Path, confirmed));
                break;
            case WalkedObjectKind.TagCurrentLink:
                repo.Tags.Add(o.Tag!);
                break;
            case WalkedObjectKind.TagIndexLink:
                AddLink(new LinkRecord(o.Repository, GcLinkKinds.TagIndex, o.Digest, entry.Path, confirmed));
                break;
            case WalkedObjectKind.ReferrerLink:
                repo.ReferrerLinks.Add((o.Subject, o.Digest));
                AddLink(new LinkRecord(o.Repository, GcLinkKinds.Referrer, o.Digest, entry.Path, confirmed));
                break;
            case WalkedObjectKind.UploadObject:
                if (!repo.Uploads.TryGetValue(o.UploadId!, out var upload))
                {
                    upload = new UploadRecord(o.Repository, o.UploadId!);
                    repo.Uploads.Add(o.UploadId!, upload);
                }
                upload.Size += entry.Size;
                if (entry.ModifiedAt > upload.LastModified)
                {
                    upload.LastModified = entry.ModifiedAt;
                }
                upload.HasStartedAt |= StoragePath.FileName(entry.Path) == "startedat";
                break;
        }
    }

    /// <summary>Adds the tag history links of one repository that name <paramref name="digests"/> (after a listing scan).</summary>
    public async Task ListTagIndexesAsync(IStorageDriver driver, string repository, IReadOnlySet<Digest> digests, CancellationToken cancellationToken)
    {
        foreach (var tag in Repositories[repository].Tags)
        {
            IReadOnlyList<string> algorithms;
            try
            {
                algorithms = await driver.ListAsync(StoragePaths.TagIndexDirectory(repository, tag), cancellationToken).ConfigureAwait(false);
            }
            catch (PathNotFoundException)
            {
                continue;
            }
            foreach (var algorithmPath in algorithms)
            {
                IReadOnlyList<string> entries;
                try
                {
                    entries = await driver.ListAsync(algorithmPath, cancellationToken).ConfigureAwait(false);
                }
                catch (PathNotFoundException)
                {
                    continue;
                }
                foreach (var entry in entries)
                {
                    if (StoragePaths.TryParseDigestDirectory(StoragePath.FileName(algorithmPath), StoragePath.FileName(entry), out var digest) && digests.Contains(digest))
                    {
                        lock (LinksByDigest)
                        {
                            AddLink(new LinkRecord(repository, GcLinkKinds.TagIndex, digest, StoragePaths.TagIndexLink(repository, tag, digest), Confirmed: false));
                        }
                    }
                }
            }
        }
    }

    private void AddLink(LinkRecord link)
    {
        if (!LinksByDigest.TryGetValue(link.Digest, out var list))
        {
            list = [];
            LinksByDigest.Add(link.Digest, list);
        }
        list.Add(link);
    }
}

internal static class GcLinkKinds
{
    public const string Layer = "layer";
    public const string Revision = "revision";
    public const string TagIndex = "tag-index";
    public const string Referrer = "referrer";
}

/// <summary>
/// The listing scan for local filesystems. Link files are not opened: a link's directory name is its
/// digest, so a listing of <c>_layers/sha256</c> names every layer link of a repository. The entries it
/// yields for links are the link paths with no size or time; blob data and upload files are stat'ed.
/// </summary>
internal sealed class ListingScan(IStorageDriver driver, int concurrency, Action<int> seen, CancellationToken cancellationToken)
{
    private ParallelOptions Parallelism => new() { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken };

    private async Task<IReadOnlyList<string>> NamesAsync(string path)
    {
        try
        {
            return [.. (await driver.ListAsync(path, cancellationToken).ConfigureAwait(false)).Select(StoragePath.FileName)];
        }
        catch (PathNotFoundException)
        {
            return [];
        }
    }

    /// <summary>A link known only from its directory's name (no time: unconfirmed, see <see cref="LinkRecord.Confirmed"/>).</summary>
    private static StorageEntry Link(string path) => new(path, 0, DateTimeOffset.MinValue, false);

    /// <summary>Every file under a directory, by listing and stat'ing (an upload may finish, and its files vanish, meanwhile).</summary>
    private async Task FilesAsync(string directory, List<StorageEntry> found)
    {
        IReadOnlyList<string> children;
        try
        {
            children = await driver.ListAsync(directory, cancellationToken).ConfigureAwait(false);
        }
        catch (PathNotFoundException)
        {
            return;
        }
        foreach (var child in children)
        {
            try
            {
                var entry = await driver.StatAsync(child, cancellationToken).ConfigureAwait(false);
                if (entry.IsDirectory)
                {
                    await FilesAsync(child, found).ConfigureAwait(false);
                }
                else
                {
                    found.Add(entry);
                }
            }
            catch (PathNotFoundException)
            {
            }
        }
    }

    public async Task<List<StorageEntry>> BlobsAsync()
    {
        var prefixes = new List<(string Algorithm, string Prefix)>();
        foreach (var algorithm in await NamesAsync(StoragePaths.BlobsRoot).ConfigureAwait(false))
        {
            prefixes.AddRange((await NamesAsync(StoragePaths.BlobAlgorithmDirectory(algorithm)).ConfigureAwait(false)).Select(p => (algorithm, p)));
        }
        var result = new List<StorageEntry>();
        await Parallel.ForEachAsync(prefixes, Parallelism, async (prefix, _) =>
        {
            var found = new List<StorageEntry>();
            foreach (var hex in await NamesAsync($"{StoragePaths.BlobAlgorithmDirectory(prefix.Algorithm)}/{prefix.Prefix}").ConfigureAwait(false))
            {
                if (StoragePaths.TryParseDigestDirectory(prefix.Algorithm, hex, out var digest) && hex.StartsWith(prefix.Prefix, StringComparison.Ordinal))
                {
                    try
                    {
                        found.Add(await driver.StatAsync(StoragePaths.BlobData(digest), cancellationToken).ConfigureAwait(false));
                    }
                    catch (PathNotFoundException)
                    {
                    }
                }
            }
            lock (result)
            {
                result.AddRange(found);
            }
            seen(found.Count);
        }).ConfigureAwait(false);
        return result;
    }

    public async Task<List<StorageEntry>> RepositoriesAsync()
    {
        // Breadth first: every directory whose children start with '_' is a repository; the others are name parts.
        var repositories = new List<(string Name, IReadOnlyList<string> Children)>();
        List<(string Path, string Name)> level = [(StoragePaths.RepositoriesRoot, "")];
        while (level.Count > 0)
        {
            var next = new List<(string Path, string Name)>();
            await Parallel.ForEachAsync(level, Parallelism, async (dir, _) =>
            {
                var children = await NamesAsync(dir.Path).ConfigureAwait(false);
                lock (next)
                {
                    if (dir.Name.Length > 0 && children.Any(c => c.StartsWith('_')))
                    {
                        repositories.Add((dir.Name, children));
                    }
                    next.AddRange(children.Where(c => !c.StartsWith('_')).Select(c => (dir.Path + "/" + c, dir.Name.Length == 0 ? c : dir.Name + "/" + c)));
                }
            }).ConfigureAwait(false);
            level = next;
        }
        var result = new List<StorageEntry>();
        await Parallel.ForEachAsync(repositories, Parallelism, async (repository, _) =>
        {
            var found = await RepositoryAsync(repository.Name, repository.Children).ConfigureAwait(false);
            lock (result)
            {
                result.AddRange(found);
            }
            seen(found.Count);
        }).ConfigureAwait(false);
        return result;
    }

    private async Task<List<StorageEntry>> RepositoryAsync(string name, IReadOnlyList<string> children)
    {
        var found = new List<StorageEntry>();
        async Task DigestDirectoriesAsync(string directory, Func<Digest, string> linkPath)
        {
            foreach (var algorithm in await NamesAsync(directory).ConfigureAwait(false))
            {
                foreach (var hex in await NamesAsync(directory + "/" + algorithm).ConfigureAwait(false))
                {
                    if (StoragePaths.TryParseDigestDirectory(algorithm, hex, out var digest))
                    {
                        found.Add(Link(linkPath(digest)));
                    }
                }
            }
        }
        if (children.Contains(StoragePaths.LayersDirName))
        {
            await DigestDirectoriesAsync(StoragePaths.LayersDirectory(name), d => StoragePaths.LayerLink(name, d)).ConfigureAwait(false);
        }
        if (children.Contains(StoragePaths.ManifestsDirName))
        {
            // Revisions decide what is marked, so each link is stat'ed: Distribution's manifest DELETE removes the
            // link file and leaves its directory. Other links only matter when they are deleted, and are checked then.
            var revisions = found.Count;
            await DigestDirectoriesAsync(StoragePaths.RevisionsDirectory(name), d => StoragePaths.RevisionLink(name, d)).ConfigureAwait(false);
            for (var i = found.Count - 1; i >= revisions; i--)
            {
                try
                {
                    found[i] = await driver.StatAsync(found[i].Path, cancellationToken).ConfigureAwait(false);
                }
                catch (PathNotFoundException)
                {
                    found.RemoveAt(i);
                }
            }
            // current/link is read later anyway (a tag without one reads as missing and is ignored there); the
            // tags' history is only needed where revisions are removed, and is listed then.
            found.AddRange((await NamesAsync(StoragePaths.TagsDirectory(name)).ConfigureAwait(false)).Select(tag => Link(StoragePaths.TagCurrentLink(name, tag))));
        }
        if (children.Contains(StoragePaths.ReferrersDirName))
        {
            var root = StoragePaths.Repository(name) + "/" + StoragePaths.ReferrersDirName;
            foreach (var algorithm in await NamesAsync(root).ConfigureAwait(false))
            {
                foreach (var hex in await NamesAsync(root + "/" + algorithm).ConfigureAwait(false))
                {
                    if (StoragePaths.TryParseDigestDirectory(algorithm, hex, out var subject))
                    {
                        await DigestDirectoriesAsync(StoragePaths.ReferrersDirectory(name, subject), d => StoragePaths.ReferrerLink(name, subject, d)).ConfigureAwait(false);
                    }
                }
            }
        }
        if (children.Contains(StoragePaths.UploadsDirName))
        {
            foreach (var id in await NamesAsync(StoragePaths.UploadsDirectory(name)).ConfigureAwait(false))
            {
                await FilesAsync(StoragePaths.UploadDirectory(name, id), found).ConfigureAwait(false);
            }
        }
        return found;
    }
}
