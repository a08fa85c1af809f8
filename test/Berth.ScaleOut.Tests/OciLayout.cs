using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Berth.ScaleOut.Tests;

/// <summary>
/// Writes an OCI image layout (oci-layout, index.json, blobs/sha256/...) that skopeo copies from with
/// <c>oci:DIR:TAG</c>: an image manifest, its config and gzip layers, each a tar holding one file of random bytes
/// (stored without compression, so making them costs little and they stay the size asked for).
/// </summary>
public sealed class OciLayout
{
    private OciLayout(string directory, string tag, string manifestDigest, IReadOnlyList<string> blobDigests)
    {
        Directory = directory;
        Tag = tag;
        ManifestDigest = manifestDigest;
        BlobDigests = blobDigests;
    }

    public string Directory { get; }

    public string Tag { get; }

    public string ManifestDigest { get; }

    /// <summary>The config and the layers.</summary>
    public IReadOnlyList<string> BlobDigests { get; }

    /// <summary>skopeo's name of the image.</summary>
    public string Reference => $"oci:{Directory}:{Tag}";

    public static OciLayout Create(string directory, string tag, IReadOnlyList<int> layerSizes, int seed)
    {
        System.IO.Directory.CreateDirectory(Path.Combine(directory, "blobs", "sha256"));
        File.WriteAllText(Path.Combine(directory, "oci-layout"), """{"imageLayoutVersion":"1.0.0"}""");
        var random = new Random(seed);
        var layers = new JsonArray();
        var diffIds = new JsonArray();
        var blobs = new List<string>();
        for (var i = 0; i < layerSizes.Count; i++)
        {
            var payload = new byte[layerSizes[i]];
            random.NextBytes(payload);
            var tar = Tar($"layer{i}.bin", payload);
            diffIds.Add(Digest(tar));
            var gz = Gzip(tar);
            var digest = WriteBlob(directory, gz);
            blobs.Add(digest);
            layers.Add(new JsonObject
            {
                ["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip",
                ["digest"] = digest,
                ["size"] = gz.Length,
            });
        }
        var config = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["architecture"] = "amd64",
            ["os"] = "linux",
            ["config"] = new JsonObject { ["Cmd"] = new JsonArray("/layer0.bin"), ["Labels"] = new JsonObject { ["seed"] = seed.ToString(System.Globalization.CultureInfo.InvariantCulture) } },
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = diffIds },
        }.ToJsonString());
        var configDigest = WriteBlob(directory, config);
        blobs.Insert(0, configDigest);
        var manifest = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = "application/vnd.oci.image.manifest.v1+json",
            ["config"] = new JsonObject { ["mediaType"] = "application/vnd.oci.image.config.v1+json", ["digest"] = configDigest, ["size"] = config.Length },
            ["layers"] = layers,
        }.ToJsonString());
        var manifestDigest = WriteBlob(directory, manifest);
        File.WriteAllText(Path.Combine(directory, "index.json"), new JsonObject
        {
            ["schemaVersion"] = 2,
            ["manifests"] = new JsonArray(new JsonObject
            {
                ["mediaType"] = "application/vnd.oci.image.manifest.v1+json",
                ["digest"] = manifestDigest,
                ["size"] = manifest.Length,
                ["annotations"] = new JsonObject { ["org.opencontainers.image.ref.name"] = tag },
            }),
        }.ToJsonString());
        return new OciLayout(directory, tag, manifestDigest, blobs);
    }

    /// <summary>The manifest digest that index.json of a layout gives for a tag (after a pull into it).</summary>
    public static string ManifestDigestOf(string directory, string tag)
    {
        using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "index.json")));
        foreach (var m in index.RootElement.GetProperty("manifests").EnumerateArray())
        {
            if (m.TryGetProperty("annotations", out var a) && a.TryGetProperty("org.opencontainers.image.ref.name", out var name) && name.GetString() == tag)
            {
                return m.GetProperty("digest").GetString()!;
            }
        }
        throw new InvalidOperationException($"no tag {tag} in {directory}/index.json");
    }

    private static string WriteBlob(string directory, byte[] content)
    {
        var digest = Digest(content);
        File.WriteAllBytes(Path.Combine(directory, "blobs", "sha256", digest["sha256:".Length..]), content);
        return digest;
    }

    public static string Digest(byte[] content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));

    private static byte[] Tar(string name, byte[] content)
    {
        using var buffer = new MemoryStream();
        using (var tar = new TarWriter(buffer, TarEntryFormat.Pax, leaveOpen: true))
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, name)
            {
                DataStream = new MemoryStream(content),
                Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
                ModificationTime = DateTimeOffset.UnixEpoch,
            };
            tar.WriteEntry(entry);
        }
        return buffer.ToArray();
    }

    private static byte[] Gzip(byte[] content)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.NoCompression, leaveOpen: true))
        {
            gzip.Write(content);
        }
        return buffer.ToArray();
    }
}
