using Berth.Core.Manifests;

namespace Berth.Core.Tags;

public sealed record Page(IReadOnlyList<string> Items, bool HasMore);

/// <summary>Tag listing in lexical order with n/last pagination.</summary>
public sealed class TagService(ManifestService manifests)
{
    /// <summary>The spec's "lexical order (i.e. case-insensitive alphanumeric order)": tags compared
    /// lower-cased, and ordinally when they differ only in case, so that the order is total and
    /// <c>last</c> pagination is exact.</summary>
    public static readonly IComparer<string> LexicalOrder = Comparer<string>.Create(static (a, b) =>
    {
        var byLowerCase = string.CompareOrdinal(a.ToLowerInvariant(), b.ToLowerInvariant());
        return byLowerCase != 0 ? byLowerCase : string.CompareOrdinal(a, b);
    });

    public async Task<Page> ListAsync(string repository, int? n, string? last, CancellationToken cancellationToken = default)
    {
        if (!await manifests.RepositoryExistsAsync(repository, cancellationToken).ConfigureAwait(false))
        {
            throw new RegistryException(RegistryErrorCode.NameUnknown, "repository name not known to registry", new { repository });
        }
        var tags = (await manifests.ListTagDirectoriesAsync(repository, cancellationToken).ConfigureAwait(false)).ToArray();
        Array.Sort(tags, LexicalOrder);
        return Paginate(tags, n, last, LexicalOrder);
    }

    /// <summary>One page of <paramref name="sorted"/>, which is in <paramref name="order"/> (ordinal when null).</summary>
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
            return new Page([.. sorted.Skip(start).Take(limit)], limit > 0);
        }
        return new Page([.. sorted.Skip(start)], false);
    }
}
