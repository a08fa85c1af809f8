using Berth.Storage;
using Berth.Storage.Layout;

namespace Berth.Maintenance.Doctor.Repair;

/// <summary>One thing repair moves to quarantine: a tag folder, a link, an upload folder or corrupt blob data
/// (with the links that point at it).</summary>
/// <param name="Root">The folder or object moved.</param>
/// <param name="ExtraPaths">Further objects moved with it (for corrupt blobs: the links pointing at them).</param>
public sealed record RepairItem(
    RepairAction Action,
    FindingClass Class,
    IReadOnlyList<FindingClass> Classes,
    string? Repository,
    string? Tag,
    string? Digest,
    string Root,
    IReadOnlyList<string> ExtraPaths,
    string Explanation)
{
    /// <summary>Identifies the item across runs: the action and what it moves.</summary>
    public string Target => $"{ActionName(Action)}:{Root}";

    public string Describe() => Action switch
    {
        RepairAction.QuarantineTag => $"move tag folder {Repository}:{Tag} ({string.Join(", ", Classes.Select(c => c.Name()))})",
        RepairAction.QuarantineUpload => $"move upload {StoragePath.FileName(Root)} of {Repository}",
        RepairAction.QuarantineBlob => $"move corrupt blob {Digest}" + (ExtraPaths.Count > 0 ? $" and {ExtraPaths.Count} link(s) to it" : ""),
        _ => $"move {Class.Name()} link {Root}",
    };

    public static string ActionName(RepairAction action) => action switch
    {
        RepairAction.QuarantineTag => "quarantine-tag",
        RepairAction.QuarantineLink => "quarantine-link",
        RepairAction.QuarantineUpload => "quarantine-upload",
        RepairAction.QuarantineBlob => "quarantine-blob",
        _ => "none",
    };
}

/// <summary>The plan: items in execution order, and for each finding (by index in the report) the item that repairs it.</summary>
public sealed record RepairPlan(IReadOnlyList<RepairItem> Items, IReadOnlyDictionary<int, RepairItem> ItemByFinding)
{
    public bool IsEmpty => Items.Count == 0;
}

/// <summary>What happened to one item.</summary>
public enum RepairStatus
{
    Planned,
    Quarantined,
    Skipped,
    Failed,
}

public sealed record RepairOutcome(RepairItem Item, RepairStatus Status, string? QuarantineId, string Message);

/// <summary>The result of carrying out a plan. <see cref="Report"/> is the scan's report with quarantine ids filled in.
/// <see cref="UnresolvedErrors"/> counts the error findings that are neither in the quarantine nor found healthy
/// again just before their move (after a dry run: all error findings).</summary>
public sealed record RepairResult(IReadOnlyList<RepairOutcome> Outcomes, DoctorReport Report, bool DryRun, int UnresolvedErrors)
{
    public bool AllDone => Outcomes.All(o => o.Status is RepairStatus.Quarantined or RepairStatus.Skipped);
}

/// <summary>Thrown when a live Berth instance serves the storage and repair was not forced.</summary>
public sealed class StorageLiveException(string message) : Exception(message);

/// <summary>Turns findings into a plan. Pure: reads nothing.</summary>
public static class RepairPlanner
{
    public static RepairPlan Plan(DoctorReport report)
    {
        var items = new Dictionary<string, RepairItem>(StringComparer.Ordinal);
        var byFinding = new Dictionary<int, string>();
        var findings = report.Findings;

        // 1. Broken tags: the whole tag folder.
        var tagFolders = new List<string>();
        for (var i = 0; i < findings.Count; i++)
        {
            var f = findings[i];
            if (f.Class.Info().Repair != RepairAction.QuarantineTag || f.Repository is null)
            {
                continue;
            }
            if (f.Tag is null)
            {
                // A manifest reached by digest (/v2/<name>/manifests/<digest>): reported, not repaired; no tag to move.
                continue;
            }
            var root = StoragePaths.TagDirectory(f.Repository, f.Tag);
            Add(items, byFinding, i, new RepairItem(RepairAction.QuarantineTag, f.Class, [f.Class], f.Repository, f.Tag, null, root, [], f.Explanation));
            tagFolders.Add(root + "/");
        }

        bool UnderTag(string path) => tagFolders.Any(t => path.StartsWith(t, StringComparison.Ordinal));

        // 2. Links and uploads, unless a tag folder move takes them already.
        for (var i = 0; i < findings.Count; i++)
        {
            var f = findings[i];
            var action = f.Class.Info().Repair;
            if (action is not (RepairAction.QuarantineLink or RepairAction.QuarantineUpload))
            {
                continue;
            }
            if (UnderTag(f.Path))
            {
                var tagRoot = tagFolders.First(t => f.Path.StartsWith(t, StringComparison.Ordinal));
                byFinding[i] = $"{RepairItem.ActionName(RepairAction.QuarantineTag)}:{tagRoot[..^1]}";
                continue;
            }
            Add(items, byFinding, i, new RepairItem(action, f.Class, [f.Class], f.Repository, f.Tag, f.Digest, f.Path, [], f.Explanation));
        }

        // 3. Corrupt blobs, with the links that point at them (those not moved by another item).
        var moved = new HashSet<string>(items.Values.Select(x => x.Root), StringComparer.Ordinal);
        for (var i = 0; i < findings.Count; i++)
        {
            var f = findings[i];
            if (f.Class != FindingClass.BlobCorrupt)
            {
                continue;
            }
            var extras = f.RelatedPaths.Where(p => !UnderTag(p) && !moved.Contains(p)).ToList();
            Add(items, byFinding, i, new RepairItem(RepairAction.QuarantineBlob, f.Class, [f.Class], null, null, f.Digest, f.Path, extras, f.Explanation));
        }

        var ordered = items.Values
            .OrderBy(x => x.Action switch { RepairAction.QuarantineTag => 0, RepairAction.QuarantineLink => 1, RepairAction.QuarantineBlob => 2, _ => 3 })
            .ThenBy(x => x.Root, StringComparer.Ordinal)
            .ToList();
        var mapping = byFinding.Where(kv => items.ContainsKey(kv.Value)).ToDictionary(kv => kv.Key, kv => items[kv.Value]);
        return new RepairPlan(ordered, mapping);
    }

    private static void Add(Dictionary<string, RepairItem> items, Dictionary<int, string> byFinding, int finding, RepairItem item)
    {
        if (items.TryGetValue(item.Target, out var existing))
        {
            if (!existing.Classes.Contains(item.Class))
            {
                items[item.Target] = existing with { Classes = [.. existing.Classes, item.Class] };
            }
        }
        else
        {
            items[item.Target] = item;
        }
        byFinding[finding] = item.Target;
    }
}
