using Berth.Core.Instances;
using Berth.Maintenance.Doctor.Repair;
using Berth.Storage;
using Berth.Storage.Layout;

namespace Berth.Maintenance.Doctor;

/// <summary>How to repair.</summary>
public sealed record RepairOptions
{
    /// <summary>Only plan (the default): nothing is changed.</summary>
    public bool DryRun { get; init; } = true;

    /// <summary>Repair even though a Berth instance reports the storage as live.</summary>
    public bool Force { get; init; }

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>A heartbeat younger than this means the instance is live.</summary>
    public TimeSpan StaleAfter { get; init; } = InstanceHeartbeat.DefaultStaleAfter;
}

/// <summary>
/// <c>berth doctor</c> as a library: scan storage in Distribution's layout, plan a repair, carry it out through a
/// quarantine that loses nothing, restore. Everything goes through <see cref="IStorageDriver"/>, so it works the
/// same on a filesystem and on an object store. <c>berth logs --doctor</c> calls <see cref="ScanAsync"/> with
/// a <see cref="DoctorScope"/> of request paths and reads <see cref="DoctorReport.Targets"/>.
/// </summary>
public static class Doctor
{
    /// <summary>Scans (read-only) and returns the findings.</summary>
    public static Task<DoctorReport> ScanAsync(IStorageDriver driver, DoctorScope? scope = null, DoctorOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(driver);
        return new DoctorScanner(driver, scope ?? DoctorScope.All, options ?? DoctorOptions.Default).RunAsync(cancellationToken);
    }

    /// <summary>What a repair of <paramref name="report"/> would move. Reads nothing.</summary>
    public static RepairPlan PlanRepair(DoctorReport report) => RepairPlanner.Plan(report);

    /// <summary>Plans and (unless <see cref="RepairOptions.DryRun"/>) carries out the repair. Each item is checked again
    /// just before it is moved, and skipped if it has become healthy (a re-push) or gone.
    /// Throws <see cref="StorageLiveException"/> when a live Berth instance serves the storage and <see cref="RepairOptions.Force"/> is off.</summary>
    public static async Task<RepairResult> RepairAsync(IStorageDriver driver, DoctorReport report, RepairOptions options, CancellationToken cancellationToken = default)
    {
        var plan = RepairPlanner.Plan(report);
        if (options.DryRun)
        {
            return new RepairResult([.. plan.Items.Select(i => new RepairOutcome(i, RepairStatus.Planned, null, i.Describe()))], report, DryRun: true, report.Summary.Errors);
        }
        if (plan.Items.Count > 0)
        {
            await EnsureNotLiveAsync(driver, options, cancellationToken).ConfigureAwait(false);
        }
        var outcomes = new List<RepairOutcome>();
        foreach (var item in plan.Items)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var reason = await WhyNotBrokenAsync(driver, item, report.VerifyContent, cancellationToken).ConfigureAwait(false);
            if (reason is not null)
            {
                outcomes.Add(new RepairOutcome(item, RepairStatus.Skipped, null, reason));
                continue;
            }
            try
            {
                var journal = await Quarantine.MoveInAsync(driver, item, options.TimeProvider, cancellationToken).ConfigureAwait(false);
                outcomes.Add(new RepairOutcome(item, RepairStatus.Quarantined, journal.Id, $"{item.Describe()}: {journal.Objects.Count} object(s), {DoctorScanner.Bytes(journal.Bytes)}"));
            }
            catch (Exception e) when (e is QuarantineException or StorageException or IOException)
            {
                outcomes.Add(new RepairOutcome(item, RepairStatus.Failed, null, $"{item.Describe()}: {e.Message}"));
            }
        }
        var idByTarget = outcomes.Where(o => o.QuarantineId is not null).ToDictionary(o => o.Item.Target, o => o.QuarantineId!, StringComparer.Ordinal);
        var findings = report.Findings.Select((f, i) =>
            plan.ItemByFinding.TryGetValue(i, out var item) && idByTarget.TryGetValue(item.Target, out var id) ? f with { QuarantineId = id } : f).ToList();
        var resolved = outcomes.Where(o => o.Status is RepairStatus.Quarantined or RepairStatus.Skipped).Select(o => o.Item.Target).ToHashSet(StringComparer.Ordinal);
        var unresolved = report.Findings.Where((f, i) => f.Severity == FindingSeverity.Error
            && !(plan.ItemByFinding.TryGetValue(i, out var item) && resolved.Contains(item.Target))).Count();
        return new RepairResult(outcomes, report with { Findings = findings }, DryRun: false, unresolved);
    }

    /// <summary>Puts quarantine item <paramref name="id"/> back byte for byte and removes it from the quarantine.</summary>
    public static async Task<QuarantineJournal> RestoreAsync(IStorageDriver driver, string id, RepairOptions? options = null, CancellationToken cancellationToken = default)
    {
        await EnsureNotLiveAsync(driver, options ?? new RepairOptions(), cancellationToken).ConfigureAwait(false);
        return await Quarantine.RestoreAsync(driver, id, cancellationToken).ConfigureAwait(false);
    }

    public static Task<IReadOnlyList<QuarantineJournal>> ListQuarantineAsync(IStorageDriver driver, CancellationToken cancellationToken = default) =>
        Quarantine.ListAsync(driver, cancellationToken);

    /// <summary>Throws <see cref="StorageLiveException"/> when a Berth instance heartbeats on this storage (unless forced).</summary>
    public static async Task EnsureNotLiveAsync(IStorageDriver driver, RepairOptions options, CancellationToken cancellationToken = default)
    {
        if (options.Force)
        {
            return;
        }
        var live = await InstanceHeartbeat.ListLiveAsync(driver, options.TimeProvider.GetUtcNow(), options.StaleAfter, cancellationToken).ConfigureAwait(false);
        if (live.Count > 0)
        {
            var who = string.Join("; ", live.Select(i => i.Unreadable
                ? $"instance {i.InstanceId} (unreadable heartbeat, written {i.HeartbeatAt:u})"
                : $"instance {i.InstanceId} (pid {i.Pid} on {i.Hostname}, listening on {i.Listen}, heartbeat {i.HeartbeatAt:u})"));
            throw new StorageLiveException($"storage is live: {who}. Stop the server first, or pass --force if you are sure.");
        }
    }

    /// <summary>Null when the item is still broken; otherwise why it needs no move any more.</summary>
    private static async Task<string?> WhyNotBrokenAsync(IStorageDriver driver, RepairItem item, bool verifyContent, CancellationToken cancellationToken)
    {
        switch (item.Action)
        {
            case RepairAction.QuarantineTag:
            {
                var scope = new DoctorScope { Targets = [new DoctorTarget(item.Repository!, DoctorTargetKind.Tag, item.Tag!)] };
                var again = await ScanAsync(driver, scope, new DoctorOptions { VerifyContent = verifyContent, MaxDegreeOfParallelism = 1 }, cancellationToken).ConfigureAwait(false);
                return again.Targets[0].Status switch
                {
                    TargetStatus.NotFound => "the tag is gone",
                    TargetStatus.Broken => null,
                    _ => "the tag is healthy now (re-pushed?)",
                };
            }
            case RepairAction.QuarantineLink:
            {
                var link = await LinkFile.ReadAsync(driver, item.Root, cancellationToken).ConfigureAwait(false);
                if (link.Status == LinkFile.Status.Missing)
                {
                    return "the link is gone";
                }
                var o = StoragePaths.ParseRepositoryObject(item.Repository ?? "", item.Root);
                return link.IsOk && o.PathDigest == link.Digest && await driver.ExistsAsync(StoragePaths.BlobData(link.Digest), cancellationToken).ConfigureAwait(false)
                    ? "the link is healthy now"
                    : null;
            }
            case RepairAction.QuarantineUpload:
                await foreach (var _ in driver.WalkAsync(item.Root, cancellationToken).ConfigureAwait(false))
                {
                    return null;
                }
                return "the upload is gone";
            case RepairAction.QuarantineBlob:
            {
                if (!Digest.TryParse(item.Digest, out var digest))
                {
                    return "no digest";
                }
                Stream input;
                try
                {
                    input = await driver.OpenReadAsync(item.Root, 0, cancellationToken).ConfigureAwait(false);
                }
                catch (PathNotFoundException)
                {
                    return "the blob is gone";
                }
                await using (input.ConfigureAwait(false))
                {
                    using var hash = digest.CreateHash();
                    var buffer = new byte[64 * 1024];
                    int n;
                    while ((n = await input.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                    {
                        hash.AppendData(buffer, 0, n);
                    }
                    // Never move blob data that is intact: a healthy manifest may need it.
                    return Digest.FromHash(digest.Algorithm, hash.GetHashAndReset()) == digest ? "the blob is intact now" : null;
                }
            }
            default:
                return "nothing to do";
        }
    }
}
