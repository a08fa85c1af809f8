using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Berth.Core.Listing;
using Berth.Core.Naming;
using Berth.Storage;
using Berth.Storage.Layout;

namespace Berth.Core.Catalog;

/// <summary>What one reconcile walk found and changed.</summary>
public sealed record ReconcileResult(int Repositories, int Added, int Removed, TimeSpan Elapsed);

/// <summary>
/// The catalog index: one empty-ish marker object per repository under <see cref="StoragePaths.CatalogRepositoriesRoot"/>,
/// beside Distribution's tree, so that <c>GET /v2/_catalog</c> is one flat listing plus a sort instead of a walk
/// of every folder.
/// <list type="bullet">
/// <item><b>Written before the repository's first object</b> (<see cref="IndexingStorageDriver"/> calls
/// <see cref="EnsureIndexedAsync"/> before any put, writer or move under <c>repositories/&lt;name&gt;/_*</c>), so
/// every instance sharing the storage sees a repository as soon as anything of it exists. Each process remembers
/// the repositories it has indexed (for <see cref="MemoLifetime"/>, then it checks the marker again with one stat).</item>
/// <item><b>Repositories written by other software</b> (Distribution, a copied bucket, an older Berth) are found by
/// <see cref="ReconcileAsync"/>: <c>berth serve</c> runs it in the background at start-up and then every
/// <c>berth.catalog.reconcileinterval</c>. Until a reconcile has completed once on the storage
/// (<see cref="StoragePaths.CatalogReconciled"/> exists) the catalog walks the tree as before, so answers are never
/// incomplete.</item>
/// <item><b>Removed repositories</b> (deleted by hand, emptied by GC, quarantined): the catalog checks each name it
/// returns for a <c>_manifests</c>, <c>_layers</c> or <c>_uploads</c> folder (one <c>statx</c> on a filesystem)
/// and skips the ones that have none, so a removed repository disappears from the next answer. Markers are never
/// deleted on the read path (a marker is written before its repository's first object, so a reader can see a
/// marker whose repository is still being created); reconcile deletes a marker only when its repository has no
/// data and the marker is older than <see cref="StaleMarkerGrace"/>, and writes it back if data appeared meanwhile.
/// One window remains, and it needs a repository removed by hand: if instance A pushed the repository within the
/// last <see cref="MemoLifetime"/>, the folder is then removed, instance B's reconcile drops the marker, and A pushes
/// the repository again, A trusts its memory and writes no marker; the repository is missing from the catalog until
/// A writes to it again after the memory expired, or the next reconcile. A check of the marker on every write
/// would close it, at one stat per write (one HEAD per write on S3).</item>
/// </list>
/// </summary>
public sealed class RepositoryIndex(IStorageDriver driver, TimeProvider? timeProvider = null)
{
    /// <summary>How long a process trusts that a marker it wrote or saw still exists (then one stat checks it again).</summary>
    public static readonly TimeSpan MemoLifetime = TimeSpan.FromMinutes(1);

    /// <summary>A marker younger than this is never removed: its repository may be in the middle of its first push.</summary>
    public static readonly TimeSpan StaleMarkerGrace = TimeSpan.FromMinutes(1);

    private const int MemoCapacity = 100_000;
    private static readonly string[] DataDirectories = [StoragePaths.ManifestsDirName, StoragePaths.LayersDirName, StoragePaths.UploadsDirName];
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;
    private readonly ConcurrentDictionary<string, long> _known = new(StringComparer.Ordinal);
    private readonly DirectoryListingCache _markers = new(driver, capacity: 4);

    /// <summary>Makes sure the repository has a marker. Cheap when this process indexed it recently.</summary>
    public ValueTask EnsureIndexedAsync(string repository, CancellationToken cancellationToken = default)
    {
        if (_known.TryGetValue(repository, out var at) && _time.GetElapsedTime(at) < MemoLifetime)
        {
            return ValueTask.CompletedTask;
        }
        return new ValueTask(IndexAsync(repository, cancellationToken));
    }

    private async Task IndexAsync(string repository, CancellationToken cancellationToken)
    {
        if (!RepositoryName.IsValid(repository))
        {
            return; // the API never writes such a name; nothing to index
        }
        var marker = StoragePaths.CatalogRepositoryMarker(repository);
        try
        {
            await driver.StatAsync(marker, cancellationToken).ConfigureAwait(false);
        }
        catch (PathNotFoundException)
        {
            // Volatile: a marker lost in a machine crash is written again by the reconcile every start-up runs.
            await driver.PutContentAsync(marker, Encoding.UTF8.GetBytes(repository), Durability.Volatile, cancellationToken).ConfigureAwait(false);
        }
        Remember(repository);
    }

    private void Remember(string repository)
    {
        if (_known.Count >= MemoCapacity)
        {
            _known.Clear();
        }
        _known[repository] = _time.GetTimestamp();
    }

    /// <summary>True once a reconcile has completed on this storage (by any instance).</summary>
    public async Task<bool> IsBuiltAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await driver.StatAsync(StoragePaths.CatalogReconciled, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (PathNotFoundException)
        {
            return false;
        }
    }

    /// <summary>The indexed names in ordinal order (markers whose name is not a valid repository name are left
    /// out). Shared array: do not change it. Names of removed repositories may be among them; see
    /// <see cref="SelectExistingAsync"/>.</summary>
    public async Task<string[]> ListAsync(CancellationToken cancellationToken = default) =>
        await _markers.GetAsync(StoragePaths.CatalogRepositoriesRoot, DecodeAndSort, cancellationToken).ConfigureAwait(false) ?? [];

    private static string[] DecodeAndSort(string[] markerNames)
    {
        var names = new List<string>(markerNames.Length);
        foreach (var marker in markerNames)
        {
            var name = StoragePaths.CatalogMarkerName(marker);
            if (RepositoryName.IsValid(name))
            {
                names.Add(name);
            }
        }
        var sorted = names.ToArray();
        Array.Sort(sorted, StringComparer.Ordinal);
        return sorted;
    }

    /// <summary>
    /// The first <paramref name="limit"/> names of <paramref name="candidates"/> (in order) whose repository still
    /// has data. On a filesystem each check is one or a few <c>statx</c>; elsewhere stats run 32 at a time.
    /// </summary>
    public async Task<List<string>> SelectExistingAsync(ArraySegment<string> candidates, int limit, CancellationToken cancellationToken = default)
    {
        var selected = new List<string>(Math.Min(limit, candidates.Count));
        var i = 0;
        if (driver is IDirectoryVersionSource source)
        {
            for (; i < candidates.Count && selected.Count < limit; i++)
            {
                var exists = HasDataByVersion(source, candidates[i]);
                if (exists is null)
                {
                    break; // the driver cannot tell here: stat from this one on
                }
                if (exists.Value)
                {
                    selected.Add(candidates[i]);
                }
            }
        }
        const int Batch = 32;
        while (i < candidates.Count && selected.Count < limit)
        {
            var count = Math.Min(Batch, candidates.Count - i);
            var checks = new Task<bool>[count];
            for (var j = 0; j < count; j++)
            {
                checks[j] = HasDataByStatAsync(candidates[i + j], cancellationToken);
            }
            var results = await Task.WhenAll(checks).ConfigureAwait(false);
            for (var j = 0; j < count && selected.Count < limit; j++)
            {
                if (results[j])
                {
                    selected.Add(candidates[i + j]);
                }
            }
            i += count;
        }
        return selected;
    }

    /// <summary>True when the repository has a _manifests, _layers or _uploads folder.</summary>
    public async Task<bool> HasDataAsync(string repository, CancellationToken cancellationToken = default)
    {
        if (driver is IDirectoryVersionSource source && HasDataByVersion(source, repository) is { } exists)
        {
            return exists;
        }
        return await HasDataByStatAsync(repository, cancellationToken).ConfigureAwait(false);
    }

    private static bool? HasDataByVersion(IDirectoryVersionSource source, string repository)
    {
        var root = StoragePaths.Repository(repository);
        foreach (var dir in DataDirectories)
        {
            var version = source.GetDirectoryVersion(root + "/" + dir);
            if (version is null)
            {
                return null;
            }
            if (version.Value.Exists)
            {
                return true;
            }
        }
        return false;
    }

    private async Task<bool> HasDataByStatAsync(string repository, CancellationToken cancellationToken)
    {
        var root = StoragePaths.Repository(repository);
        foreach (var dir in DataDirectories)
        {
            try
            {
                if ((await driver.StatAsync(root + "/" + dir, cancellationToken).ConfigureAwait(false)).IsDirectory)
                {
                    return true;
                }
            }
            catch (PathNotFoundException)
            {
            }
        }
        return false;
    }

    /// <summary>
    /// Walks the repository tree, adds a marker for every repository that has none, removes markers of
    /// repositories that are gone (see the class comment for the grace), then writes <see cref="StoragePaths.CatalogReconciled"/>.
    /// Safe to run from several instances at once: every step is idempotent.
    /// </summary>
    public async Task<ReconcileResult> ReconcileAsync(CancellationToken cancellationToken = default)
    {
        var started = _time.GetTimestamp();
        // Folders whose names are not repository names (written by hand) cannot be pulled and are not indexed.
        var walked = (await WalkRepositoriesAsync(driver, cancellationToken).ConfigureAwait(false)).Where(RepositoryName.IsValid).ToHashSet(StringComparer.Ordinal);
        var markers = new Dictionary<string, string>(StringComparer.Ordinal); // name -> marker path
        var invalid = new List<string>();
        try
        {
            foreach (var path in await driver.ListAsync(StoragePaths.CatalogRepositoriesRoot, cancellationToken).ConfigureAwait(false))
            {
                var name = StoragePaths.CatalogMarkerName(StoragePath.FileName(path));
                if (RepositoryName.IsValid(name) && path == StoragePaths.CatalogRepositoryMarker(name))
                {
                    markers[name] = path;
                }
                else
                {
                    invalid.Add(path);
                }
            }
        }
        catch (PathNotFoundException)
        {
        }
        var added = 0;
        foreach (var name in walked)
        {
            if (!markers.ContainsKey(name))
            {
                await driver.PutContentAsync(StoragePaths.CatalogRepositoryMarker(name), Encoding.UTF8.GetBytes(name), cancellationToken).ConfigureAwait(false);
                Remember(name);
                added++;
            }
        }
        var removed = 0;
        var now = _time.GetUtcNow();
        foreach (var (name, path) in markers)
        {
            if (walked.Contains(name))
            {
                continue;
            }
            StorageEntry entry;
            try
            {
                entry = await driver.StatAsync(path, cancellationToken).ConfigureAwait(false);
            }
            catch (PathNotFoundException)
            {
                continue;
            }
            if (now - entry.ModifiedAt < StaleMarkerGrace || await HasDataAsync(name, cancellationToken).ConfigureAwait(false))
            {
                continue;
            }
            await TryDeleteAsync(path, cancellationToken).ConfigureAwait(false);
            _known.TryRemove(name, out _);
            if (await HasDataAsync(name, cancellationToken).ConfigureAwait(false))
            {
                // Pushed again while we decided: put the marker back.
                await driver.PutContentAsync(path, Encoding.UTF8.GetBytes(name), cancellationToken).ConfigureAwait(false);
                continue;
            }
            removed++;
        }
        foreach (var path in invalid)
        {
            await TryDeleteAsync(path, cancellationToken).ConfigureAwait(false);
        }
        var elapsed = _time.GetElapsedTime(started);
        var record = new Dictionary<string, object>
        {
            ["completedAt"] = _time.GetUtcNow(),
            ["repositories"] = walked.Count,
            ["added"] = added,
            ["removed"] = removed,
            ["elapsedMs"] = (long)elapsed.TotalMilliseconds,
        };
        await driver.PutContentAsync(StoragePaths.CatalogReconciled, JsonSerializer.SerializeToUtf8Bytes(record, JsonOptions), cancellationToken).ConfigureAwait(false);
        return new ReconcileResult(walked.Count, added, removed, elapsed);
    }

    private async Task TryDeleteAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            await driver.DeleteAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (PathNotFoundException)
        {
        }
    }

    /// <summary>Every repository in the tree: a folder under repositories/ that holds _manifests, _layers or
    /// _uploads, nested to any depth. Unsorted. One list per folder; what the catalog did on every request before
    /// the index.</summary>
    public static async Task<List<string>> WalkRepositoriesAsync(IStorageDriver driver, CancellationToken cancellationToken = default)
    {
        var names = new List<string>();
        await WalkAsync(driver, StoragePaths.RepositoriesRoot, "", names, cancellationToken).ConfigureAwait(false);
        return names;
    }

    private static async Task WalkAsync(IStorageDriver driver, string path, string name, List<string> names, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> children;
        try
        {
            children = await driver.ListAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (PathNotFoundException)
        {
            return;
        }
        var isRepository = false;
        var subdirectories = new List<string>();
        foreach (var child in children)
        {
            var childName = StoragePath.FileName(child);
            if (StoragePaths.IsRepositoryDataDirName(childName))
            {
                isRepository = true;
            }
            else if (!childName.StartsWith('_'))
            {
                subdirectories.Add(childName);
            }
        }
        if (isRepository && name.Length > 0)
        {
            names.Add(name);
        }
        var tasks = subdirectories.Select(async sub =>
        {
            var found = new List<string>();
            await WalkAsync(driver, path + "/" + sub, name.Length == 0 ? sub : name + "/" + sub, found, cancellationToken).ConfigureAwait(false);
            return found;
        });
        foreach (var found in await Task.WhenAll(tasks).ConfigureAwait(false))
        {
            names.AddRange(found);
        }
    }
}
