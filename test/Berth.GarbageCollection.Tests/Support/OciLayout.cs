using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using Berth.Core.Manifests;
using Berth.Storage.Layout;

namespace Berth.GarbageCollection.Tests.Support;

/// <summary>Writes an OCI image layout (oci-layout, index.json, blobs/sha256) that skopeo copies from.</summary>
public sealed class OciLayout
{
    private readonly string _root;
    private readonly JsonArray _index = [];

    public OciLayout(string root)
    {
        _root = root;
        Directory.CreateDirectory(Path.Combine(root, "blobs", "sha256"));
        File.WriteAllText(Path.Combine(root, "oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        Save();
    }

    public string Root => _root;

    /// <summary>A gzip'd tar holding one file; returns the layer blob and its uncompressed digest.</summary>
    public static (Blob Layer, Digest DiffId) Layer(string text)
    {
        using var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, "file.txt")
            {
                DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text)),
                ModificationTime = DateTimeOffset.UnixEpoch,
            };
            writer.WriteEntry(entry);
        }
        using var gz = new MemoryStream();
        using (var zip = new GZipStream(gz, CompressionLevel.Optimal, leaveOpen: true))
        {
            zip.Write(tar.ToArray());
        }
        return (new Blob(gz.ToArray()), Digest.Compute(tar.ToArray()));
    }

    /// <summary>An image of the given layer texts; returns its manifest, config and layers.</summary>
    public (Blob Manifest, Blob Config, Blob[] Layers) Image(string architecture, params string[] layerTexts)
    {
        var layers = layerTexts.Select(Layer).ToArray();
        var diffIds = string.Join(",", layers.Select(l => $"\"{l.DiffId}\""));
        var config = Blob.Text($"{{\"architecture\":\"{architecture}\",\"os\":\"linux\",\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[{diffIds}]}},\"config\":{{}}}}");
        var manifest = Manifests.Image(config, [.. layers.Select(l => l.Layer)]);
        foreach (var b in layers.Select(l => l.Layer).Append(config).Append(manifest))
        {
            Put(b);
        }
        return (manifest, config, [.. layers.Select(l => l.Layer)]);
    }

    /// <summary>Names a manifest or index in index.json under a tag.</summary>
    public void Tag(string tag, Blob manifest, string mediaType = MediaTypes.OciManifest)
    {
        Put(manifest);
        _index.Add(new JsonObject
        {
            ["mediaType"] = mediaType,
            ["digest"] = manifest.Digest.ToString(),
            ["size"] = manifest.Size,
            ["annotations"] = new JsonObject { ["org.opencontainers.image.ref.name"] = tag },
        });
        Save();
    }

    public Blob IndexOf(params (Blob Manifest, string Architecture)[] children)
    {
        var manifests = new JsonArray();
        foreach (var (m, arch) in children)
        {
            manifests.Add(new JsonObject
            {
                ["mediaType"] = MediaTypes.OciManifest,
                ["digest"] = m.Digest.ToString(),
                ["size"] = m.Size,
                ["platform"] = new JsonObject { ["architecture"] = arch, ["os"] = "linux" },
            });
        }
        var index = new Blob(Encoding.UTF8.GetBytes(new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = MediaTypes.OciIndex,
            ["manifests"] = manifests,
        }.ToJsonString()));
        Put(index);
        return index;
    }

    private void Put(Blob blob) => File.WriteAllBytes(Path.Combine(_root, "blobs", "sha256", blob.Digest.Hex), blob.Content);

    private void Save() =>
        File.WriteAllText(Path.Combine(_root, "index.json"), new JsonObject { ["schemaVersion"] = 2, ["manifests"] = _index.DeepClone() }.ToJsonString());
}
