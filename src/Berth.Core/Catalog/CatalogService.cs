using Berth.Core.Tags;
using Berth.Storage;

namespace Berth.Core.Catalog;

/// <summary>
/// Lists repositories in ordinal order with n/last pagination. Once the storage's catalog index is built
/// (<see cref="RepositoryIndex"/>), a page is: one listing of the index (cached and validated by one <c>statx</c>
/// on a filesystem), a binary search for <c>last</c>, and an existence check of each returned name, so that
/// repositories removed since they were indexed are skipped. Before the index is built, the tree is walked:
/// folders under repositories/ that hold _manifests, _layers or _uploads, nested to any depth.
/// </summary>
public sealed class CatalogService(IStorageDriver driver, RepositoryIndex index)
{
    public async Task<Page> ListAsync(int? n, string? last, CancellationToken cancellationToken = default)
    {
        if (!await index.IsBuiltAsync(cancellationToken).ConfigureAwait(false))
        {
            var walked = (await RepositoryIndex.WalkRepositoriesAsync(driver, cancellationToken).ConfigureAwait(false)).ToArray();
            Array.Sort(walked, StringComparer.Ordinal);
            return TagService.Paginate(walked, n, last);
        }
        if (n == 0)
        {
            return new Page([], false);
        }
        var names = await index.ListAsync(cancellationToken).ConfigureAwait(false);
        var start = 0;
        if (!string.IsNullOrEmpty(last))
        {
            start = Array.BinarySearch(names, last, StringComparer.Ordinal);
            start = start >= 0 ? start + 1 : ~start;
        }
        // One more than asked for tells whether a next page exists (a Link only when it holds something).
        var want = n is { } limit ? limit + 1 : int.MaxValue;
        var selected = await index.SelectExistingAsync(new ArraySegment<string>(names, start, names.Length - start), want, cancellationToken).ConfigureAwait(false);
        if (n is { } l && selected.Count > l)
        {
            selected.RemoveAt(selected.Count - 1);
            return new Page(selected, true);
        }
        return new Page(selected, false);
    }
}
