using Berth.Storage;
using Berth.Storage.Layout;

namespace Berth.Maintenance.GarbageCollection;

/// <summary>Blob data as a walk of <c>blobs/</c> saw it.</summary>
internal sealed record BlobRecord(Digest Digest, long Size, DateTimeOffset ModifiedAt);

/// <summary>A link file of a repository, by the digest its path names.</summary>
internal sealed record LinkRecord(string Repository, string Kind, Digest Digest, string Path);

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
/// One walk of <c>blobs/</c>, then one walk of <c>repositories/</c> (object-store listings by prefix; the
/// blobs first, so that any blob written later is simply not a candidate). Link contents are not read
/// here; paths name the digests.
/// </summary>
internal sealed class StorageInventory
{
    public Dictionary<Digest, BlobRecord> Blobs { get; } = [];

    public SortedDictionary<string, RepositoryInventory> Repositories { get; } = new(StringComparer.Ordinal);

    /// <summary>Every link that names a digest (layer, revision, tag index, referrer), by that digest.</summary>
    public Dictionary<Digest, List<LinkRecord>> LinksByDigest { get; } = [];

    public static async Task<StorageInventory> ScanAsync(IStorageDriver driver, IProgress<GcProgress>? progress, CancellationToken cancellationToken)
    {
        var inventory = new StorageInventory();
        long seen = 0;
        await foreach (var entry in driver.WalkAsync(StoragePaths.BlobsRoot, cancellationToken).ConfigureAwait(false))
        {
            if (StoragePaths.TryParseBlobData(entry.Path, out var digest))
            {
                inventory.Blobs[digest] = new BlobRecord(digest, entry.Size, entry.ModifiedAt);
            }
            if (++seen % 4096 == 0)
            {
                progress?.Report(new GcProgress("scanning blobs", seen, null));
            }
        }
        progress?.Report(new GcProgress("scanning blobs", seen, seen));
        seen = 0;
        await foreach (var entry in driver.WalkAsync(StoragePaths.RepositoriesRoot, cancellationToken).ConfigureAwait(false))
        {
            inventory.Add(entry);
            if (++seen % 4096 == 0)
            {
                progress?.Report(new GcProgress("scanning repositories", seen, null));
            }
        }
        progress?.Report(new GcProgress("scanning repositories", seen, seen));
        return inventory;
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
        switch (o.Kind)
        {
            case RepositoryObjectKind.LayerLink:
                repo.Layers.Add(o.Digest);
                AddLink(new LinkRecord(o.Repository, GcLinkKinds.Layer, o.Digest, entry.Path));
                break;
            case RepositoryObjectKind.RevisionLink:
                repo.Revisions.Add(o.Digest);
                AddLink(new LinkRecord(o.Repository, GcLinkKinds.Revision, o.Digest, entry.Path));
                break;
            case RepositoryObjectKind.TagCurrentLink:
                repo.Tags.Add(o.Tag!);
                break;
            case RepositoryObjectKind.TagIndexLink:
                AddLink(new LinkRecord(o.Repository, GcLinkKinds.TagIndex, o.Digest, entry.Path));
                break;
            case RepositoryObjectKind.ReferrerLink:
                repo.ReferrerLinks.Add((o.Subject, o.Digest));
                AddLink(new LinkRecord(o.Repository, GcLinkKinds.Referrer, o.Digest, entry.Path));
                break;
            case RepositoryObjectKind.UploadObject:
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
