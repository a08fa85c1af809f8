using System.Text.Json;
using System.Text.RegularExpressions;
using Berth.Storage;
using Berth.Storage.Layout;

namespace Berth.ScaleOut.Tests;

/// <summary>
/// Walks a registry's storage and checks that no tag points at missing content: every
/// <c>_manifests/tags/&lt;tag&gt;/current/link</c> holds a valid digest whose revision link and blob data exist, and
/// every blob the manifest references (config, layers, index children) has data and is linked in the repository.
/// </summary>
public static partial class StorageConsistency
{
    public sealed record Report(IReadOnlyDictionary<string, string> Tags, IReadOnlyList<string> Problems);

    [GeneratedRegex("^/docker/registry/v2/repositories/(.+)/_manifests/tags/([^/]+)/current/link$")]
    private static partial Regex TagLink();

    /// <summary>The tags found ("repository:tag" to digest) and what is wrong.</summary>
    public static async Task<Report> CheckAsync(IStorageDriver driver)
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        var problems = new List<string>();
        var links = new List<(string Repository, string Tag, string Path)>();
        await foreach (var entry in driver.WalkAsync(StoragePaths.RepositoriesRoot))
        {
            if (TagLink().Match(entry.Path) is { Success: true } m)
            {
                links.Add((m.Groups[1].Value, m.Groups[2].Value, entry.Path));
            }
        }
        foreach (var (repository, tag, path) in links)
        {
            var text = System.Text.Encoding.ASCII.GetString(await driver.GetContentAsync(path));
            if (!Digest.TryParse(text, out var digest))
            {
                problems.Add($"{repository}:{tag}: current link holds '{text}', not a digest");
                continue;
            }
            tags[$"{repository}:{tag}"] = digest.ToString();
            if (!await ExistsAsync(driver, StoragePaths.RevisionLink(repository, digest)))
            {
                problems.Add($"{repository}:{tag}: no revision link for {digest}");
            }
            byte[] manifest;
            try
            {
                manifest = await driver.GetContentAsync(StoragePaths.BlobData(digest));
            }
            catch (PathNotFoundException)
            {
                problems.Add($"{repository}:{tag}: manifest {digest} has no blob data");
                continue;
            }
            if (Digest.Compute(manifest) != digest)
            {
                problems.Add($"{repository}:{tag}: manifest data does not hash to {digest}");
            }
            foreach (var referenced in References(manifest))
            {
                if (!Digest.TryParse(referenced, out var blob))
                {
                    problems.Add($"{repository}:{tag}: manifest references '{referenced}'");
                }
                else if (!await ExistsAsync(driver, StoragePaths.BlobData(blob)))
                {
                    problems.Add($"{repository}:{tag}: blob {blob} has no data");
                }
                else if (!await ExistsAsync(driver, StoragePaths.LayerLink(repository, blob))
                    && !await ExistsAsync(driver, StoragePaths.RevisionLink(repository, blob)))
                {
                    problems.Add($"{repository}:{tag}: blob {blob} is not linked in the repository");
                }
            }
        }
        return new Report(tags, problems);
    }

    private static IEnumerable<string> References(byte[] manifest)
    {
        using var json = JsonDocument.Parse(manifest);
        var root = json.RootElement;
        var found = new List<string>();
        if (root.TryGetProperty("config", out var config))
        {
            found.Add(config.GetProperty("digest").GetString()!);
        }
        foreach (var list in new[] { "layers", "manifests" })
        {
            if (root.TryGetProperty(list, out var items))
            {
                found.AddRange(items.EnumerateArray().Select(i => i.GetProperty("digest").GetString()!));
            }
        }
        return found;
    }

    private static async Task<bool> ExistsAsync(IStorageDriver driver, string path)
    {
        try
        {
            await driver.StatAsync(path);
            return true;
        }
        catch (PathNotFoundException)
        {
            return false;
        }
    }
}
