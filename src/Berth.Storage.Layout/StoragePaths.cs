namespace Berth.Storage.Layout;

/// <summary>
/// The one place that knows CNCF Distribution's storage layout (version 2). Every path below is
/// relative to the storage root:
/// <code>
/// /docker/registry/v2/
///   blobs/&lt;alg&gt;/&lt;first 2 hex&gt;/&lt;hex&gt;/data                      content, addressed by digest
///   repositories/&lt;name, nested&gt;/
///     _layers/&lt;alg&gt;/&lt;hex&gt;/link                              blobs the repository may serve
///     _manifests/revisions/&lt;alg&gt;/&lt;hex&gt;/link                  manifests of the repository
///     _manifests/tags/&lt;tag&gt;/current/link                        the digest the tag points at
///     _manifests/tags/&lt;tag&gt;/index/&lt;alg&gt;/&lt;hex&gt;/link            every digest the tag has held
///     _uploads/&lt;id&gt;/data, startedat                           upload sessions
///     _referrers/&lt;alg&gt;/&lt;hex&gt;/&lt;alg&gt;/&lt;hex&gt;/link                (Berth) referrers of a subject
///   berth/                                                     (Berth) quarantine, journals
///     instances/&lt;instance id&gt;                                (Berth) heartbeat of a running server
///     quarantine/&lt;id&gt;/journal.json                            (Berth) what doctor moved, from where
///     quarantine/&lt;id&gt;/objects/&lt;original path&gt;                 (Berth) the moved objects, byte for byte
///     gc/tombstones/&lt;alg&gt;/&lt;hex&gt;                              (Berth) blobs a collection is about to delete
///     gc/journal/&lt;yyyyMMddHH&gt;/&lt;time-sortable id&gt;              (Berth) digests a write is about to rely on
///     gc/runs/&lt;id&gt;                                             (Berth) running collections, with heartbeat
///     catalog/repositories/&lt;name, '/' spelt ':'&gt;                 (Berth) one marker per repository (the catalog index)
///     catalog/reconciled                                        (Berth) written when a reconcile walk completed the index
/// </code>
/// A link file holds "sha256:&lt;hex&gt;" with no newline, exactly as Distribution writes it.
/// </summary>
public static class StoragePaths
{
    public const string Root = "/docker/registry/v2";
    public const string BlobsRoot = Root + "/blobs";
    public const string RepositoriesRoot = Root + "/repositories";
    public const string BerthRoot = Root + "/berth";
    public const string QuarantineRoot = BerthRoot + "/quarantine";
    public const string InstancesRoot = BerthRoot + "/instances";
    public const string GcRoot = BerthRoot + "/gc";
    public const string GcTombstonesRoot = GcRoot + "/tombstones";
    public const string GcJournalRoot = GcRoot + "/journal";
    public const string GcRunsRoot = GcRoot + "/runs";
    public const string CatalogRoot = BerthRoot + "/catalog";
    public const string CatalogRepositoriesRoot = CatalogRoot + "/repositories";

    /// <summary>Exists once a reconcile walk has filled the catalog index; until then the catalog walks the tree.</summary>
    public const string CatalogReconciled = CatalogRoot + "/reconciled";

    /// <summary>Stands for '/' in a catalog marker's name. Repository names never hold it, and it is a valid
    /// storage path character; the marker of a 255-character name is a 255-byte file name.</summary>
    public const char CatalogMarkerSeparator = ':';

    public const string LayersDirName = "_layers";
    public const string ManifestsDirName = "_manifests";
    public const string UploadsDirName = "_uploads";
    public const string ReferrersDirName = "_referrers";

    public static string BlobAlgorithmDirectory(string algorithm) => $"{BlobsRoot}/{algorithm}";

    // Each path is built in one interpolation (one string allocated): these run on every request.
    // The two-character fan-out folder is appended as a span, not a substring.

    public static string BlobDirectory(Digest digest) => $"{BlobsRoot}/{digest.Algorithm}/{digest.Hex.AsSpan(0, 2)}/{digest.Hex}";

    public static string BlobData(Digest digest) => $"{BlobsRoot}/{digest.Algorithm}/{digest.Hex.AsSpan(0, 2)}/{digest.Hex}/data";

    public static string Repository(string name) => $"{RepositoriesRoot}/{name}";

    public static string LayersDirectory(string name) => $"{RepositoriesRoot}/{name}/{LayersDirName}";

    public static string LayerLinkDirectory(string name, Digest digest) => $"{RepositoriesRoot}/{name}/{LayersDirName}/{digest.Algorithm}/{digest.Hex}";

    public static string LayerLink(string name, Digest digest) => $"{RepositoriesRoot}/{name}/{LayersDirName}/{digest.Algorithm}/{digest.Hex}/link";

    public static string ManifestsDirectory(string name) => $"{RepositoriesRoot}/{name}/{ManifestsDirName}";

    public static string RevisionsDirectory(string name) => $"{RepositoriesRoot}/{name}/{ManifestsDirName}/revisions";

    public static string RevisionDirectory(string name, Digest digest) => $"{RepositoriesRoot}/{name}/{ManifestsDirName}/revisions/{digest.Algorithm}/{digest.Hex}";

    public static string RevisionLink(string name, Digest digest) => $"{RepositoriesRoot}/{name}/{ManifestsDirName}/revisions/{digest.Algorithm}/{digest.Hex}/link";

    public static string TagsDirectory(string name) => $"{RepositoriesRoot}/{name}/{ManifestsDirName}/tags";

    public static string TagDirectory(string name, string tag) => $"{RepositoriesRoot}/{name}/{ManifestsDirName}/tags/{tag}";

    public static string TagCurrentLink(string name, string tag) => $"{RepositoriesRoot}/{name}/{ManifestsDirName}/tags/{tag}/current/link";

    public static string TagIndexDirectory(string name, string tag) => $"{RepositoriesRoot}/{name}/{ManifestsDirName}/tags/{tag}/index";

    public static string TagIndexLink(string name, string tag, Digest digest) =>
        $"{RepositoriesRoot}/{name}/{ManifestsDirName}/tags/{tag}/index/{digest.Algorithm}/{digest.Hex}/link";

    public static string UploadsDirectory(string name) => $"{RepositoriesRoot}/{name}/{UploadsDirName}";

    public static string UploadDirectory(string name, string id) => $"{RepositoriesRoot}/{name}/{UploadsDirName}/{id}";

    public static string UploadData(string name, string id) => $"{RepositoriesRoot}/{name}/{UploadsDirName}/{id}/data";

    public static string UploadStartedAt(string name, string id) => $"{RepositoriesRoot}/{name}/{UploadsDirName}/{id}/startedat";

    public static string ReferrersDirectory(string name, Digest subject) => $"{RepositoriesRoot}/{name}/{ReferrersDirName}/{subject.Algorithm}/{subject.Hex}";

    public static string ReferrerDirectory(string name, Digest subject, Digest referrer) =>
        $"{RepositoriesRoot}/{name}/{ReferrersDirName}/{subject.Algorithm}/{subject.Hex}/{referrer.Algorithm}/{referrer.Hex}";

    public static string ReferrerLink(string name, Digest subject, Digest referrer) =>
        $"{RepositoriesRoot}/{name}/{ReferrersDirName}/{subject.Algorithm}/{subject.Hex}/{referrer.Algorithm}/{referrer.Hex}/link";

    public static string GcTombstonesDirectory(string algorithm) => $"{GcTombstonesRoot}/{algorithm}";

    public static string GcTombstone(Digest digest) => $"{GcTombstonesRoot}/{digest.Algorithm}/{digest.Hex}";

    public static string GcJournalBucket(string bucket) => $"{GcJournalRoot}/{bucket}";

    public static string GcJournalEntry(string bucket, string id) => $"{GcJournalRoot}/{bucket}/{id}";

    public static string GcRun(string id) => $"{GcRunsRoot}/{id}";

    /// <summary>
    /// Recognises an object under <see cref="RepositoriesRoot"/> (as a walk yields it): the repository is every
    /// segment before the first one that starts with '_' (names never do). False for anything else.
    /// </summary>
    public static bool TryParseRepositoryObject(string path, out WalkedObject parsed)
    {
        parsed = default;
        if (!path.StartsWith(RepositoriesRoot + "/", StringComparison.Ordinal))
        {
            return false;
        }
        var parts = path[(RepositoriesRoot.Length + 1)..].Split('/');
        var i = Array.FindIndex(parts, p => p.StartsWith('_'));
        if (i <= 0)
        {
            return false;
        }
        var name = string.Join('/', parts, 0, i);
        var rest = parts.AsSpan(i + 1);
        switch (parts[i])
        {
            case LayersDirName when rest.Length == 3 && rest[2] == "link" && TryParseDigestDirectory(rest[0], rest[1], out var layer):
                parsed = new WalkedObject(WalkedObjectKind.LayerLink, name, layer);
                return true;
            case ManifestsDirName when rest.Length == 4 && rest[0] == "revisions" && rest[3] == "link" && TryParseDigestDirectory(rest[1], rest[2], out var revision):
                parsed = new WalkedObject(WalkedObjectKind.RevisionLink, name, revision);
                return true;
            case ManifestsDirName when rest.Length == 4 && rest[0] == "tags" && rest[2] == "current" && rest[3] == "link":
                parsed = new WalkedObject(WalkedObjectKind.TagCurrentLink, name, default, Tag: rest[1]);
                return true;
            case ManifestsDirName when rest.Length == 6 && rest[0] == "tags" && rest[2] == "index" && rest[5] == "link" && TryParseDigestDirectory(rest[3], rest[4], out var indexed):
                parsed = new WalkedObject(WalkedObjectKind.TagIndexLink, name, indexed, Tag: rest[1]);
                return true;
            case UploadsDirName when rest.Length >= 2:
                parsed = new WalkedObject(WalkedObjectKind.UploadObject, name, default, UploadId: rest[0]);
                return true;
            case ReferrersDirName when rest.Length == 5 && rest[4] == "link" && TryParseDigestDirectory(rest[0], rest[1], out var subject)
                && TryParseDigestDirectory(rest[2], rest[3], out var referrer):
                parsed = new WalkedObject(WalkedObjectKind.ReferrerLink, name, referrer, Subject: subject);
                return true;
            default:
                return false;
        }
    }

    /// <summary>Recovers a digest from a "&lt;alg&gt;/&lt;hex&gt;/link" or "&lt;alg&gt;/&lt;xx&gt;/&lt;hex&gt;/data" path tail.</summary>
    public static bool TryParseDigestDirectory(string algorithm, string hex, out Digest digest) =>
        Digest.TryCreate(algorithm, hex, out digest);

    // ---- Berth's own area (berth/): server heartbeats and doctor's quarantine ----

    /// <summary>The heartbeat object of a running Berth server.</summary>
    public static string Instance(string instanceId) => $"{InstancesRoot}/{instanceId}";

    /// <summary>The folder holding one quarantined item.</summary>
    public static string QuarantineItem(string id) => $"{QuarantineRoot}/{id}";

    /// <summary>The journal of one quarantined item: what moved, from where, with sizes and digests.</summary>
    public static string QuarantineJournal(string id) => $"{QuarantineItem(id)}/journal.json";

    /// <summary>Where the quarantined copy of the object at <paramref name="originalPath"/> is kept.</summary>
    public static string QuarantineObject(string id, string originalPath) =>
        $"{QuarantineItem(id)}/objects{(originalPath.StartsWith('/') ? originalPath : "/" + originalPath)}";

    /// <summary>The catalog marker of a repository: one flat object per repository, so that the whole index
    /// is one listing (one directory read, or one list-by-prefix on an object store).</summary>
    public static string CatalogRepositoryMarker(string name) => $"{CatalogRepositoriesRoot}/{name.Replace('/', CatalogMarkerSeparator)}";

    /// <summary>The repository name a catalog marker's file name spells (not checked against the name grammar).</summary>
    public static string CatalogMarkerName(string markerFileName) => markerFileName.Replace(CatalogMarkerSeparator, '/');

    // ---- Reading the layout back: what a stored path means ----

    /// <summary>The names Distribution gives a repository's own folders; a folder holding one of them is a repository.</summary>
    public static bool IsRepositoryDataDirName(string name) => name is LayersDirName or ManifestsDirName or UploadsDirName;

    /// <summary>Recovers the digest from a blob data path ".../blobs/&lt;alg&gt;/&lt;xx&gt;/&lt;hex&gt;/data".</summary>
    public static bool TryParseBlobData(string path, out Digest digest)
    {
        digest = default;
        if (!path.StartsWith(BlobsRoot + "/", StringComparison.Ordinal) || !path.EndsWith("/data", StringComparison.Ordinal))
        {
            return false;
        }
        var parts = path[(BlobsRoot.Length + 1)..^"/data".Length].Split('/');
        return parts.Length == 3 && parts[2].StartsWith(parts[1], StringComparison.Ordinal) && parts[1].Length == 2
            && TryParseDigestDirectory(parts[0], parts[2], out digest);
    }

    /// <summary>Says what an object under a repository's <c>_manifests</c> or <c>_layers</c> folder is.
    /// <paramref name="path"/> is a full storage path inside <see cref="Repository"/>(<paramref name="name"/>).</summary>
    public static RepositoryObject ParseRepositoryObject(string name, string path)
    {
        var prefix = Repository(name) + "/";
        if (!path.StartsWith(prefix, StringComparison.Ordinal))
        {
            return new RepositoryObject(RepositoryObjectKind.Other, null, null, null);
        }
        var parts = path[prefix.Length..].Split('/');
        // _layers/<alg>/<hex>/link
        if (parts is [LayersDirName, var la, var lh, "link"])
        {
            return new RepositoryObject(RepositoryObjectKind.LayerLink, null, DigestOrNull(la, lh), la + ":" + lh);
        }
        // _manifests/revisions/<alg>/<hex>/link
        if (parts is [ManifestsDirName, "revisions", var ra, var rh, "link"])
        {
            return new RepositoryObject(RepositoryObjectKind.RevisionLink, null, DigestOrNull(ra, rh), ra + ":" + rh);
        }
        // _manifests/tags/<tag>/current/link
        if (parts is [ManifestsDirName, "tags", var tag, "current", "link"])
        {
            return new RepositoryObject(RepositoryObjectKind.TagCurrentLink, tag, null, null);
        }
        // _manifests/tags/<tag>/index/<alg>/<hex>/link
        if (parts is [ManifestsDirName, "tags", var itag, "index", var ia, var ih, "link"])
        {
            return new RepositoryObject(RepositoryObjectKind.TagIndexLink, itag, DigestOrNull(ia, ih), ia + ":" + ih);
        }
        if (parts is [ManifestsDirName, "tags", var otag, ..])
        {
            return new RepositoryObject(RepositoryObjectKind.OtherInTag, otag, null, null);
        }
        return new RepositoryObject(RepositoryObjectKind.Other, null, null, null);
    }

    private static Digest? DigestOrNull(string algorithm, string hex) =>
        TryParseDigestDirectory(algorithm, hex, out var d) ? d : null;
}

/// <summary>What an object inside a repository folder is, as <see cref="StoragePaths.ParseRepositoryObject"/> reads it.</summary>
public enum RepositoryObjectKind
{
    Other,
    LayerLink,
    RevisionLink,
    TagCurrentLink,
    TagIndexLink,

    /// <summary>Some other object inside a tag folder.</summary>
    OtherInTag,
}

/// <summary>A parsed repository object path. <see cref="PathDigest"/> is the digest the folder names spell,
/// null when they do not spell a valid one (<see cref="PathDigestText"/> then holds what they say).</summary>
public readonly record struct RepositoryObject(RepositoryObjectKind Kind, string? Tag, Digest? PathDigest, string? PathDigestText);

/// <summary>The kinds of object a walk of a repository yields, as <see cref="StoragePaths.TryParseRepositoryObject"/> reads them (used by GC).</summary>
public enum WalkedObjectKind
{
    LayerLink,
    RevisionLink,
    TagCurrentLink,
    TagIndexLink,
    ReferrerLink,

    /// <summary>Any file of an upload session (data, startedat, hash states).</summary>
    UploadObject,
}

/// <summary>A parsed walked object: <see cref="Digest"/> is the digest the path names (for a referrer link,
/// the referrer; <see cref="Subject"/> is its subject).</summary>
public readonly record struct WalkedObject(WalkedObjectKind Kind, string Repository, Digest Digest,
    string? Tag = null, Digest Subject = default, string? UploadId = null);
