namespace Berth.Maintenance.Doctor;

/// <summary>What a checked target turned out to be.</summary>
public enum TargetStatus
{
    /// <summary>Present and pullable.</summary>
    Healthy,

    /// <summary>Present but with error findings.</summary>
    Broken,

    /// <summary>Present, with warnings only.</summary>
    Degraded,

    /// <summary>Not in storage (a 404 is the right answer).</summary>
    NotFound,
}

/// <summary>The outcome for one target of a targeted scan.</summary>
public sealed record TargetResult(DoctorTarget Target, TargetStatus Status, IReadOnlyList<Finding> Findings);

/// <summary>The counts of a scan.</summary>
public sealed record DoctorSummary
{
    public int Errors { get; init; }

    public int Warnings { get; init; }

    public int Info { get; init; }

    public int RepositoriesScanned { get; init; }

    public int TagsScanned { get; init; }

    /// <summary>Repositories with at least one warning or error.</summary>
    public int RepositoriesAffected { get; init; }

    /// <summary>Blob data objects seen in the blob store (full scans only).</summary>
    public long BlobsScanned { get; init; }

    public long UnreferencedBlobs { get; init; }

    public long UnreferencedBytes { get; init; }

    public long StaleUploads { get; init; }

    public long StaleUploadBytes { get; init; }

    /// <summary>Bytes hashed for --verify-content.</summary>
    public long BytesVerified { get; init; }

    /// <summary>Findings by class name, every class present (zero when none).</summary>
    public required IReadOnlyDictionary<string, int> ByClass { get; init; }
}

/// <summary>Everything a scan found. <see cref="Findings"/> is sorted by repository, tag, class and path.</summary>
public sealed record DoctorReport
{
    public required IReadOnlyList<Finding> Findings { get; init; }

    public required DoctorSummary Summary { get; init; }

    public required DoctorScope Scope { get; init; }

    public bool VerifyContent { get; init; }

    public DateTimeOffset StartedAt { get; init; }

    public TimeSpan Duration { get; init; }

    /// <summary>For targeted scans: one result per target, in the order given.</summary>
    public IReadOnlyList<TargetResult> Targets { get; init; } = [];

    /// <summary>The storage driver's name ("filesystem").</summary>
    public string StorageName { get; init; } = "";

    public bool HasErrors => Summary.Errors > 0;

    /// <summary>The findings about one request path (tag, manifest digest or blob); what <c>berth logs --doctor</c> needs.</summary>
    public IEnumerable<Finding> FindingsFor(string repository, string reference) =>
        Findings.Where(f => f.Repository == repository && (f.Tag == reference || (f.Tag is null && f.Digest == reference)));

    internal static DoctorSummary Summarize(IReadOnlyList<Finding> findings, int repositories, int tags, long blobs, long unreferencedBlobs, long unreferencedBytes, long bytesVerified)
    {
        var byClass = FindingClasses.All.ToDictionary(c => c.Name, _ => 0, StringComparer.Ordinal);
        foreach (var f in findings)
        {
            byClass[f.Name]++;
        }
        // Unreferenced blobs beyond the listing cap are counted in the summary, not listed.
        byClass[FindingClass.BlobUnreferenced.Name()] = (int)Math.Min(int.MaxValue, Math.Max(unreferencedBlobs, byClass[FindingClass.BlobUnreferenced.Name()]));
        var stale = findings.Where(f => f.Class == FindingClass.UploadStale).ToList();
        return new DoctorSummary
        {
            Errors = findings.Count(f => f.Severity == FindingSeverity.Error),
            Warnings = findings.Count(f => f.Severity == FindingSeverity.Warning),
            Info = findings.Count(f => f.Severity == FindingSeverity.Info) + (int)Math.Max(0, unreferencedBlobs - findings.Count(f => f.Class == FindingClass.BlobUnreferenced)),
            RepositoriesScanned = repositories,
            TagsScanned = tags,
            RepositoriesAffected = findings.Where(f => f.Severity >= FindingSeverity.Warning && f.Repository is not null).Select(f => f.Repository).Distinct().Count(),
            BlobsScanned = blobs,
            UnreferencedBlobs = unreferencedBlobs,
            UnreferencedBytes = unreferencedBytes,
            StaleUploads = stale.Count,
            StaleUploadBytes = stale.Sum(f => f.Size ?? 0),
            BytesVerified = bytesVerified,
            ByClass = byClass,
        };
    }
}
