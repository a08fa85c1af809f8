using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;
using Berth.Storage;
using Berth.Storage.Layout;

namespace Berth.Maintenance.Doctor.Repair;

/// <summary>One object in a quarantine item: where it was, how big, its sha256, and whether it was removed from there.</summary>
public sealed record QuarantinedObject(
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("size")] long Size,
    [property: JsonPropertyName("sha256")] string Sha256,
    [property: JsonPropertyName("removed")] bool Removed);

/// <summary>The journal of one quarantine item (<c>berth/quarantine/&lt;id&gt;/journal.json</c>).</summary>
public sealed record QuarantineJournal
{
    public const string StateMoving = "moving";
    public const string StateQuarantined = "quarantined";
    public const string StatePartial = "partial";

    [JsonPropertyName("id")] public required string Id { get; init; }

    [JsonPropertyName("time")] public required DateTimeOffset Time { get; init; }

    /// <summary>"moving" (copied, originals not yet removed), "quarantined", or "partial" (stopped because an original changed).</summary>
    [JsonPropertyName("state")] public required string State { get; init; }

    [JsonPropertyName("action")] public required string Action { get; init; }

    [JsonPropertyName("class")] public required string Class { get; init; }

    [JsonPropertyName("classes")] public IReadOnlyList<string> Classes { get; init; } = [];

    [JsonPropertyName("repository")] public string? Repository { get; init; }

    [JsonPropertyName("tag")] public string? Tag { get; init; }

    [JsonPropertyName("digest")] public string? Digest { get; init; }

    /// <summary>The folder or object that was moved.</summary>
    [JsonPropertyName("root")] public required string Root { get; init; }

    [JsonPropertyName("explanation")] public string Explanation { get; init; } = "";

    [JsonPropertyName("objects")] public IReadOnlyList<QuarantinedObject> Objects { get; init; } = [];

    [JsonIgnore] public long Bytes => Objects.Sum(o => o.Size);
}

/// <summary>Raised when a quarantine operation cannot go ahead; the message says why.</summary>
public sealed class QuarantineException(string message) : Exception(message);

/// <summary>
/// The quarantine area under <see cref="StoragePaths.QuarantineRoot"/>, outside <c>repositories/</c> so that no
/// registry reads it. Moving in copies every object (hashing it), writes the journal, then deletes the originals,
/// pointers first; restoring moves the objects back, data first, and removes the item. Works through
/// <see cref="IStorageDriver"/> only: object stores have no rename.
/// </summary>
public static class Quarantine
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.Never };

    /// <summary>Copies the item's objects into quarantine, records them, deletes the originals and tidies empty folders.</summary>
    public static async Task<QuarantineJournal> MoveInAsync(IStorageDriver driver, RepairItem item, TimeProvider time, CancellationToken cancellationToken = default)
    {
        var paths = await ObjectsOfAsync(driver, item, cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        var id = $"{now.UtcDateTime:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..8]}";
        var objects = new List<QuarantinedObject>();
        foreach (var path in paths)
        {
            var (size, sha) = await CopyAsync(driver, path, StoragePaths.QuarantineObject(id, path), cancellationToken).ConfigureAwait(false);
            var copy = await driver.StatAsync(StoragePaths.QuarantineObject(id, path), cancellationToken).ConfigureAwait(false);
            if (copy.Size != size)
            {
                throw new QuarantineException($"the quarantine copy of {path} is {copy.Size} bytes, expected {size}");
            }
            objects.Add(new QuarantinedObject(path, size, sha, false));
        }
        var journal = new QuarantineJournal
        {
            Id = id,
            Time = now,
            State = QuarantineJournal.StateMoving,
            Action = RepairItem.ActionName(item.Action),
            Class = item.Class.Name(),
            Classes = [.. item.Classes.Select(c => c.Name())],
            Repository = item.Repository,
            Tag = item.Tag,
            Digest = item.Digest,
            Root = item.Root,
            Explanation = item.Explanation,
            Objects = objects,
        };
        await WriteJournalAsync(driver, journal, cancellationToken).ConfigureAwait(false);

        // Pointers first: once current/link is gone the tag is gone, whatever happens next.
        var removed = new HashSet<string>(StringComparer.Ordinal);
        string? changed = null;
        foreach (var o in objects.OrderBy(o => Rank(o.Path)).ThenBy(o => o.Path, StringComparer.Ordinal))
        {
            var current = await HashIfPresentAsync(driver, o.Path, cancellationToken).ConfigureAwait(false);
            if (current is null)
            {
                removed.Add(o.Path); // already gone; the copy is all there is
                continue;
            }
            if (current.Value.Sha256 != o.Sha256)
            {
                changed = o.Path;
                break;
            }
            try
            {
                await driver.DeleteAsync(o.Path, cancellationToken).ConfigureAwait(false);
            }
            catch (PathNotFoundException)
            {
            }
            removed.Add(o.Path);
        }
        journal = journal with
        {
            State = changed is null ? QuarantineJournal.StateQuarantined : QuarantineJournal.StatePartial,
            Objects = [.. objects.Select(o => o with { Removed = removed.Contains(o.Path) })],
        };
        await WriteJournalAsync(driver, journal, cancellationToken).ConfigureAwait(false);
        foreach (var folder in FoldersToTidy(item))
        {
            await RemoveEmptyDirectoriesAsync(driver, folder, cancellationToken).ConfigureAwait(false);
        }
        if (changed is not null)
        {
            throw new QuarantineException($"{changed} changed while it was being moved (a push?); stopped, quarantine item {id} holds what was moved");
        }
        return journal;
    }

    /// <summary>Puts every removed object of item <paramref name="id"/> back exactly, data before pointers, checking each
    /// byte for byte, then deletes the item. Refuses, changing nothing, when an original path now holds other content.</summary>
    public static async Task<QuarantineJournal> RestoreAsync(IStorageDriver driver, string id, CancellationToken cancellationToken = default)
    {
        var journal = await ReadJournalAsync(driver, id, cancellationToken).ConfigureAwait(false)
            ?? throw new QuarantineException($"no quarantine item '{id}' (see berth doctor quarantine list)");
        var conflicts = new List<string>();
        foreach (var o in journal.Objects)
        {
            var current = await HashIfPresentAsync(driver, o.Path, cancellationToken).ConfigureAwait(false);
            if (current is { } c && c.Sha256 != o.Sha256 && o.Removed)
            {
                conflicts.Add(o.Path);
            }
        }
        if (conflicts.Count > 0)
        {
            throw new QuarantineException($"not restoring {id}: {conflicts.Count} original path(s) now hold other content (re-pushed since?): {string.Join(", ", conflicts.Take(5))}");
        }
        foreach (var o in journal.Objects.OrderByDescending(o => Rank(o.Path)).ThenBy(o => o.Path, StringComparer.Ordinal))
        {
            var copyPath = StoragePaths.QuarantineObject(id, o.Path);
            var current = await HashIfPresentAsync(driver, o.Path, cancellationToken).ConfigureAwait(false);
            if (current is not null)
            {
                // Same bytes: never removed, or put back by an earlier, interrupted restore. Other bytes: an object
                // repair did not remove (it changed under it); the newer content stays.
                continue;
            }
            var copy = await HashIfPresentAsync(driver, copyPath, cancellationToken).ConfigureAwait(false)
                ?? throw new QuarantineException($"quarantine item {id} lacks its copy of {o.Path}");
            if (copy.Sha256 != o.Sha256 || copy.Size != o.Size)
            {
                throw new QuarantineException($"the quarantine copy of {o.Path} does not match its journal (sha256 {copy.Sha256}, expected {o.Sha256})");
            }
            await driver.MoveAsync(copyPath, o.Path, cancellationToken).ConfigureAwait(false);
            var restored = await HashIfPresentAsync(driver, o.Path, cancellationToken).ConfigureAwait(false);
            if (restored is not { } r || r.Sha256 != o.Sha256)
            {
                throw new QuarantineException($"restoring {o.Path} did not give back the same bytes");
            }
        }
        await driver.DeleteAsync(StoragePaths.QuarantineItem(id), cancellationToken).ConfigureAwait(false);
        return journal;
    }

    /// <summary>Every quarantine item, oldest first. Items whose journal is unreadable are listed with state "unreadable".</summary>
    public static async Task<IReadOnlyList<QuarantineJournal>> ListAsync(IStorageDriver driver, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<string> items;
        try
        {
            items = await driver.ListAsync(StoragePaths.QuarantineRoot, cancellationToken).ConfigureAwait(false);
        }
        catch (PathNotFoundException)
        {
            return [];
        }
        var result = new List<QuarantineJournal>();
        foreach (var item in items)
        {
            var id = StoragePath.FileName(item);
            var journal = await ReadJournalAsync(driver, id, cancellationToken).ConfigureAwait(false);
            result.Add(journal ?? new QuarantineJournal { Id = id, Time = default, State = "unreadable", Action = "", Class = "", Root = item });
        }
        return [.. result.OrderBy(j => j.Time).ThenBy(j => j.Id, StringComparer.Ordinal)];
    }

    public static async Task<QuarantineJournal?> ReadJournalAsync(IStorageDriver driver, string id, CancellationToken cancellationToken = default)
    {
        var path = StoragePaths.QuarantineJournal(id);
        if (!StoragePath.IsValid(path))
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize<QuarantineJournal>(await driver.GetContentAsync(path, cancellationToken).ConfigureAwait(false), JsonOptions);
        }
        catch (PathNotFoundException)
        {
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static Task WriteJournalAsync(IStorageDriver driver, QuarantineJournal journal, CancellationToken cancellationToken) =>
        driver.PutContentAsync(StoragePaths.QuarantineJournal(journal.Id), JsonSerializer.SerializeToUtf8Bytes(journal, JsonOptions), cancellationToken);

    /// <summary>The objects an item moves, as they are now.</summary>
    private static async Task<List<string>> ObjectsOfAsync(IStorageDriver driver, RepairItem item, CancellationToken cancellationToken)
    {
        var result = new List<string>();
        if (item.Action is RepairAction.QuarantineTag or RepairAction.QuarantineUpload)
        {
            await foreach (var e in driver.WalkAsync(item.Root, cancellationToken).ConfigureAwait(false))
            {
                result.Add(e.Path);
            }
        }
        else if (await ExistsAsync(driver, item.Root, cancellationToken).ConfigureAwait(false))
        {
            result.Add(item.Root);
        }
        foreach (var extra in item.ExtraPaths)
        {
            if (await ExistsAsync(driver, extra, cancellationToken).ConfigureAwait(false))
            {
                result.Add(extra);
            }
        }
        return [.. result.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
    }

    private static async Task<bool> ExistsAsync(IStorageDriver driver, string path, CancellationToken cancellationToken)
    {
        try
        {
            return !(await driver.StatAsync(path, cancellationToken).ConfigureAwait(false)).IsDirectory;
        }
        catch (PathNotFoundException)
        {
            return false;
        }
    }

    private static IEnumerable<string> FoldersToTidy(RepairItem item)
    {
        yield return item.Action is RepairAction.QuarantineTag or RepairAction.QuarantineUpload ? item.Root : StoragePath.Parent(item.Root);
        foreach (var extra in item.ExtraPaths)
        {
            yield return StoragePath.Parent(extra);
        }
    }

    /// <summary>Deletes the folders under (and including) <paramref name="directory"/> that hold no object. Only matters on
    /// filesystems, where Distribution lists an empty tag folder as a tag; object stores have no empty folders.</summary>
    internal static async Task RemoveEmptyDirectoriesAsync(IStorageDriver driver, string directory, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> children;
        try
        {
            children = await driver.ListAsync(directory, cancellationToken).ConfigureAwait(false);
        }
        catch (PathNotFoundException)
        {
            // No objects below. A filesystem may still hold empty folders there (the driver does not list
            // them); deleting them is harmless, and on an object store there is nothing to delete.
            try
            {
                await driver.DeleteAsync(directory, cancellationToken).ConfigureAwait(false);
            }
            catch (PathNotFoundException)
            {
            }
            return;
        }
        foreach (var child in children)
        {
            try
            {
                if ((await driver.StatAsync(child, cancellationToken).ConfigureAwait(false)).IsDirectory)
                {
                    await RemoveEmptyDirectoriesAsync(driver, child, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (PathNotFoundException)
            {
                // Listed but holding no objects: an empty folder on a filesystem.
                await RemoveEmptyDirectoriesAsync(driver, child, cancellationToken).ConfigureAwait(false);
            }
        }
        try
        {
            if ((await driver.ListAsync(directory, cancellationToken).ConfigureAwait(false)).Count == 0)
            {
                await driver.DeleteAsync(directory, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (PathNotFoundException)
        {
            // No objects below: a filesystem may still hold the empty folders (older registries leave
            // them); deleting them is harmless, and on an object store there is nothing to delete.
            try
            {
                await driver.DeleteAsync(directory, cancellationToken).ConfigureAwait(false);
            }
            catch (PathNotFoundException)
            {
            }
        }
    }

    /// <summary>Removal order, pointers first: current link, other tag objects, revision links, layer links, uploads, blob data.</summary>
    private static int Rank(string path) =>
        path.EndsWith("/current/link", StringComparison.Ordinal) ? 0
        : path.Contains("/_manifests/tags/", StringComparison.Ordinal) ? 1
        : path.Contains("/_manifests/revisions/", StringComparison.Ordinal) ? 2
        : path.Contains("/_layers/", StringComparison.Ordinal) ? 3
        : path.Contains("/_uploads/", StringComparison.Ordinal) ? 4
        : 5;

    private static async Task<(long Size, string Sha256)> CopyAsync(IStorageDriver driver, string source, string destination, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            var input = await driver.OpenReadAsync(source, 0, cancellationToken).ConfigureAwait(false);
            await using (input.ConfigureAwait(false))
            {
                var writer = await driver.CreateWriterAsync(destination, append: false, cancellationToken).ConfigureAwait(false);
                await using (writer.ConfigureAwait(false))
                {
                    using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
                    long total = 0;
                    int n;
                    while ((n = await input.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                    {
                        hash.AppendData(buffer, 0, n);
                        await writer.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                        total += n;
                    }
                    await writer.CommitAsync(cancellationToken).ConfigureAwait(false);
                    return (total, Convert.ToHexStringLower(hash.GetHashAndReset()));
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task<(long Size, string Sha256)?> HashIfPresentAsync(IStorageDriver driver, string path, CancellationToken cancellationToken)
    {
        Stream input;
        try
        {
            input = await driver.OpenReadAsync(path, 0, cancellationToken).ConfigureAwait(false);
        }
        catch (PathNotFoundException)
        {
            return null;
        }
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            await using (input.ConfigureAwait(false))
            {
                using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
                long total = 0;
                int n;
                while ((n = await input.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    hash.AppendData(buffer, 0, n);
                    total += n;
                }
                return (total, Convert.ToHexStringLower(hash.GetHashAndReset()));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
