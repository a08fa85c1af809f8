using System.Text;
using System.Text.Json;
using Berth.Core.Manifests;
using Berth.Storage;
using Berth.Storage.Layout;

namespace Berth.Maintenance.Tests.Support;

/// <summary>Writes storage in Distribution's layout directly, as a registry's push would leave it: blob data,
/// _layers links, the manifest blob, its revision link, then the tag's index and current links.</summary>
internal sealed class TestRegistry(IStorageDriver driver)
{
    private int _counter;

    public IStorageDriver Driver { get; } = driver;

    public sealed record Image(Digest Manifest, Digest Config, IReadOnlyList<Digest> Layers, byte[] ManifestBytes);

    public async Task<Digest> PutBlobAsync(byte[] content)
    {
        var digest = Digest.Compute(content);
        await Driver.PutContentAsync(StoragePaths.BlobData(digest), content);
        return digest;
    }

    public Task LinkLayerAsync(string repository, Digest digest) => LinkFile.WriteAsync(Driver, StoragePaths.LayerLink(repository, digest), digest);

    public Task LinkRevisionAsync(string repository, Digest digest) => LinkFile.WriteAsync(Driver, StoragePaths.RevisionLink(repository, digest), digest);

    public async Task TagAsync(string repository, string tag, Digest manifest)
    {
        await LinkFile.WriteAsync(Driver, StoragePaths.TagIndexLink(repository, tag, manifest), manifest);
        await LinkFile.WriteAsync(Driver, StoragePaths.TagCurrentLink(repository, tag), manifest);
    }

    /// <summary>A unique layer's content.</summary>
    public byte[] NewLayer(int size = 64)
    {
        var bytes = new byte[size];
        new Random(Interlocked.Increment(ref _counter) * 7919).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Pushes an image manifest with the given layers (new unique ones when null) and a unique config.</summary>
    public async Task<Image> PushImageAsync(string repository, string? tag, byte[][]? layers = null, Func<string, string>? editManifest = null, Digest? subject = null)
    {
        layers ??= [NewLayer(), NewLayer()];
        var config = Encoding.UTF8.GetBytes($"{{\"architecture\":\"amd64\",\"os\":\"linux\",\"n\":{Interlocked.Increment(ref _counter)}}}");
        var configDigest = await PutBlobAsync(config);
        await LinkLayerAsync(repository, configDigest);
        var layerDigests = new List<Digest>();
        foreach (var l in layers)
        {
            var d = await PutBlobAsync(l);
            await LinkLayerAsync(repository, d);
            layerDigests.Add(d);
        }
        var subjectJson = subject is { } s ? $",\"subject\":{{\"mediaType\":\"{MediaTypes.OciManifest}\",\"digest\":\"{s}\",\"size\":123}}" : "";
        var json = $"{{\"schemaVersion\":2,\"mediaType\":\"{MediaTypes.OciManifest}\",\"config\":{Descriptor("application/vnd.oci.image.config.v1+json", configDigest, config.Length)},"
            + $"\"layers\":[{string.Join(",", layers.Select((l, i) => Descriptor("application/vnd.oci.image.layer.v1.tar+gzip", layerDigests[i], l.Length)))}]{subjectJson}}}";
        if (editManifest is not null)
        {
            json = editManifest(json);
        }
        var manifest = Encoding.UTF8.GetBytes(json);
        var manifestDigest = await PushManifestBytesAsync(repository, tag, manifest);
        return new Image(manifestDigest, configDigest, layerDigests, manifest);
    }

    /// <summary>Stores manifest bytes as a manifest of the repository (and tags it when <paramref name="tag"/> is set).</summary>
    public async Task<Digest> PushManifestBytesAsync(string repository, string? tag, byte[] manifest)
    {
        var digest = await PutBlobAsync(manifest);
        await LinkRevisionAsync(repository, digest);
        if (tag is not null)
        {
            await TagAsync(repository, tag, digest);
        }
        return digest;
    }

    /// <summary>Pushes an index of <paramref name="children"/> (already pushed to the repository).</summary>
    public async Task<(Digest Digest, byte[] Bytes)> PushIndexAsync(string repository, string tag, IReadOnlyList<Image> children, Func<string, string>? edit = null)
    {
        var json = $"{{\"schemaVersion\":2,\"mediaType\":\"{MediaTypes.OciIndex}\",\"manifests\":[{string.Join(",", children.Select(c => Descriptor(MediaTypes.OciManifest, c.Manifest, c.ManifestBytes.Length)))}]}}";
        if (edit is not null)
        {
            json = edit(json);
        }
        var bytes = Encoding.UTF8.GetBytes(json);
        return (await PushManifestBytesAsync(repository, tag, bytes), bytes);
    }

    public async Task StartUploadAsync(string repository, string id, DateTimeOffset? startedAt, int size = 10)
    {
        await Driver.PutContentAsync(StoragePaths.UploadData(repository, id), new byte[size]);
        if (startedAt is { } t)
        {
            await Driver.PutContentAsync(StoragePaths.UploadStartedAt(repository, id), Encoding.UTF8.GetBytes(t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ")));
        }
    }

    /// <summary>Every object and its bytes: compare before and after to prove nothing changed, or that restore is exact.</summary>
    public async Task<SortedDictionary<string, string>> SnapshotAsync(string root = StoragePaths.Root)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        await foreach (var e in Driver.WalkAsync(root))
        {
            result[e.Path] = Convert.ToHexString(await Driver.GetContentAsync(e.Path));
        }
        return result;
    }

    private static string Descriptor(string mediaType, Digest digest, long size) =>
        JsonSerializer.Serialize(new Dictionary<string, object> { ["mediaType"] = mediaType, ["digest"] = digest.ToString(), ["size"] = size });
}
