using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Berth.EndToEnd.Tests.Infrastructure;

public sealed record StoredTag(string Repository, string Tag, string Digest);

/// <summary>What a walk over the storage found: healthy tags, problems (a tag pointing at missing,
/// empty or wrong content) and notes (harmless leftovers worth a line in the log).</summary>
public sealed record StorageReport(IReadOnlyList<StoredTag> Tags, IReadOnlyList<string> Problems, IReadOnlyList<string> Notes)
{
    public string Describe() =>
        $"{Tags.Count} healthy tags, {Problems.Count} problems, {Notes.Count} notes" +
        string.Concat(Problems.Select(p => "\n  PROBLEM " + p)) + string.Concat(Notes.Select(n => "\n  note " + n));
}

/// <summary>
/// Reads CNCF Distribution's storage layout (docker/registry/v2 under the storage root) directly from
/// disk, independently of the code under test, and checks that every tag leads to complete content.
/// </summary>
public static partial class DistributionStorage
{
    [GeneratedRegex("^sha256:[0-9a-f]{64}$", RegexOptions.CultureInvariant)]
    private static partial Regex Sha256Digest();

    public static string V2(string root) => Path.Combine(root, "docker", "registry", "v2");

    public static string BlobData(string root, string digest)
    {
        var hex = digest["sha256:".Length..];
        return Path.Combine(V2(root), "blobs", "sha256", hex[..2], hex, "data");
    }

    private static string Link(string repositoryDir, string kind, string digest) =>
        kind == "layers"
            ? Path.Combine(repositoryDir, "_layers", "sha256", digest["sha256:".Length..], "link")
            : Path.Combine(repositoryDir, "_manifests", "revisions", "sha256", digest["sha256:".Length..], "link");

    /// <summary>Walks every repositories/**/_manifests/tags/*/current/link and everything it leads to.</summary>
    public static StorageReport Check(string root)
    {
        var tags = new List<StoredTag>();
        var problems = new List<string>();
        var notes = new List<string>();
        var verified = new Dictionary<string, string?>(StringComparer.Ordinal);
        var repositories = Path.Combine(V2(root), "repositories");
        if (!Directory.Exists(repositories))
        {
            return new StorageReport(tags, problems, notes);
        }
        foreach (var manifestsDir in Directory.EnumerateDirectories(repositories, "_manifests", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var repositoryDir = Path.GetDirectoryName(manifestsDir)!;
            var repository = Path.GetRelativePath(repositories, repositoryDir).Replace('\\', '/');
            var tagsDir = Path.Combine(manifestsDir, "tags");
            if (!Directory.Exists(tagsDir))
            {
                continue;
            }
            foreach (var tagDir in Directory.EnumerateDirectories(tagsDir).Order(StringComparer.Ordinal))
            {
                var tag = Path.GetFileName(tagDir);
                var where = $"{repository}:{tag}";
                var current = Path.Combine(tagDir, "current", "link");
                if (!File.Exists(current))
                {
                    notes.Add($"{where}: tag folder without current/link (lists as a tag, resolves to nothing)");
                    continue;
                }
                var text = Encoding.UTF8.GetString(File.ReadAllBytes(current));
                if (text.Length == 0)
                {
                    problems.Add($"{where}: current/link is empty");
                    continue;
                }
                if (!Sha256Digest().IsMatch(text))
                {
                    problems.Add($"{where}: current/link holds '{Clip(text)}', not a sha256 digest");
                    continue;
                }
                var before = problems.Count;
                CheckManifest(root, repositoryDir, where, text, problems, verified, depth: 0);
                if (problems.Count == before)
                {
                    tags.Add(new StoredTag(repository, tag, text));
                }
            }
        }
        return new StorageReport(tags, problems, notes);
    }

    private static void CheckManifest(string root, string repositoryDir, string where, string digest, List<string> problems, Dictionary<string, string?> verified, int depth)
    {
        var revision = Link(repositoryDir, "revisions", digest);
        if (!File.Exists(revision))
        {
            problems.Add($"{where}: manifest {digest} has no revision link ({revision})");
            return;
        }
        var revisionText = File.ReadAllText(revision);
        if (revisionText != digest)
        {
            problems.Add($"{where}: revision link {revision} holds '{Clip(revisionText)}', expected {digest}");
        }
        if (!CheckBlobData(root, where, digest, problems, verified))
        {
            return;
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(BlobData(root, digest)));
        }
        catch (JsonException e)
        {
            problems.Add($"{where}: manifest {digest} is not JSON: {e.Message}");
            return;
        }
        using (document)
        {
            var manifest = document.RootElement;
            if (manifest.TryGetProperty("manifests", out var children))
            {
                if (depth > 0)
                {
                    problems.Add($"{where}: nested index {digest}");
                    return;
                }
                foreach (var child in children.EnumerateArray())
                {
                    CheckManifest(root, repositoryDir, $"{where} (child {child.GetProperty("digest").GetString()})", child.GetProperty("digest").GetString()!, problems, verified, depth + 1);
                }
                return;
            }
            var blobs = new List<JsonElement>();
            if (manifest.TryGetProperty("config", out var config))
            {
                blobs.Add(config);
            }
            if (manifest.TryGetProperty("layers", out var layers))
            {
                blobs.AddRange(layers.EnumerateArray());
            }
            if (blobs.Count == 0)
            {
                problems.Add($"{where}: manifest {digest} names neither config, layers nor manifests");
            }
            foreach (var blob in blobs)
            {
                if (blob.TryGetProperty("urls", out _))
                {
                    continue;
                }
                var blobDigest = blob.GetProperty("digest").GetString() ?? "";
                if (!Sha256Digest().IsMatch(blobDigest))
                {
                    problems.Add($"{where}: manifest {digest} names '{Clip(blobDigest)}', not a sha256 digest");
                    continue;
                }
                CheckBlobData(root, where, blobDigest, problems, verified);
                var link = Link(repositoryDir, "layers", blobDigest);
                if (!File.Exists(link))
                {
                    problems.Add($"{where}: blob {blobDigest} has no _layers link ({link})");
                }
                else if (File.ReadAllText(link) is var linkText && linkText != blobDigest)
                {
                    problems.Add($"{where}: _layers link {link} holds '{Clip(linkText)}', expected {blobDigest}");
                }
            }
        }
    }

    /// <summary>Blob data exists, is not empty and hashes to its digest.</summary>
    private static bool CheckBlobData(string root, string where, string digest, List<string> problems, Dictionary<string, string?> verified)
    {
        if (!verified.TryGetValue(digest, out var failure))
        {
            var path = BlobData(root, digest);
            if (!File.Exists(path))
            {
                failure = $"blob {digest} has no data ({path})";
            }
            else
            {
                var bytes = File.ReadAllBytes(path);
                if (bytes.Length == 0)
                {
                    failure = $"blob {digest} data is empty ({path})";
                }
                else if ("sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes)) is var actual && actual != digest)
                {
                    failure = $"blob {digest} data hashes to {actual} ({path})";
                }
            }
            verified[digest] = failure;
        }
        if (failure is not null)
        {
            problems.Add($"{where}: {failure}");
            return false;
        }
        return true;
    }

    private static string Clip(string text) => text.Length <= 100 ? text : text[..100] + "...";
}
