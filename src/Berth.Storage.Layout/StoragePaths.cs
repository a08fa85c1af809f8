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

    /// <summary>Recovers a digest from a "&lt;alg&gt;/&lt;hex&gt;/link" or "&lt;alg&gt;/&lt;xx&gt;/&lt;hex&gt;/data" path tail.</summary>
    public static bool TryParseDigestDirectory(string algorithm, string hex, out Digest digest) =>
        Digest.TryParse(algorithm + ":" + hex, out digest);
}
