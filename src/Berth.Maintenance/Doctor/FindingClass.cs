using System.Collections.Frozen;

namespace Berth.Maintenance.Doctor;

/// <summary>How bad a finding is. Error: a pull (or a listed tag) fails. Warning: something is wrong but pulls
/// work. Info: housekeeping (garbage collection, abandoned uploads).</summary>
public enum FindingSeverity
{
    Info,
    Warning,
    Error,
}

/// <summary>What <c>berth doctor --repair --yes</c> does about a finding.</summary>
public enum RepairAction
{
    /// <summary>Nothing: the finding is information, or a person has to decide.</summary>
    None,

    /// <summary>Moves the whole tag folder (<c>_manifests/tags/&lt;tag&gt;</c>) to quarantine: the runbook's "delete the tag folder".</summary>
    QuarantineTag,

    /// <summary>Moves one link file to quarantine.</summary>
    QuarantineLink,

    /// <summary>Moves an upload session folder to quarantine.</summary>
    QuarantineUpload,

    /// <summary>Moves corrupt blob data, and the links in the scanned repositories that point at it, to quarantine,
    /// so that a re-push uploads the blob again.</summary>
    QuarantineBlob,
}

/// <summary>
/// The kinds of trouble doctor finds. The string names (<see cref="FindingClasses"/>) are a stable contract:
/// monitors and <c>berth logs --doctor</c> match on them. Add new classes at the end; never rename or reuse one.
/// </summary>
public enum FindingClass
{
    TagLinkMissing,
    TagLinkEmpty,
    TagLinkInvalid,
    TagRevisionMissing,
    ManifestBlobMissing,
    ManifestSizeMismatch,
    ManifestCorrupt,
    ManifestUnparseable,
    ManifestUnsupported,
    LayerMissing,
    LayerUnlinked,
    LayerSizeMismatch,
    LayerCorrupt,
    ChildManifestMissing,
    ChildManifestUnlinked,
    SubjectMissing,
    TagIndexInvalid,
    TagIndexDangling,
    RevisionLinkInvalid,
    RevisionLinkDangling,
    LayerLinkInvalid,
    LayerLinkDangling,
    BlobCorrupt,
    UploadStale,
    BlobUnreferenced,
}

/// <summary>One row of the class table.</summary>
/// <param name="Name">The stable name ("tag-link-empty").</param>
/// <param name="FailureMode">Which failure mode of the registry runbook this is, or what else it is.</param>
/// <param name="Summary">What is wrong, in one line.</param>
/// <param name="Fix">What to do about it, in one line.</param>
public sealed record FindingClassInfo(FindingClass Class, string Name, FindingSeverity Severity, RepairAction Repair, string FailureMode, string Summary, string Fix);

/// <summary>The one table of finding classes: name, severity, repair, runbook failure mode, explanation and fix.</summary>
public static class FindingClasses
{
    public const string RunbookMode1 = "runbook 1: tag links reference layers missing from _layers";
    public const string RunbookMode2 = "runbook 2: empty current/link";
    public const string RunbookInvalidDigest = "runbook: \"invalid checksum digest format\" (garbage in a link)";
    public const string HalfDeleted = "other: half-deleted or half-written tag";
    public const string MissingContent = "other: content missing from the blob store";
    public const string CorruptContent = "other: corrupt content";
    public const string Leftover = "other: leftover after deletes or garbage collection";
    public const string Housekeeping = "other: housekeeping";

    private const string RepushOrRemove = "re-push the tag, or remove it (berth doctor --repair --yes moves the tag folder to quarantine)";
    private const string RemoveLink = "remove the link (berth doctor --repair --yes moves it to quarantine); re-push an image that needs it";

    /// <summary>Every class, in enum order.</summary>
    public static readonly IReadOnlyList<FindingClassInfo> All =
    [
        new(FindingClass.TagLinkMissing, "tag-link-missing", FindingSeverity.Error, RepairAction.QuarantineTag, HalfDeleted,
            "the tag folder has no current/link: the tag is listed but cannot be pulled", RepushOrRemove),
        new(FindingClass.TagLinkEmpty, "tag-link-empty", FindingSeverity.Error, RepairAction.QuarantineTag, RunbookMode2,
            "current/link is empty: pulls fail with 500 \"invalid checksum digest format\"", RepushOrRemove),
        new(FindingClass.TagLinkInvalid, "tag-link-invalid", FindingSeverity.Error, RepairAction.QuarantineTag, RunbookInvalidDigest,
            "current/link does not hold a well-formed digest: pulls fail with 500", RepushOrRemove),
        new(FindingClass.TagRevisionMissing, "tag-revision-missing", FindingSeverity.Error, RepairAction.QuarantineTag, HalfDeleted,
            "the tag points at a digest with no usable revision link in the repository: pulls fail", RepushOrRemove),
        new(FindingClass.ManifestBlobMissing, "manifest-blob-missing", FindingSeverity.Error, RepairAction.QuarantineTag, MissingContent,
            "the manifest's blob data is missing: pulls fail", RepushOrRemove),
        new(FindingClass.ManifestSizeMismatch, "manifest-size-mismatch", FindingSeverity.Error, RepairAction.QuarantineTag, CorruptContent,
            "the manifest's blob data is empty or not the size its index says: pulls fail", RepushOrRemove),
        new(FindingClass.ManifestCorrupt, "manifest-corrupt", FindingSeverity.Error, RepairAction.QuarantineTag, CorruptContent,
            "the manifest's blob data does not hash to its digest: clients reject it", RepushOrRemove),
        new(FindingClass.ManifestUnparseable, "manifest-unparseable", FindingSeverity.Error, RepairAction.QuarantineTag, CorruptContent,
            "the manifest does not parse as an image manifest or index of a known media type", RepushOrRemove),
        new(FindingClass.ManifestUnsupported, "manifest-unsupported", FindingSeverity.Warning, RepairAction.None, Housekeeping,
            "a Docker schema1 manifest: Distribution still serves it, Berth does not", "re-push the image with a current client (Docker schema2 or OCI)"),
        new(FindingClass.LayerMissing, "layer-missing", FindingSeverity.Error, RepairAction.QuarantineTag, RunbookMode1,
            "a blob the manifest needs (config or layer) has no data in the blob store: pulls fail", RepushOrRemove),
        new(FindingClass.LayerUnlinked, "layer-unlinked", FindingSeverity.Error, RepairAction.QuarantineTag, RunbookMode1,
            "a blob the manifest needs exists but is not linked in the repository's _layers: pulls fail with 404", RepushOrRemove),
        new(FindingClass.LayerSizeMismatch, "layer-size-mismatch", FindingSeverity.Error, RepairAction.QuarantineTag, CorruptContent,
            "a blob the manifest needs is not the size the manifest says: clients reject it", RepushOrRemove),
        new(FindingClass.LayerCorrupt, "layer-corrupt", FindingSeverity.Error, RepairAction.QuarantineTag, CorruptContent,
            "a blob the manifest needs does not hash to its digest (--verify-content): clients reject it",
            "quarantine the corrupt blob and re-push the tag, or remove the tag (berth doctor --verify-content --repair --yes does both moves)"),
        new(FindingClass.ChildManifestMissing, "child-manifest-missing", FindingSeverity.Error, RepairAction.QuarantineTag, MissingContent,
            "a manifest the index lists has no data in the blob store: pulls of that platform fail", RepushOrRemove),
        new(FindingClass.ChildManifestUnlinked, "child-manifest-unlinked", FindingSeverity.Error, RepairAction.QuarantineTag, RunbookMode1,
            "a manifest the index lists is not linked in the repository's _manifests/revisions: pulls of that platform fail", RepushOrRemove),
        new(FindingClass.SubjectMissing, "subject-missing", FindingSeverity.Warning, RepairAction.None, Housekeeping,
            "the manifest's subject is not in the repository (OCI allows pushing referrers before their subject)",
            "none needed if the subject is still to come; push the subject, or delete the referrer if it is stale"),
        new(FindingClass.TagIndexInvalid, "tag-index-invalid", FindingSeverity.Warning, RepairAction.QuarantineLink, RunbookInvalidDigest,
            "a tag history (index) link is empty or holds garbage; pulls do not read it", RemoveLink),
        new(FindingClass.TagIndexDangling, "tag-index-dangling", FindingSeverity.Warning, RepairAction.QuarantineLink, Leftover,
            "a tag history (index) link points at blob data that does not exist; pulls do not read it", RemoveLink),
        new(FindingClass.RevisionLinkInvalid, "revision-link-invalid", FindingSeverity.Error, RepairAction.QuarantineLink, RunbookInvalidDigest,
            "a revision link is empty, holds garbage or names another digest: pulls by digest fail with 500", RemoveLink),
        new(FindingClass.RevisionLinkDangling, "revision-link-dangling", FindingSeverity.Warning, RepairAction.QuarantineLink, Leftover,
            "a revision link points at blob data that does not exist: pulls by digest get 404, and Distribution's garbage-collect stops on it", RemoveLink),
        new(FindingClass.LayerLinkInvalid, "layer-link-invalid", FindingSeverity.Error, RepairAction.QuarantineLink, RunbookInvalidDigest,
            "a _layers link is empty, holds garbage or names another digest: fetching that blob fails with 500", RemoveLink),
        new(FindingClass.LayerLinkDangling, "layer-link-dangling", FindingSeverity.Warning, RepairAction.QuarantineLink, Leftover,
            "a _layers link points at blob data that does not exist (typical after garbage collection)", RemoveLink),
        new(FindingClass.BlobCorrupt, "blob-corrupt", FindingSeverity.Error, RepairAction.QuarantineBlob, CorruptContent,
            "blob data does not hash to its digest", "quarantine it (berth doctor --verify-content --repair --yes), then re-push the images that use it"),
        new(FindingClass.UploadStale, "upload-stale", FindingSeverity.Info, RepairAction.QuarantineUpload, Housekeeping,
            "an upload session older than the threshold (--upload-age): an abandoned push", "remove it (berth doctor --repair --yes moves it to quarantine); a client restarts its upload"),
        new(FindingClass.BlobUnreferenced, "blob-unreferenced", FindingSeverity.Info, RepairAction.None, Housekeeping,
            "blob data that no manifest references", "garbage collection removes it (docker-registry garbage-collect CONFIG, or berth gc)"),
    ];

    private static readonly FrozenDictionary<string, FindingClassInfo> ByName = All.ToFrozenDictionary(c => c.Name, StringComparer.Ordinal);

    public static FindingClassInfo Info(this FindingClass c) => All[(int)c];

    public static string Name(this FindingClass c) => All[(int)c].Name;

    public static FindingSeverity Severity(this FindingClass c) => All[(int)c].Severity;

    public static bool TryParse(string name, out FindingClass c)
    {
        if (ByName.TryGetValue(name, out var info))
        {
            c = info.Class;
            return true;
        }
        c = default;
        return false;
    }

    public static string Name(this FindingSeverity s) => s switch
    {
        FindingSeverity.Error => "error",
        FindingSeverity.Warning => "warning",
        _ => "info",
    };
}
