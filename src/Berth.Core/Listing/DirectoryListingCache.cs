using System.Collections.Concurrent;
using Berth.Storage;

namespace Berth.Core.Listing;

/// <summary>
/// Caches what is built from a directory's listing (sorted tags, decoded catalog markers), validated on every
/// use by the driver's <see cref="DirectoryVersion"/> (one <c>statx</c> on a filesystem), so that a change made
/// by another process or another Berth instance is seen by the next call. Drivers without directory versions
/// (object stores, the in-memory driver) list every time. Entries are kept only when the version read before
/// the listing equals the one read after it and is stable (see <see cref="DirectoryVersion.Stable"/>): a
/// directory changed in the last moments is listed again on every call until it has been quiet for a while.
/// The cached arrays are shared: callers must not change them. Memory is bounded by <paramref name="capacity"/>
/// directories and <paramref name="maxNames"/> names in all (about 60 bytes each): when either would be exceeded
/// the cache starts over.
/// </summary>
public sealed class DirectoryListingCache(IStorageDriver driver, int capacity = 1024, int maxNames = 500_000)
{
    private sealed record Entry(DirectoryVersion Version, string[] Items);

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private long _names;
    private long _hits;
    private long _misses;

    /// <summary>Calls answered from the cache.</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>Calls that listed the directory.</summary>
    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>
    /// <paramref name="build"/> applied to the names of the directory's children (it may sort the array in
    /// place and return it), or null when the directory does not exist. <paramref name="build"/> must depend on
    /// the names only, and one directory must always be asked with the same <paramref name="build"/>.
    /// </summary>
    public async Task<string[]?> GetAsync(string directory, Func<string[], string[]> build, CancellationToken cancellationToken = default)
    {
        var source = driver as IDirectoryVersionSource;
        var before = source?.GetDirectoryVersion(directory);
        if (before is { Exists: false })
        {
            return null;
        }
        if (before is { IsCacheable: true } version && _entries.TryGetValue(directory, out var entry) && entry.Version == version)
        {
            Interlocked.Increment(ref _hits);
            return entry.Items;
        }
        Interlocked.Increment(ref _misses);
        string[] names;
        try
        {
            var children = await driver.ListAsync(directory, cancellationToken).ConfigureAwait(false);
            names = new string[children.Count];
            for (var i = 0; i < names.Length; i++)
            {
                names[i] = StoragePath.FileName(children[i]);
            }
        }
        catch (PathNotFoundException)
        {
            return null;
        }
        var items = build(names);
        if (before is { IsCacheable: true } listed && items.Length <= maxNames && source!.GetDirectoryVersion(directory) == listed)
        {
            if (_entries.Count >= capacity || Interlocked.Read(ref _names) + items.Length > maxNames)
            {
                _entries.Clear();
                Interlocked.Exchange(ref _names, 0);
            }
            if (_entries.TryGetValue(directory, out var replaced))
            {
                Interlocked.Add(ref _names, -replaced.Items.Length);
            }
            _entries[directory] = new Entry(listed, items);
            Interlocked.Add(ref _names, items.Length);
        }
        else if (_entries.TryRemove(directory, out var removed))
        {
            Interlocked.Add(ref _names, -removed.Items.Length);
        }
        return items;
    }
}
