namespace Berth.Maintenance.Doctor;

/// <summary>One thing doctor found. Findings are data; rendering and repair are separate steps.</summary>
/// <param name="Repository">The repository, or null for blobs that belong to no repository.</param>
/// <param name="Tag">The tag, when the finding is about one.</param>
/// <param name="Digest">The digest of the object at fault (link target, blob, manifest), when there is one.</param>
/// <param name="Path">The storage path of the object at fault (or, for something missing, where it should be).</param>
/// <param name="Explanation">One line saying what exactly is wrong here.</param>
/// <param name="Size">Bytes involved, for unreferenced blobs and stale uploads.</param>
public sealed record Finding(
    FindingClass Class,
    string? Repository,
    string? Tag,
    string? Digest,
    string Path,
    string Explanation,
    long? Size = null)
{
    public string Name => Class.Name();

    public FindingSeverity Severity => Class.Severity();

    public string FailureMode => Class.Info().FailureMode;

    /// <summary>Other objects the finding involves; for blob-corrupt, the links in the scanned repositories that point at the blob.</summary>
    public IReadOnlyList<string> RelatedPaths { get; init; } = [];

    /// <summary>The quarantine item that holds what repair moved for this finding, after <c>--repair --yes</c>.</summary>
    public string? QuarantineId { get; init; }

    /// <summary>The suggested fix, naming the tag when there is one.</summary>
    public string Fix
    {
        get
        {
            var fix = Class.Info().Fix;
            return Repository is not null && Tag is not null && Class.Info().Repair == RepairAction.QuarantineTag
                ? $"{Repository}:{Tag}: {fix}"
                : fix;
        }
    }
}
