using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Berth.Storage;
using Berth.Storage.Layout;

namespace Berth.Core.Gc;

/// <summary>What a journal entry announces: a write in <see cref="Repository"/> is about to rely on these digests.</summary>
public sealed record GcJournalEntry(string Repository, string Kind, IReadOnlyList<Digest> Digests)
{
    public const string ManifestKind = "manifest";
    public const string UploadKind = "upload";
    public const string MountKind = "mount";
}

/// <summary>Entries read back by a collector, and the ones that could not be read.</summary>
public sealed record GcJournalRead(IReadOnlyList<GcJournalEntry> Entries, IReadOnlyList<string> Unreadable, IReadOnlyList<string> Foreign);

/// <summary>
/// The journal of <see cref="GcProtocol"/>, under hour buckets, so that a collector lists only the hours its window
/// covers and prunes whole hours with one delete each. On a driver that appends (<see cref="IObjectAppender"/>, the
/// filesystem) each process appends one JSON line per write, with its time, to a file of its own per five minutes
/// (<c>berth/gc/journal/2026120413/log-&lt;random&gt;-15</c>); elsewhere (object stores) each write is one small object
/// named by its time (<c>berth/gc/journal/2026120413/20261204T131502.1234567Z-&lt;random&gt;</c>). A collector reads
/// both forms.
/// </summary>
public static class GcJournal
{
    private const string BucketFormat = "yyyyMMddHH";
    private const string TimeFormat = "yyyyMMdd'T'HHmmss.fffffff'Z'";
    private const int TimeLength = 24;

    public static string Bucket(DateTimeOffset time) => time.UtcDateTime.ToString(BucketFormat, CultureInfo.InvariantCulture);

    public static string NewId(DateTimeOffset time) =>
        time.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture) + "-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    public static bool TryParseIdTime(string id, out DateTimeOffset time)
    {
        time = default;
        return id.Length > TimeLength && id[TimeLength] == '-'
            && DateTimeOffset.TryParseExact(id.AsSpan(0, TimeLength), TimeFormat, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time);
    }

    public static bool TryParseBucket(string bucket, out DateTimeOffset start)
    {
        start = default;
        return bucket.Length == BucketFormat.Length
            && DateTimeOffset.TryParseExact(bucket, BucketFormat, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out start);
    }

    /// <summary>Writes an entry stamped with <paramref name="now"/> (take it before calling). The entry is
    /// <see cref="Durability.Volatile"/>: the protocol needs it visible to a collector that is marking now,
    /// which a put gives at once; a machine crash that loses it also ends that collector's run (on a shared
    /// filesystem or object store the entry is on the server when the put returns), and the links the entry
    /// protected are durable themselves, so the next run's mark finds them.</summary>
    public static async Task AppendAsync(IStorageDriver driver, DateTimeOffset now, GcJournalEntry entry, CancellationToken cancellationToken = default)
    {
        if (driver is IObjectAppender appender
            && await appender.TryAppendAsync(StoragePaths.GcJournalEntry(Bucket(now), LogFile(now)), EncodeLine(now, entry), cancellationToken).ConfigureAwait(false))
        {
            return;
        }
        await driver.PutContentAsync(StoragePaths.GcJournalEntry(Bucket(now), NewId(now)), Encode(entry), Durability.Volatile, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Names of this process's journal files start with this.</summary>
    public const string LogPrefix = "log-";

    /// <summary>This process's journal files: its own, so that appends of different processes (or instances sharing a
    /// filesystem) never go to one file.</summary>
    private static readonly string LogName = LogPrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    /// <summary>Minutes of the hour one journal file covers: a collector reads only the files its window reaches.</summary>
    private const int LogSlotMinutes = 5;

    /// <summary>The file an entry stamped <paramref name="time"/> goes to: <c>log-&lt;random&gt;-&lt;minute the slot
    /// starts&gt;</c> in the hour's bucket.</summary>
    public static string LogFile(DateTimeOffset time) =>
        $"{LogName}-{time.UtcDateTime.Minute / LogSlotMinutes * LogSlotMinutes:00}";

    /// <summary>Whether every line of the journal file <paramref name="name"/> of the hour starting at
    /// <paramref name="hour"/> is older than <paramref name="since"/>; false when the name carries no slot.</summary>
    private static bool LogEndsBefore(string name, DateTimeOffset hour, DateTimeOffset since)
    {
        var dash = name.LastIndexOf('-');
        return dash > LogPrefix.Length
            && int.TryParse(name.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var minute)
            && minute is >= 0 and < 60
            && hour.AddMinutes(minute + LogSlotMinutes) <= since;
    }

    /// <summary>One line of a journal file: the entry's JSON object with its time first, and a newline that marks the
    /// line complete (a reader skips a last line without one: an append in progress).</summary>
    public static byte[] EncodeLine(DateTimeOffset time, GcJournalEntry entry)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("time", time.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture));
            WriteFields(w, entry);
            w.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    public static byte[] Encode(GcJournalEntry entry)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            WriteFields(w, entry);
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private static void WriteFields(Utf8JsonWriter w, GcJournalEntry entry)
    {
        w.WriteString("repository", entry.Repository);
        w.WriteString("kind", entry.Kind);
        w.WriteStartArray("digests");
        foreach (var d in entry.Digests)
        {
            w.WriteStringValue(d.ToString());
        }
        w.WriteEndArray();
    }

    /// <summary>Parses an entry; null when it is not one.</summary>
    public static GcJournalEntry? Decode(ReadOnlySpan<byte> content) => Decode(content, out _);

    /// <summary>Parses a line of a journal file; null when it is not an entry with a time.</summary>
    public static GcJournalEntry? DecodeLine(ReadOnlySpan<byte> line, out DateTimeOffset time)
    {
        var entry = Decode(line, out var stamp);
        time = default;
        return entry is not null && stamp is not null
            && DateTimeOffset.TryParseExact(stamp, TimeFormat, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time)
            ? entry
            : null;
    }

    private static GcJournalEntry? Decode(ReadOnlySpan<byte> content, out string? time)
    {
        time = null;
        try
        {
            var reader = new Utf8JsonReader(content);
            using var doc = JsonDocument.ParseValue(ref reader);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("repository", out var repository) || repository.ValueKind != JsonValueKind.String
                || !root.TryGetProperty("digests", out var digests) || digests.ValueKind != JsonValueKind.Array)
            {
                return null;
            }
            var list = new List<Digest>();
            foreach (var d in digests.EnumerateArray())
            {
                if (d.ValueKind != JsonValueKind.String || !Digest.TryParse(d.GetString(), out var digest))
                {
                    return null;
                }
                list.Add(digest);
            }
            var kind = root.TryGetProperty("kind", out var k) && k.ValueKind == JsonValueKind.String ? k.GetString()! : "";
            time = root.TryGetProperty("time", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            return new GcJournalEntry(repository.GetString()!, kind, list);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Every entry stamped at or after <paramref name="since"/>, future hours included (clocks differ).
    /// Objects whose name is not an entry id are reported as foreign; entries that cannot be parsed as unreadable.</summary>
    public static async Task<GcJournalRead> ReadSinceAsync(IStorageDriver driver, DateTimeOffset since, int concurrency, CancellationToken cancellationToken = default)
    {
        var firstBucket = Bucket(since);
        var paths = new List<string>();
        var foreign = new List<string>();
        foreach (var bucketPath in await ListOrEmptyAsync(driver, StoragePaths.GcJournalRoot, cancellationToken).ConfigureAwait(false))
        {
            var bucket = StoragePath.FileName(bucketPath);
            if (!TryParseBucket(bucket, out var hour))
            {
                foreign.Add(bucketPath);
                continue;
            }
            if (string.CompareOrdinal(bucket, firstBucket) < 0)
            {
                continue;
            }
            foreach (var entryPath in await ListOrEmptyAsync(driver, bucketPath, cancellationToken).ConfigureAwait(false))
            {
                var name = StoragePath.FileName(entryPath);
                if (name.StartsWith(LogPrefix, StringComparison.Ordinal))
                {
                    if (!LogEndsBefore(name, hour, since))
                    {
                        paths.Add(entryPath);
                    }
                }
                else if (!TryParseIdTime(name, out var time))
                {
                    foreign.Add(entryPath);
                }
                else if (time >= since)
                {
                    paths.Add(entryPath);
                }
            }
        }
        var entries = new List<GcJournalEntry>();
        var unreadable = new List<string>();
        await Parallel.ForEachAsync(paths, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken }, async (path, ct) =>
        {
            byte[] content;
            try
            {
                content = await driver.GetContentAsync(path, ct).ConfigureAwait(false);
            }
            catch (PathNotFoundException)
            {
                return; // Pruned by an earlier collector between list and read: older than any window.
            }
            var (read, bad) = StoragePath.FileName(path).StartsWith(LogPrefix, StringComparison.Ordinal)
                ? ReadLog(path, content, since)
                : Decode(content) is { } entry ? ([entry], []) : ([], [path]);
            lock (entries)
            {
                entries.AddRange(read);
                unreadable.AddRange(bad);
            }
        }).ConfigureAwait(false);
        return new GcJournalRead(entries, unreadable, foreign);
    }

    /// <summary>The entries of a journal file stamped at or after <paramref name="since"/>. A last line without its
    /// newline is an append in progress and is left out: its writer checks the tombstones only once the append is
    /// done, which is after this read (<see cref="GcProtocol"/>). A complete line that does not parse is unreadable
    /// (reported as "path#line").</summary>
    internal static (List<GcJournalEntry> Entries, List<string> Unreadable) ReadLog(string path, ReadOnlySpan<byte> content, DateTimeOffset since)
    {
        var entries = new List<GcJournalEntry>();
        var unreadable = new List<string>();
        var number = 0;
        while (content.IndexOf((byte)'\n') is var end and >= 0)
        {
            number++;
            var line = content[..end];
            content = content[(end + 1)..];
            if (DecodeLine(line, out var time) is not { } entry)
            {
                unreadable.Add($"{path}#{number}");
            }
            else if (time >= since)
            {
                entries.Add(entry);
            }
        }
        return (entries, unreadable);
    }

    /// <summary>The registry's side of journal housekeeping, so that storage no collector runs on does not collect
    /// journal entries forever. An entry matters only to a deleting collection whose mark began less than
    /// <see cref="GcTimings.JournalWindow"/> after it was written (<see cref="GcProtocol"/>), and such a
    /// collection holds a live run record (berth/gc/runs/&lt;id&gt;, the id stamped with its start, written before
    /// its mark begins). So whole hours older than the oldest live run's start (or now), minus the window and an
    /// hour's margin, are deleted. A run record whose id carries no time stops the pruning (nothing is deleted).
    /// Returns how many hours were deleted.</summary>
    public static async Task<int> PruneExpiredAsync(IStorageDriver driver, DateTimeOffset now, GcTimings timings, CancellationToken cancellationToken = default)
    {
        var oldest = now;
        foreach (var run in await GcRuns.ListAsync(driver, cancellationToken).ConfigureAwait(false))
        {
            if (!GcRuns.IsLive(run, now, timings))
            {
                continue; // a crashed collection: it deletes nothing any more
            }
            if (!TryParseIdTime(StoragePath.FileName(run.Path), out var started))
            {
                return 0;
            }
            if (started < oldest)
            {
                oldest = started;
            }
        }
        return await PruneBeforeAsync(driver, oldest - timings.JournalWindow - TimeSpan.FromHours(1), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes whole hours that end at or before <paramref name="before"/>. Returns how many.</summary>
    public static async Task<int> PruneBeforeAsync(IStorageDriver driver, DateTimeOffset before, CancellationToken cancellationToken = default)
    {
        var pruned = 0;
        foreach (var bucketPath in await ListOrEmptyAsync(driver, StoragePaths.GcJournalRoot, cancellationToken).ConfigureAwait(false))
        {
            if (TryParseBucket(StoragePath.FileName(bucketPath), out var start) && start.AddHours(1) <= before)
            {
                try
                {
                    await driver.DeleteAsync(bucketPath, cancellationToken).ConfigureAwait(false);
                    pruned++;
                }
                catch (PathNotFoundException)
                {
                }
            }
        }
        return pruned;
    }

    private static async Task<IReadOnlyList<string>> ListOrEmptyAsync(IStorageDriver driver, string path, CancellationToken cancellationToken)
    {
        try
        {
            return await driver.ListAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (PathNotFoundException)
        {
            return [];
        }
    }
}
