using Berth.Storage;
using Berth.Storage.Layout;

namespace Berth.Core.Gc;

/// <summary>The run records of deleting collections (berth/gc/runs/&lt;id&gt;, the id stamped with the run's start,
/// refreshed every <see cref="GcTimings.RunHeartbeat"/>): read by a starting collection (to back off) and by the
/// registry's journal pruning (to keep what a live run may read).</summary>
public static class GcRuns
{
    /// <summary>Every run record, with its last heartbeat as <see cref="StorageEntry.ModifiedAt"/>. Listed, then
    /// stat'ed one by one: a record that vanishes in between (its collection ended) is left out.</summary>
    public static async Task<List<StorageEntry>> ListAsync(IStorageDriver driver, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<string> paths;
        try
        {
            paths = await driver.ListAsync(StoragePaths.GcRunsRoot, cancellationToken).ConfigureAwait(false);
        }
        catch (PathNotFoundException)
        {
            return [];
        }
        var records = new List<StorageEntry>(paths.Count);
        foreach (var path in paths)
        {
            try
            {
                records.Add(await driver.StatAsync(path, cancellationToken).ConfigureAwait(false));
            }
            catch (PathNotFoundException)
            {
            }
        }
        return records;
    }

    /// <summary>True while the record's collection may still be running (it beat within <see cref="GcTimings.RunStaleAfter"/>).</summary>
    public static bool IsLive(StorageEntry record, DateTimeOffset now, GcTimings timings) => now - record.ModifiedAt < timings.RunStaleAfter;
}
