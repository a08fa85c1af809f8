namespace Berth.Maintenance.Doctor;

/// <summary>How to scan.</summary>
public sealed record DoctorOptions
{
    public static readonly DoctorOptions Default = new();

    /// <summary>Hash every blob's content and compare with its digest (streamed, in parallel).</summary>
    public bool VerifyContent { get; init; }

    /// <summary>Upload sessions older than this are reported as stale.</summary>
    public TimeSpan UploadMaxAge { get; init; } = TimeSpan.FromHours(24);

    /// <summary>The default <see cref="MaxDegreeOfParallelism"/>: four per processor, at least 16. The scan waits on storage
    /// far more than it computes (a cold page cache, an object store), so it keeps many reads outstanding.</summary>
    public static int DefaultParallelism => Math.Max(16, 4 * Environment.ProcessorCount);

    /// <summary>Repositories (and blob store folders) checked at once. Default: <see cref="DefaultParallelism"/>.</summary>
    public int MaxDegreeOfParallelism { get; init; } = DefaultParallelism;

    /// <summary>At most this many unreferenced blobs are listed one by one; the summary always counts all of them.</summary>
    public int MaxUnreferencedListed { get; init; } = 1000;

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Counters the scan keeps up to date, for a progress display. Optional.</summary>
    public DoctorProgress? Progress { get; init; }
}

/// <summary>Live counters of a running scan. Read from any thread; the scan writes them.</summary>
public sealed class DoctorProgress
{
    private long _repositoriesFound;
    private long _repositoriesScanned;
    private long _tagsScanned;
    private long _blobsChecked;
    private long _bytesVerified;
    private long _findings;
    private volatile string _phase = "starting";

    public long RepositoriesFound => Interlocked.Read(ref _repositoriesFound);

    public long RepositoriesScanned => Interlocked.Read(ref _repositoriesScanned);

    public long TagsScanned => Interlocked.Read(ref _tagsScanned);

    public long BlobsChecked => Interlocked.Read(ref _blobsChecked);

    public long BytesVerified => Interlocked.Read(ref _bytesVerified);

    public long Findings => Interlocked.Read(ref _findings);

    /// <summary>"repositories", "blobs", "done".</summary>
    public string Phase => _phase;

    /// <summary>True once repository discovery has finished, so <see cref="RepositoriesFound"/> is the total.</summary>
    public bool DiscoveryDone { get; internal set; }

    internal void SetPhase(string phase) => _phase = phase;

    internal void RepositoryFound() => Interlocked.Increment(ref _repositoriesFound);

    internal void RepositoryScanned() => Interlocked.Increment(ref _repositoriesScanned);

    internal void TagScanned() => Interlocked.Increment(ref _tagsScanned);

    internal void BlobChecked() => Interlocked.Increment(ref _blobsChecked);

    internal void Verified(long bytes) => Interlocked.Add(ref _bytesVerified, bytes);

    internal void Found() => Interlocked.Increment(ref _findings);
}
