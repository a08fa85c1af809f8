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
///     gc/tombstones/&lt;alg&gt;/&lt;hex&gt;                              (Berth) blobs a collection is about to delete
///     gc/journal/&lt;yyyyMMddHH&gt;/&lt;time-sortable id&gt;              (Berth) digests a write is about to rely on
///     gc/runs/&lt;id&gt;                                             (Berth) running collections, with heartbeat
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
    public const string GcRoot = BerthRoot + "/gc";
    public const string GcTombstonesRoot = GcRoot + "/tombstones";
    public const string GcJournalRoot = GcRoot + "/journal";
    public const string GcRunsRoot = GcRoot + "/runs";

    public const string LayersDirName = "_layers";
    public const string ManifestsDirName = "_manifests";
    public const string UploadsDirName = "_uploads";
    public const string ReferrersDirName = "_referrers";

    public static string BlobAlgorithmDirectory(string algorithm) => $"{BlobsRoot}/{algorithm}";

    public static string BlobDirectory(Digest digest) => $"{BlobsRoot}/{digest.Algorithm}/{digest.Hex[..2]}/{digest.Hex}";

    public static string BlobData(Digest digest) => BlobDirectory(digest) + "/data";

    public static string Repository(string name) => $"{RepositoriesRoot}/{name}";

    public static string LayersDirectory(string name) => $"{Repository(name)}/{LayersDirName}";

    public static string LayerLinkDirectory(string name, Digest digest) => $"{LayersDirectory(name)}/{digest.Algorithm}/{digest.Hex}";

    public static string LayerLink(string name, Digest digest) => LayerLinkDirectory(name, digest) + "/link";

    public static string ManifestsDirectory(string name) => $"{Repository(name)}/{ManifestsDirName}";

    public static string RevisionsDirectory(string name) => $"{ManifestsDirectory(name)}/revisions";

    public static string RevisionDirectory(string name, Digest digest) => $"{RevisionsDirectory(name)}/{digest.Algorithm}/{digest.Hex}";

    public static string RevisionLink(string name, Digest digest) => RevisionDirectory(name, digest) + "/link";

    public static string TagsDirectory(string name) => $"{ManifestsDirectory(name)}/tags";

    public static string TagDirectory(string name, string tag) => $"{TagsDirectory(name)}/{tag}";

    public static string TagCurrentLink(string name, string tag) => $"{TagDirectory(name, tag)}/current/link";

    public static string TagIndexDirectory(string name, string tag) => $"{TagDirectory(name, tag)}/index";

    public static string TagIndexLink(string name, string tag, Digest digest) => $"{TagIndexDirectory(name, tag)}/{digest.Algorithm}/{digest.Hex}/link";

    public static string UploadsDirectory(string name) => $"{Repository(name)}/{UploadsDirName}";

    public static string UploadDirectory(string name, string id) => $"{UploadsDirectory(name)}/{id}";

    public static string UploadData(string name, string id) => $"{UploadDirectory(name, id)}/data";

    public static string UploadStartedAt(string name, string id) => $"{UploadDirectory(name, id)}/startedat";

    public static string ReferrersDirectory(string name, Digest subject) => $"{Repository(name)}/{ReferrersDirName}/{subject.Algorithm}/{subject.Hex}";

    public static string ReferrerDirectory(string name, Digest subject, Digest referrer) => $"{ReferrersDirectory(name, subject)}/{referrer.Algorithm}/{referrer.Hex}";

    public static string ReferrerLink(string name, Digest subject, Digest referrer) => ReferrerDirectory(name, subject, referrer) + "/link";

    public static string GcTombstonesDirectory(string algorithm) => $"{GcTombstonesRoot}/{algorithm}";

    public static string GcTombstone(Digest digest) => $"{GcTombstonesDirectory(digest.Algorithm)}/{digest.Hex}";

    public static string GcJournalBucket(string bucket) => $"{GcJournalRoot}/{bucket}";

    public static string GcJournalEntry(string bucket, string id) => $"{GcJournalBucket(bucket)}/{id}";

    public static string GcRun(string id) => $"{GcRunsRoot}/{id}";

    /// <summary>Recognises "blobs/&lt;alg&gt;/&lt;xx&gt;/&lt;hex&gt;/data" (as a walk of <see cref="BlobsRoot"/> yields it).</summary>
    public static bool TryParseBlobData(string path, out Digest digest)
    {
        digest = default;
        if (!path.StartsWith(BlobsRoot + "/", StringComparison.Ordinal))
        {
            return false;
        }
        var parts = path[(BlobsRoot.Length + 1)..].Split('/');
        return parts.Length == 4 && parts[3] == "data" && parts[2].StartsWith(parts[1], StringComparison.Ordinal) && parts[1].Length == 2
            && TryParseDigestDirectory(parts[0], parts[2], out digest);
    }

    /// <summary>
    /// Recognises an object under <see cref="RepositoriesRoot"/> (as a walk yields it): the repository is every
    /// segment before the first one that starts with '_' (names never do). False for anything else.
    /// </summary>
    public static bool TryParseRepositoryObject(string path, out RepositoryObject parsed)
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
                parsed = new RepositoryObject(RepositoryObjectKind.LayerLink, name, layer);
                return true;
            case ManifestsDirName when rest.Length == 4 && rest[0] == "revisions" && rest[3] == "link" && TryParseDigestDirectory(rest[1], rest[2], out var revision):
                parsed = new RepositoryObject(RepositoryObjectKind.RevisionLink, name, revision);
                return true;
            case ManifestsDirName when rest.Length == 4 && rest[0] == "tags" && rest[2] == "current" && rest[3] == "link":
                parsed = new RepositoryObject(RepositoryObjectKind.TagCurrentLink, name, default, Tag: rest[1]);
                return true;
            case ManifestsDirName when rest.Length == 6 && rest[0] == "tags" && rest[2] == "index" && rest[5] == "link" && TryParseDigestDirectory(rest[3], rest[4], out var indexed):
                parsed = new RepositoryObject(RepositoryObjectKind.TagIndexLink, name, indexed, Tag: rest[1]);
                return true;
            case UploadsDirName when rest.Length >= 2:
                parsed = new RepositoryObject(RepositoryObjectKind.UploadObject, name, default, UploadId: rest[0]);
                return true;
            case ReferrersDirName when rest.Length == 5 && rest[4] == "link" && TryParseDigestDirectory(rest[0], rest[1], out var subject)
                && TryParseDigestDirectory(rest[2], rest[3], out var referrer):
                parsed = new RepositoryObject(RepositoryObjectKind.ReferrerLink, name, referrer, Subject: subject);
                return true;
            default:
                return false;
        }
    }

    /// <summary>Recovers a digest from a "&lt;alg&gt;/&lt;hex&gt;/link" or "&lt;alg&gt;/&lt;xx&gt;/&lt;hex&gt;/data" path tail.</summary>
    public static bool TryParseDigestDirectory(string algorithm, string hex, out Digest digest) =>
        Digest.TryParse(algorithm + ":" + hex, out digest);
}

/// <summary>The kinds of object a repository holds.</summary>
public enum RepositoryObjectKind
{
    LayerLink,
    RevisionLink,
    TagCurrentLink,
    TagIndexLink,
    ReferrerLink,

    /// <summary>Any file of an upload session (data, startedat, hash states).</summary>
    UploadObject,
}

/// <summary>A parsed repository object: <see cref="Digest"/> is the digest the path names (for a referrer link,
/// the referrer; <see cref="Subject"/> is its subject).</summary>
public readonly record struct RepositoryObject(RepositoryObjectKind Kind, string Repository, Digest Digest,
    string? Tag = null, Digest Subject = default, string? UploadId = null);
