using System.Text;
using Berth.Core.Gc;
using Berth.Storage;
using Berth.Storage.FileSystem;
using Berth.Storage.InMemory;
using Berth.Storage.Layout;

namespace Berth.GarbageCollection.Tests;

/// <summary>The journal on a driver that appends (the filesystem): one file per process and hour, one line per
/// announced write; what a collector reads from it, including an append it catches half-way.</summary>
public sealed class GcJournalLogTests : IDisposable
{
    private static readonly Digest A = Digest.Parse("sha256:" + new string('a', 64));
    private static readonly Digest B = Digest.Parse("sha256:" + new string('b', 64));
    private readonly string _root = Path.Combine(Path.GetTempPath(), "berth-gclog-" + Guid.NewGuid().ToString("N"));
    private readonly FileSystemDriver _driver;
    private readonly DateTimeOffset _now = new(2026, 12, 5, 13, 15, 2, TimeSpan.Zero);

    public GcJournalLogTests()
    {
        _driver = new FileSystemDriver(_root, syncToDisk: false);
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private async Task<IReadOnlyList<string>> BucketAsync(DateTimeOffset at) =>
        await _driver.ListAsync(StoragePaths.GcJournalBucket(GcJournal.Bucket(at)));

    [Fact]
    public async Task Entries_GoToOneFilePerHour_OneLineEach_AndAreReadBack()
    {
        await GcJournal.AppendAsync(_driver, _now, new GcJournalEntry("a/b", GcJournalEntry.ManifestKind, [A, B]));
        await GcJournal.AppendAsync(_driver, _now.AddSeconds(1), new GcJournalEntry("c", GcJournalEntry.UploadKind, [B]));

        var file = Assert.Single(await BucketAsync(_now));
        Assert.StartsWith(GcJournal.LogPrefix, StoragePath.FileName(file));
        var lines = Encoding.UTF8.GetString(await _driver.GetContentAsync(file)).Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.Equal("", lines[2]);
        Assert.StartsWith("{\"time\":\"20261205T131502.0000000Z\",\"repository\":\"a/b\"", lines[0]);

        var read = await GcJournal.ReadSinceAsync(_driver, _now, concurrency: 4);
        Assert.Empty(read.Unreadable);
        Assert.Empty(read.Foreign);
        Assert.Equal([("a/b", GcJournalEntry.ManifestKind, 2), ("c", GcJournalEntry.UploadKind, 1)],
            read.Entries.Select(e => (e.Repository, e.Kind, e.Digests.Count)).Order());
    }

    [Fact]
    public async Task LinesOlderThanTheWindow_AreLeftOut_AndFilesOfOlderSlotsAreNotRead()
    {
        await GcJournal.AppendAsync(_driver, _now, new GcJournalEntry("old", GcJournalEntry.UploadKind, [A]));
        await GcJournal.AppendAsync(_driver, _now.AddMinutes(1), new GcJournalEntry("same-slot", GcJournalEntry.UploadKind, [A]));
        await GcJournal.AppendAsync(_driver, _now.AddMinutes(10), new GcJournalEntry("new", GcJournalEntry.UploadKind, [B]));
        var files = await BucketAsync(_now);
        Assert.Equal(2, files.Count); // 13:15-13:20 and 13:25-13:30
        Assert.Contains(files, f => f.EndsWith("-25", StringComparison.Ordinal));

        var read = await GcJournal.ReadSinceAsync(_driver, _now.AddMinutes(1), concurrency: 4);
        Assert.Equal(["new", "same-slot"], read.Entries.Select(e => e.Repository).Order(StringComparer.Ordinal));

        // A window that starts after the 13:15 slot ends: that file is not even read (garbage in it is not seen).
        var early = Assert.Single(files, f => f.EndsWith("-15", StringComparison.Ordinal));
        Assert.True(await _driver.TryAppendAsync(early, "garbage\n"u8.ToArray()));
        var later = await GcJournal.ReadSinceAsync(_driver, _now.AddMinutes(6), concurrency: 4);
        Assert.Equal(["new"], later.Entries.Select(e => e.Repository));
        Assert.Empty(later.Unreadable);
    }

    [Fact]
    public async Task AnAppendCaughtHalfWay_IsLeftOut_AGarbledCompleteLine_IsUnreadable()
    {
        await GcJournal.AppendAsync(_driver, _now, new GcJournalEntry("a/b", GcJournalEntry.UploadKind, [A]));
        var file = Assert.Single(await BucketAsync(_now));
        var next = GcJournal.EncodeLine(_now, new GcJournalEntry("c", GcJournalEntry.UploadKind, [B]));

        // A reader that comes while the second append is being copied sees the first part of it only.
        Assert.True(await _driver.TryAppendAsync(file, next.AsMemory(0, next.Length / 2)));
        var half = await GcJournal.ReadSinceAsync(_driver, _now, concurrency: 4);
        Assert.Equal(["a/b"], half.Entries.Select(e => e.Repository));
        Assert.Empty(half.Unreadable);

        // A complete line that does not parse: what it protected is unknown, so the collector must not delete.
        Assert.True(await _driver.TryAppendAsync(file, "\n"u8.ToArray()));
        var garbled = await GcJournal.ReadSinceAsync(_driver, _now, concurrency: 4);
        Assert.Equal([file + "#2"], garbled.Unreadable);
    }

    [Fact]
    public async Task ParallelAppends_AreAllReadBack_LineByLine()
    {
        var repositories = Enumerable.Range(0, 200).Select(i => $"r{i:000}").ToArray();

        await Task.WhenAll(repositories.Select(r => Task.Run(() =>
            GcJournal.AppendAsync(_driver, _now, new GcJournalEntry(r, GcJournalEntry.MountKind, [A])))));

        var read = await GcJournal.ReadSinceAsync(_driver, _now, concurrency: 4);
        Assert.Empty(read.Unreadable);
        Assert.Equal(repositories, read.Entries.Select(e => e.Repository).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task EntriesOfBothForms_AreReadTogether()
    {
        // An object store's entries (one object each), e.g. written by an instance on another driver, beside a log.
        var objects = new InMemoryDriver();
        await GcJournal.AppendAsync(objects, _now, new GcJournalEntry("from-object", GcJournalEntry.UploadKind, [A]));
        var entry = Assert.Single(await objects.ListAsync(StoragePaths.GcJournalBucket(GcJournal.Bucket(_now))));
        Assert.DoesNotContain(GcJournal.LogPrefix, StoragePath.FileName(entry));
        await _driver.PutContentAsync(entry, await objects.GetContentAsync(entry));
        await GcJournal.AppendAsync(_driver, _now, new GcJournalEntry("from-log", GcJournalEntry.UploadKind, [B]));

        var read = await GcJournal.ReadSinceAsync(_driver, _now, concurrency: 4);

        Assert.Equal(["from-log", "from-object"], read.Entries.Select(e => e.Repository).Order(StringComparer.Ordinal));
    }
}
