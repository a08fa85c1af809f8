using Berth.Storage.Layout;

namespace Berth.Maintenance.GarbageCollection;

public enum GcSeverity
{
    Warning,
    Error,
}

/// <summary>Something broken the collection met. <see cref="Class"/> uses <c>berth doctor</c>'s names; <see cref="Detail"/>
/// says what it means and what the collection kept because of it.</summary>
public sealed record GcFinding(string Class, GcSeverity Severity, string? Repository, string? Reference, string? Path, string Detail);

/// <summary>Blob data (layer, config or manifest) deleted or to be deleted.</summary>
public sealed record GcBlob(Digest Digest, long Size);

/// <summary>A manifest revision removed from a repository (untagged, with <c>--delete-untagged</c>).</summary>
public sealed record GcManifest(string Repository, Digest Digest);

/// <summary>A link removed from a repository: <see cref="Kind"/> is layer, revision, tag-index or referrer.</summary>
public sealed record GcLink(string Repository, string Kind, Digest Digest, string Path);

/// <summary>A stale upload session.</summary>
public sealed record GcUpload(string Repository, string Id, long Size, DateTimeOffset? StartedAt, DateTimeOffset LastModified);

public sealed record GcSummary
{
    public bool DryRun { get; init; }
    public bool DeleteUntagged { get; init; }
    public TimeSpan Grace { get; init; }
    public TimeSpan UploadAge { get; init; }
    public long Repositories { get; init; }
    public long BlobsScanned { get; init; }
    public long BlobsMarked { get; init; }
    public long Blobs { get; init; }
    public long BlobBytes { get; init; }
    public long Manifests { get; init; }
    public long Links { get; init; }
    public long Uploads { get; init; }
    public long UploadBytes { get; init; }
    public long BytesFreed => BlobBytes + UploadBytes;

    /// <summary>Unmarked blobs kept because their data is younger than the grace period.</summary>
    public long KeptByGrace { get; init; }

    /// <summary>Digests kept because a push in progress announced them (online protocol).</summary>
    public long KeptByJournal { get; init; }

    /// <summary>Repositories whose every link was kept because something in them could not be read.</summary>
    public long RepositoriesKeptWhole { get; init; }

    public long Errors { get; init; }
    public long Warnings { get; init; }
    public TimeSpan Duration { get; init; }
}

/// <summary>What a collection found and deleted (or, in a dry run, would delete). Rendering is <see cref="GcReportWriter"/>'s job.</summary>
public sealed record GcReport(
    IReadOnlyList<GcBlob> Blobs,
    IReadOnlyList<GcManifest> Manifests,
    IReadOnlyList<GcLink> Links,
    IReadOnlyList<GcUpload> Uploads,
    IReadOnlyList<GcFinding> Findings,
    GcSummary Summary)
{
    public bool HasErrors => Findings.Any(f => f.Severity == GcSeverity.Error);
}
