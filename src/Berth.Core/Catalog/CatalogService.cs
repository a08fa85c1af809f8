using Berth.Core.Tags;
using Berth.Storage;
using Berth.Storage.Layout;

namespace Berth.Core.Catalog;

/// <summary>Lists repositories: folders under repositories/ that hold _manifests, _layers or _uploads,
/// nested to any depth.</summary>
public sealed class CatalogService(IStorageDriver driver)
{
    public async Task<Page> ListAsync(int? n, string? last, CancellationToken cancellationToken = default)
    {
        var names = new List<string>();
        await WalkAsync(StoragePaths.RepositoriesRoot, "", names, cancellationToken).ConfigureAwait(false);
        var sorted = names.ToArray();
        Array.Sort(sorted, StringComparer.Ordinal);
        return TagService.Paginate(sorted, n, last);
    }

    private async Task WalkAsync(string path, string name, List<string> names, CancellationToken cancellationToken)
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
            if (childName is StoragePaths.ManifestsDirName or StoragePaths.LayersDirName or StoragePaths.UploadsDirName)
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
            await WalkAsync(path + "/" + sub, name.Length == 0 ? sub : name + "/" + sub, found, cancellationToken).ConfigureAwait(false);
            return found;
        });
        foreach (var found in await Task.WhenAll(tasks).ConfigureAwait(false))
        {
            names.AddRange(found);
        }
    }
}
