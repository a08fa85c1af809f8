using Berth.Core.Gc;

namespace Berth.Maintenance.GarbageCollection;

/// <summary>What a collection does. The defaults are the safe ones: a dry run that keeps untagged manifests.</summary>
public sealed record GcOptions
{
    /// <summary>Plan and report only; nothing is written or deleted.</summary>
    public bool DryRun { get; init; } = true;

    /// <summary>Also delete manifests no tag reaches (through indexes and referrers), with their links.</summary>
    public bool DeleteUntagged { get; init; }

    /// <summary>Blob data modified more recently than this is never deleted (nor a manifest whose data it is).</summary>
    public TimeSpan Grace { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Upload sessions untouched for this long are deleted.</summary>
    public TimeSpan UploadAge { get; init; } = TimeSpan.FromHours(24);

    /// <summary>Storage calls in flight at once.</summary>
    public int Concurrency { get; init; } = 32;

    /// <summary>How storage is scanned: true lists directories (cheap on a filesystem: one read per repository part),
    /// false walks by prefix (cheap on an object store: a thousand keys a request). Null picks listing for drivers
    /// that keep objects as local files; pass false for an object store behind a decorator that forwards
    /// <see cref="Berth.Storage.ILocalFileAccess"/>.</summary>
    public bool? ListDirectories { get; init; }

    /// <summary>The online protocol's limits; must match the registries' (only tests change them).</summary>
    public GcTimings Timings { get; init; } = GcProtocol.Timings;
}

/// <summary>Where a collection is: <see cref="Phase"/> with <see cref="Done"/> of <see cref="Total"/> (null when unknown yet).</summary>
public sealed record GcProgress(string Phase, long Done, long? Total);

/// <summary>The collection could not run (exit status 2); nothing was deleted unless the message says so.</summary>
public sealed class GcAbortedException(string message, Exception? inner = null) : Exception(message, inner);
