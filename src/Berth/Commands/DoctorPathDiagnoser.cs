using Berth.Logs.Diagnosis;
using Berth.Maintenance.Doctor;
using Berth.Storage;

namespace Berth.Commands;

/// <summary>Bridges <c>berth logs --doctor</c> to the doctor: a targeted scan of exactly the failing
/// manifest paths, answering each path's failure class ("healthy", "not-found", or the first
/// error/warning finding's class).</summary>
internal sealed class DoctorPathDiagnoser(IStorageDriver driver) : IPathDiagnoser
{
    public async Task<IReadOnlyDictionary<string, string>> DiagnoseAsync(IReadOnlyList<string> manifestPaths, CancellationToken cancellationToken)
    {
        var targets = new List<(string Path, DoctorTarget Target)>();
        foreach (var path in manifestPaths)
        {
            if (DoctorTarget.TryParseRequestPath(path, out var target))
            {
                targets.Add((path, target));
            }
        }
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (targets.Count == 0)
        {
            return result;
        }
        var report = await Doctor.ScanAsync(driver, new DoctorScope { Targets = [.. targets.Select(t => t.Target).Distinct()] }, null, cancellationToken).ConfigureAwait(false);
        foreach (var (path, target) in targets)
        {
            if (report.Targets.FirstOrDefault(r => r.Target == target) is not { } outcome)
            {
                continue;
            }
            result[path] = outcome.Status switch
            {
                TargetStatus.Healthy => "healthy",
                TargetStatus.NotFound => "not-found",
                _ => outcome.Findings.OrderByDescending(f => f.Severity).Select(f => f.Name).FirstOrDefault() ?? outcome.Status.ToString().ToLowerInvariant(),
            };
        }
        return result;
    }
}
