using Berth.Core.Gc;
using Berth.GarbageCollection.Tests.Support;
using Berth.Storage;
using Berth.Storage.InMemory;
using Berth.Storage.Layout;

namespace Berth.GarbageCollection.Tests;

/// <summary>The registry's journal housekeeping (<see cref="GcJournal.PruneExpiredAsync"/>): old hours go, hours a
/// live collection may still read stay.</summary>
public sealed class GcJournalPruningTests
{
    private static readonly Digest D = Digest.Parse("sha256:" + new string('a', 62) + "bc");
    private readonly ShiftedTimeProvider _time = new();
    private readonly InMemoryDriver _driver;
    private readonly DateTimeOffset _now;

    public GcJournalPruningTests()
    {
        _driver = new InMemoryDriver(_time);
        _now = _time.GetUtcNow();
    }

    private Task WriteEntryAsync(DateTimeOffset at) =>
        GcJournal.AppendAsync(_driver, at, new GcJournalEntry("a/b", GcJournalEntry.UploadKind, [D]));

    private async Task<List<string>> BucketsAsync()
    {
        try
        {
            return [.. (await _driver.ListAsync(StoragePaths.GcJournalRoot)).Select(StoragePath.FileName).Order(StringComparer.Ordinal)];
        }
        catch (PathNotFoundException)
        {
            return [];
        }
    }

    [Fact]
    public async Task WithoutCollections_HoursOlderThanWindowAndMargin_AreDeleted_RecentOnesKept()
    {
        var old = _now.AddHours(-5);
        var recent = _now.AddMinutes(-30);
        await WriteEntryAsync(old);
        await WriteEntryAsync(recent);
        await WriteEntryAsync(_now);

        var pruned = await GcJournal.PruneExpiredAsync(_driver, _now, GcProtocol.Timings);

        Assert.Equal(1, pruned);
        var buckets = await BucketsAsync();
        Assert.DoesNotContain(GcJournal.Bucket(old), buckets);
        Assert.Contains(GcJournal.Bucket(recent), buckets);
        Assert.Contains(GcJournal.Bucket(_now), buckets);
    }

    [Fact]
    public async Task ALiveCollection_KeepsEverythingItsMarkMayNeed()
    {
        var runStarted = _now.AddHours(-6);
        var beforeRun = runStarted.AddHours(-3);
        var duringRun = runStarted.AddMinutes(10);
        await WriteEntryAsync(beforeRun);
        await WriteEntryAsync(duringRun);
        // A deleting collection that started six hours ago and still beats (its record was just written).
        await _driver.PutContentAsync(StoragePaths.GcRun(GcJournal.NewId(runStarted)), "x"u8.ToArray());

        await GcJournal.PruneExpiredAsync(_driver, _now, GcProtocol.Timings);

        var buckets = await BucketsAsync();
        Assert.DoesNotContain(GcJournal.Bucket(beforeRun), buckets);
        Assert.Contains(GcJournal.Bucket(duringRun), buckets);
    }

    [Fact]
    public async Task AStaleRunRecord_DoesNotHoldTheJournal()
    {
        var runStarted = _now.AddHours(-6);
        await WriteEntryAsync(runStarted.AddMinutes(10));
        await _driver.PutContentAsync(StoragePaths.GcRun(GcJournal.NewId(runStarted)), "x"u8.ToArray());
        _time.Advance(GcProtocol.Timings.RunStaleAfter + TimeSpan.FromMinutes(1)); // the collection crashed

        await GcJournal.PruneExpiredAsync(_driver, _time.GetUtcNow(), GcProtocol.Timings);

        Assert.Empty(await BucketsAsync());
    }

    [Fact]
    public async Task ARunRecordWithoutATime_StopsThePruning()
    {
        await WriteEntryAsync(_now.AddHours(-5));
        await _driver.PutContentAsync(StoragePaths.GcRun("not-a-run-id"), "x"u8.ToArray());

        Assert.Equal(0, await GcJournal.PruneExpiredAsync(_driver, _now, GcProtocol.Timings));
        Assert.Single(await BucketsAsync());
    }
}
