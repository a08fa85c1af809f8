using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Berth.Maintenance.Tests.EndToEnd;

/// <summary>Writes OCI image layouts by hand (oci-layout, index.json, blobs/sha256/...), for skopeo to push.</summary>
internal static class OciLayout
{
    public const string ManifestType = "application/vnd.oci.image.manifest.v1+json";
    public const string IndexType = "application/vnd.oci.image.index.v1+json";

    public sealed record Blob(string Digest, long Size, byte[] Content);

    /// <summary>Writes an image with a gzip'd layer of random bytes per entry of <paramref name="layers"/> (pass the same
    /// seed in two images to share a layer) and tags it <paramref name="tag"/> in the layout at <paramref name="directory"/>.
    /// Returns the manifest blob.</summary>
    public static Blob WriteImage(string directory, string tag, int[] layers, string architecture = "amd64")
    {
        var manifest = BuildImage(directory, layers, architecture);
        AddToIndex(directory, tag, ManifestType, manifest);
        return manifest;
    }

    /// <summary>Writes a two-platform index and tags it.</summary>
    public static Blob WriteIndex(string directory, string tag, int[] amd64Layers, int[] arm64Layers)
    {
        var amd = BuildImage(directory, amd64Layers, "amd64");
        var arm = BuildImage(directory, arm64Layers, "arm64");
        var index = Json(new Dictionary<string, object>
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = IndexType,
            ["manifests"] = new object[]
            {
                new Dictionary<string, object> { ["mediaType"] = ManifestType, ["digest"] = amd.Digest, ["size"] = amd.Size, ["platform"] = new { architecture = "amd64", os = "linux" } },
                new Dictionary<string, object> { ["mediaType"] = ManifestType, ["digest"] = arm.Digest, ["size"] = arm.Size, ["platform"] = new { architecture = "arm64", os = "linux" } },
            },
        });
        var blob = WriteBlob(directory, index);
        AddToIndex(directory, tag, IndexType, blob);
        return blob;
    }

    /// <summary>The gzip'd layer a seed gives (the same bytes for the same seed).</summary>
    public static byte[] Layer(int seed, out string diffId)
    {
        var raw = new byte[4096];
        new Random(seed).NextBytes(raw);
        diffId = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(raw));
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(raw);
        }
        return output.ToArray();
    }

    public static string DigestOf(byte[] content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));

    private static Blob BuildImage(string directory, int[] layers, string architecture)
    {
        Directory.CreateDirectory(Path.Combine(directory, "blobs", "sha256"));
        File.WriteAllText(Path.Combine(directory, "oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        var layerBlobs = new List<Blob>();
        var diffIds = new List<string>();
        foreach (var seed in layers)
        {
            layerBlobs.Add(WriteBlob(directory, Layer(seed, out var diffId)));
            diffIds.Add(diffId);
        }
        var config = WriteBlob(directory, Json(new Dictionary<string, object>
        {
            ["architecture"] = architecture,
            ["os"] = "linux",
            ["created"] = "2026-12-04T00:00:00Z",
            ["config"] = new Dictionary<string, object> { ["Cmd"] = new[] { "/bin/true" }, ["Labels"] = new Dictionary<string, string> { ["seeds"] = string.Join(",", layers) } },
            ["rootfs"] = new Dictionary<string, object> { ["type"] = "layers", ["diff_ids"] = diffIds },
        }));
        var manifest = Json(new Dictionary<string, object>
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = ManifestType,
            ["config"] = new Dictionary<string, object> { ["mediaType"] = "application/vnd.oci.image.config.v1+json", ["digest"] = config.Digest, ["size"] = config.Size },
            ["layers"] = layerBlobs.Select(l => new Dictionary<string, object> { ["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip", ["digest"] = l.Digest, ["size"] = l.Size }).ToArray(),
        });
        return WriteBlob(directory, manifest);
    }

    private static Blob WriteBlob(string directory, byte[] content)
    {
        var digest = DigestOf(content);
        File.WriteAllBytes(Path.Combine(directory, "blobs", "sha256", digest["sha256:".Length..]), content);
        return new Blob(digest, content.Length, content);
    }

    private static void AddToIndex(string directory, string tag, string mediaType, Blob blob)
    {
        var path = Path.Combine(directory, "index.json");
        var manifests = new List<object>();
        if (File.Exists(path))
        {
            using var existing = JsonDocument.Parse(File.ReadAllBytes(path));
            manifests.AddRange(existing.RootElement.GetProperty("manifests").EnumerateArray()
                .Where(m => !(m.TryGetProperty("annotations", out var a) && a.TryGetProperty("org.opencontainers.image.ref.name", out var n) && n.GetString() == tag))
                .Select(m => (object)m.Clone()));
        }
        manifests.Add(new Dictionary<string, object>
        {
            ["mediaType"] = mediaType,
            ["digest"] = blob.Digest,
            ["size"] = blob.Size,
            ["annotations"] = new Dictionary<string, string> { ["org.opencontainers.image.ref.name"] = tag },
        });
        File.WriteAllBytes(path, Json(new Dictionary<string, object> { ["schemaVersion"] = 2, ["manifests"] = manifests }));
    }

    private static byte[] Json(object value) => Encoding.UTF8.GetBytes(JsonSerializer.Serialize(value));
}
