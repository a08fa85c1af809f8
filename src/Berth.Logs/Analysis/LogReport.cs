using Berth.Logs.Parsing;

namespace Berth.Logs.Analysis;

/// <summary>The answer of <c>berth logs</c>: plain data, rendered by <see cref="Reporting.LogReportJson"/> and <see cref="Reporting.LogReportText"/>.</summary>
public sealed record LogReport
{
    public required LogQuery Query { get; init; }

    public required IReadOnlyList<InputSummary> Inputs { get; init; }

    public required LineCounts Lines { get; init; }

    /// <summary>Request lines counted (after de-duplication and the time range), all statuses.</summary>
    public required long Requests { get; init; }

    /// <summary>Requests matching the status and method filters.</summary>
    public required long Matched { get; init; }

    /// <summary>Distinct paths among the matched requests.</summary>
    public required long DistinctPaths { get; init; }

    /// <summary>The top paths by count among the matched requests (ties: path order).</summary>
    public required IReadOnlyList<TopPath> Top { get; init; }

    /// <summary>Requests by status, all statuses, ascending; -1 is HAProxy's "no status".</summary>
    public required IReadOnlyList<KeyValuePair<int, long>> Statuses { get; init; }

    /// <summary>Requests by minute or hour; empty unless asked for.</summary>
    public required IReadOnlyList<TimeBucket> ByTime { get; init; }

    /// <summary>Error classes from JSON lines (error level, or lines containing the <c>--grep</c> text).</summary>
    public required IReadOnlyList<ErrorClass> Errors { get; init; }

    /// <summary>Every matched <c>/v2/&lt;name&gt;/manifests/&lt;ref&gt;</c> path, most frequent first (for <c>berth doctor --paths</c>).</summary>
    public required IReadOnlyList<string> FailingManifestPaths { get; init; }

    public required TimeSpan Elapsed { get; init; }

    /// <summary>True when an input could not be read to its end (the report covers what was read).</summary>
    public bool Incomplete => Inputs.Any(i => i.Error is not null);
}

/// <summary>One request path of the top list.</summary>
/// <param name="Path">The path as logged, query string removed.</param>
/// <param name="Statuses">Matched requests of this path by status, most frequent first.</param>
/// <param name="Methods">Matched requests of this path by method, most frequent first.</param>
public sealed record TopPath(
    string Path,
    long Count,
    RegistryPathKind Kind,
    string? Repository,
    string? Reference,
    IReadOnlyList<KeyValuePair<int, long>> Statuses,
    IReadOnlyList<KeyValuePair<string, long>> Methods)
{
    /// <summary>The failure class a <see cref="Diagnosis.IPathDiagnoser"/> gave this path; null when none ran.</summary>
    public string? Diagnosis { get; init; }
}

/// <summary>What the lines of all inputs were.</summary>
/// <param name="Total">Every line read.</param>
/// <param name="Requests">Access-log lines and JSON request records counted (inside the time range, after de-duplication).</param>
/// <param name="Events">JSON lines that are not request records (application logs).</param>
/// <param name="Notices">HAProxy's own notices (server DOWN/UP, proxy start/stop).</param>
/// <param name="Unparsed">Lines in no known format.</param>
/// <param name="OutsideRange">Lines outside <c>--since</c>/<c>--until</c>.</param>
/// <param name="NoTime">Lines whose time could not be read while a time range or <c>--by</c> was asked.</param>
/// <param name="Duplicates">Combined-format access lines left out because the same input also has JSON request records for the same requests (docker-registry writes both).</param>
public sealed record LineCounts(
    long Total,
    long Blank,
    long Requests,
    long Events,
    long Notices,
    long Unparsed,
    long OutsideRange,
    long NoTime,
    long Duplicates,
    long HAProxy,
    long Combined,
    long Json);

/// <summary>One input file or stream.</summary>
public sealed record InputSummary(
    string Name,
    bool Compressed,
    long Lines,
    long Requests,
    long Unparsed,
    IReadOnlyList<string> UnparsedSamples,
    string? Error);

/// <summary>Requests in one minute or hour (UTC; HAProxy's zone-less dates are taken as UTC).</summary>
/// <param name="ByClass">Index 0: no status (-1); 1..5: 1xx..5xx.</param>
public sealed record TimeBucket(DateTime Start, long Total, long Matched, IReadOnlyList<long> ByClass);

/// <summary>One class of error message, and the repositories it happened in (most first).</summary>
public sealed record ErrorClass(string Class, long Count, string Sample, IReadOnlyList<KeyValuePair<string, long>> Repositories);
