using Berth.Core.Listing;
using Berth.Core.Manifests;
using Berth.Storage;
using Berth.Storage.Layout;

namespace Berth.Core.Tags;

public sealed record Page(IReadOnlyList<string> Items, bool HasMore);

/// <summary>
/// Tag listing in lexical order with n/last pagination.
/// <para>Cost of a list (5,000 tags): one directory read, then a sort. Both are kept cheap: names are taken
/// from the listing without re-parsing paths, the comparer allocates nothing (ASCII compared in place; only a
/// name outside ASCII falls back to lower-casing), and when no name has an ASCII capital or a non-ASCII
/// character the order is the ordinal one, so the array is sorted ordinally. On a filesystem the sorted array
/// is cached per repository and validated on every list by one <c>statx</c> of the tags folder (see
/// <see cref="DirectoryListingCache"/>): a tag pushed or deleted through any instance changes the folder and
/// shows in the next list. Object stores list every time.</para>
/// </summary>
public sealed class TagService(IStorageDriver driver, ManifestService manifests)
{
    /// <summary>The spec's "lexical order (i.e. case-insensitive alphanumeric order)": tags compared
    /// lower-cased, and ordinally when they differ only in case, so that the order is total and
    /// <c>last</c> pagination is exact.</summary>
    public static readonly IComparer<string> LexicalOrder = new LexicalComparer();

    private readonly DirectoryListingCache _listings = new(driver);

    /// <summary>The cache of sorted tag folders (for tests and metrics).</summary>
    public DirectoryListingCache Listings => _listings;

    public async Task<Page> ListAsync(string repository, int? n, string? last, CancellationToken cancellationToken = default)
    {
        var tags = await _listings.GetAsync(StoragePaths.TagsDirectory(repository), SortLexically, cancellationToken).ConfigureAwait(false);
        if (tags is null)
        {
            if (!await manifests.RepositoryExistsAsync(repository, cancellationToken).ConfigureAwait(false))
            {
                throw new RegistryException(RegistryErrorCode.NameUnknown, "repository name not known to registry", new { repository });
            }
            tags = [];
        }
        return Paginate(tags, n, last, LexicalOrder);
    }

    /// <summary>Sorts <paramref name="names"/> in place in <see cref="LexicalOrder"/>.</summary>
    public static string[] SortLexically(string[] names)
    {
        var ordinalIsLexical = true;
        foreach (var name in names)
        {
            if (name.AsSpan().ContainsAnyExceptInRange((char)0, (char)0x7f) || name.AsSpan().ContainsAnyInRange('A', 'Z'))
            {
                ordinalIsLexical = false;
                break;
            }
        }
        Array.Sort(names, ordinalIsLexical ? StringComparer.Ordinal : LexicalOrder);
        return names;
    }

    /// <summary>One page of <paramref name="sorted"/>, which is in <paramref name="order"/> (ordinal when null).
    /// The page shares <paramref name="sorted"/> when it is an array.</summary>
    public static Page Paginate(IReadOnlyList<string> sorted, int? n, string? last, IComparer<string>? order = null)
    {
        order ??= StringComparer.Ordinal;
        var start = 0;
        if (!string.IsNullOrEmpty(last))
        {
            var lo = 0;
            var hi = sorted.Count;
            while (lo < hi)
            {
                var mid = (lo + hi) / 2;
                if (order.Compare(sorted[mid], last) <= 0)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid;
                }
            }
            start = lo;
        }
        var remaining = sorted.Count - start;
        if (n is { } limit && limit < remaining)
        {
            return new Page(Slice(sorted, start, limit), limit > 0);
        }
        return new Page(Slice(sorted, start, remaining), false);
    }

    private static IReadOnlyList<string> Slice(IReadOnlyList<string> sorted, int start, int count) =>
        sorted is string[] array ? new ArraySegment<string>(array, start, count) : [.. sorted.Skip(start).Take(count)];

    /// <summary>Lower-cased ordinal comparison, then ordinal; equal to comparing <c>ToLowerInvariant()</c> copies
    /// but without allocating for ASCII.</summary>
    private sealed class LexicalComparer : IComparer<string>
    {
        public int Compare(string? x, string? y)
        {
            if (ReferenceEquals(x, y))
            {
                return 0;
            }
            if (x is null || y is null)
            {
                return x is null ? -1 : 1;
            }
            var length = Math.Min(x.Length, y.Length);
            for (var i = 0; i < length; i++)
            {
                var a = x[i];
                var b = y[i];
                if (a == b)
                {
                    continue;
                }
                if (a > 0x7f || b > 0x7f)
                {
                    return Slow(x, y);
                }
                var la = char.IsAsciiLetterUpper(a) ? (char)(a | 0x20) : a;
                var lb = char.IsAsciiLetterUpper(b) ? (char)(b | 0x20) : b;
                if (la != lb)
                {
                    return la - lb;
                }
            }
            if (x.Length != y.Length)
            {
                // Equal lower-cased up to the shorter length: the longer sorts after, as with the lower-cased copies
                // (ToLowerInvariant keeps lengths), unless the rest holds non-ASCII, which cannot change that.
                return x.Length - y.Length;
            }
            return string.CompareOrdinal(x, y);
        }

        private static int Slow(string x, string y)
        {
            var byLowerCase = string.CompareOrdinal(x.ToLowerInvariant(), y.ToLowerInvariant());
            return byLowerCase != 0 ? byLowerCase : string.CompareOrdinal(x, y);
        }
    }
}
