using Berth.Core.Manifests;

namespace Berth.Core.Tags;

public sealed record Page(IReadOnlyList<string> Items, bool HasMore);

/// <summary>Tag listing in lexical (ordinal) order with n/last pagination.</summary>
public sealed class TagService(ManifestService manifests)
{
    public async Task<Page> ListAsync(string repository, int? n, string? last, CancellationToken cancellationToken = default)
    {
        if (!await manifests.RepositoryExistsAsync(repository, cancellationToken).ConfigureAwait(false))
        {
            throw new RegistryException(RegistryErrorCode.NameUnknown, "repository name not known to registry", new { repository });
        }
        var tags = (await manifests.ListTagDirectoriesAsync(repository, cancellationToken).ConfigureAwait(false)).ToArray();
        Array.Sort(tags, StringComparer.Ordinal);
        return Paginate(tags, n, last);
    }

    public static Page Paginate(IReadOnlyList<string> sorted, int? n, string? last)
    {
        var start = 0;
        if (!string.IsNullOrEmpty(last))
        {
            var lo = 0;
            var hi = sorted.Count;
            while (lo < hi)
            {
                var mid = (lo + hi) / 2;
                if (string.CompareOrdinal(sorted[mid], last) <= 0)
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
