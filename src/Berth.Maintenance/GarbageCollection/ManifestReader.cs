using System.Collections.Concurrent;
using System.Text.Json;
using Berth.Core.Manifests;
using Berth.Storage;
using Berth.Storage.Layout;

namespace Berth.Maintenance.GarbageCollection;

internal enum ManifestStatus
{
    Ok,

    /// <summary>The manifest's blob data does not exist.</summary>
    Missing,

    /// <summary>The data exists but is not a manifest Berth can read references from.</summary>
    Unparseable,

    /// <summary>Storage failed while reading (anything but "not found").</summary>
    Unreadable,
}

/// <summary>What a manifest references. <see cref="Blobs"/>: config and every layer; <see cref="RequiredBlobs"/>: those a pull needs.</summary>
internal sealed record ManifestRefs(
    ManifestStatus Status,
    IReadOnlyList<Digest> Blobs,
    IReadOnlyList<Digest> RequiredBlobs,
    IReadOnlyList<Digest> Children,
    Digest? Subject,
    string Detail)
{
    public static ManifestRefs Failed(ManifestStatus status, string detail) => new(status, [], [], [], null, detail);
}

/// <summary>Reads each manifest once (content-addressed, so shared by every repository) and keeps only its references.</summary>
internal sealed class ManifestReader(IStorageDriver driver)
{
    /// <summary>Larger "manifests" are not read: nothing that big is a manifest.</summary>
    private const long MaxManifestBytes = 16 * 1024 * 1024;

    private readonly ConcurrentDictionary<Digest, Lazy<Task<ManifestRefs>>> _cache = new();

    public int Count => _cache.Count;

    public Task<ManifestRefs> ReadAsync(Digest digest, long? knownSize, CancellationToken cancellationToken) =>
        _cache.GetOrAdd(digest, d => new Lazy<Task<ManifestRefs>>(() => LoadAsync(d, knownSize, cancellationToken))).Value;

    public bool TryGetCached(Digest digest, out ManifestRefs refs)
    {
        refs = null!;
        if (_cache.TryGetValue(digest, out var lazy) && lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully)
        {
            refs = lazy.Value.Result;
            return true;
        }
        return false;
    }

    private async Task<ManifestRefs> LoadAsync(Digest digest, long? knownSize, CancellationToken cancellationToken)
    {
        if (knownSize > MaxManifestBytes)
        {
            return ManifestRefs.Failed(ManifestStatus.Unparseable, $"{knownSize} bytes is too large for a manifest");
        }
        byte[] content;
        try
        {
            content = await driver.GetContentAsync(StoragePaths.BlobData(digest), cancellationToken).ConfigureAwait(false);
        }
        catch (PathNotFoundException)
        {
            return ManifestRefs.Failed(ManifestStatus.Missing, $"the manifest's blob data {StoragePaths.BlobData(digest)} does not exist");
        }
        catch (Exception e) when (e is StorageException or IOException or UnauthorizedAccessException)
        {
            return ManifestRefs.Failed(ManifestStatus.Unreadable, "reading the manifest failed: " + e.Message);
        }
        return Parse(content);
    }

    internal static ManifestRefs Parse(byte[] content)
    {
        try
        {
            var m = ManifestParser.Parse(content);
            var blobs = new List<Digest>();
            if (m.Config is not null)
            {
                blobs.Add(m.Config.Digest);
            }
            blobs.AddRange(m.Layers.Select(l => l.Digest));
            return new ManifestRefs(ManifestStatus.Ok, blobs, [.. m.RequiredBlobs.Select(b => b.Digest)], [.. m.Manifests.Select(c => c.Digest)], m.Subject?.Digest, "");
        }
        catch (ManifestFormatException e)
        {
            return TryParseSchema1(content) ?? ManifestRefs.Failed(ManifestStatus.Unparseable, e.Message);
        }
    }

    /// <summary>Docker schema1 (Distribution still serves it): layers are fsLayers[].blobSum, there is no config.</summary>
    private static ManifestRefs? TryParseSchema1(byte[] content)
    {
        try
        {
            using var doc = JsonDocument.Parse(content);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("schemaVersion", out var v) || v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out var version) || version != 1
                || !root.TryGetProperty("fsLayers", out var layers) || layers.ValueKind != JsonValueKind.Array)
            {
                return null;
            }
            var blobs = new List<Digest>();
            foreach (var layer in layers.EnumerateArray())
            {
                if (layer.ValueKind != JsonValueKind.Object || !layer.TryGetProperty("blobSum", out var sum)
                    || sum.ValueKind != JsonValueKind.String || !Digest.TryParse(sum.GetString(), out var digest))
                {
                    return null;
                }
                blobs.Add(digest);
            }
            return new ManifestRefs(ManifestStatus.Ok, blobs, blobs, [], null, "");
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
