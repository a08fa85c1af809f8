using Berth.Logs.Analysis;
using Berth.Logs.Parsing;

namespace Berth.Logs.Diagnosis;

/// <summary>
/// Extension point for <c>berth logs --doctor --data DIR</c> (not wired here): something that looks at
/// the registry storage behind the failing manifest paths and names each one's failure class, e.g.
/// <c>tag-link-empty</c>, <c>layer-missing</c>, <c>healthy</c>. The doctor in Berth.Maintenance is
/// expected to implement it; <see cref="PathDiagnosis.AttachAsync"/> puts its answers beside the counts.
/// </summary>
public interface IPathDiagnoser
{
    /// <summary>
    /// Diagnoses <paramref name="manifestPaths"/> (each <c>/v2/&lt;name&gt;/manifests/&lt;reference&gt;</c>,
    /// as <c>--paths-out</c> writes them). Returns a failure class per path; paths left out of the
    /// answer are shown without one.
    /// </summary>
    Task<IReadOnlyDictionary<string, string>> DiagnoseAsync(IReadOnlyList<string> manifestPaths, CancellationToken cancellationToken);
}

public static class PathDiagnosis
{
    /// <summary>
    /// Runs <paramref name="diagnoser"/> on the report's manifest paths (the top list's and all of
    /// <see cref="LogReport.FailingManifestPaths"/>) and returns the report with
    /// <see cref="TopPath.Diagnosis"/> filled in. Text and JSON output show it when present.
    /// </summary>
    public static async Task<LogReport> AttachAsync(LogReport report, IPathDiagnoser diagnoser, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(diagnoser);
        var paths = report.FailingManifestPaths;
        if (paths.Count == 0)
        {
            return report;
        }

        var classes = await diagnoser.DiagnoseAsync(paths, cancellationToken).ConfigureAwait(false);
        var top = report.Top
            .Select(t => t.Kind == RegistryPathKind.Manifest && classes.TryGetValue(t.Path, out var c) ? t with { Diagnosis = c } : t)
            .ToArray();
        return report with { Top = top };
    }
}
