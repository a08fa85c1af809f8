using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Berth.EndToEnd.Tests.Infrastructure;

public static class MediaTypes
{
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    public const string OciConfig = "application/vnd.oci.image.config.v1+json";
    public const string OciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
}

public sealed record OciDescriptor(string MediaType, string Digest, long Size, string? Architecture = null, string? Os = null, string? Variant = null);

/// <summary>An image (or image index) written into a layout: its manifest, the blobs it names and,
/// for an index, the child images.</summary>
public sealed record WrittenImage(OciDescriptor Manifest, byte[] ManifestBytes, IReadOnlyList<OciDescriptor> Blobs, IReadOnlyList<WrittenImage> Children)
{
    public string Digest => Manifest.Digest;

    public bool IsIndex => Manifest.MediaType == MediaTypes.OciIndex;

    /// <summary>Every digest a full copy must carry: manifests (this one and the children) and their config and layers.</summary>
    public IEnumerable<string> AllDigests() =>
        new[] { Digest }.Concat(Blobs.Select(b => b.Digest)).Concat(Children.SelectMany(c => c.AllDigests())).Distinct();
}

/// <summary>
/// Writes OCI image layouts (oci-layout, index.json, blobs/sha256/...) the way an image builder would:
/// gzip'd tar layers of random bytes of chosen sizes, an image config naming their diff_ids, an image
/// manifest, and for multi-arch an image index over two platform manifests. Deterministic for a seed.
/// </summary>
public sealed class OciLayoutWriter
{
    public const string RefNameAnnotation = "org.opencontainers.image.ref.name";
    private readonly Random _random;
    private readonly List<(string Tag, OciDescriptor Descriptor)> _tags = [];

    public OciLayoutWriter(string directory, int seed)
    {
        Directory = directory;
        _random = new Random(seed);
        System.IO.Directory.CreateDirectory(Path.Combine(directory, "blobs", "sha256"));
        File.WriteAllText(Path.Combine(directory, "oci-layout"), """{"imageLayoutVersion":"1.0.0"}""");
        WriteIndexJson();
    }

    public string Directory { get; }

    /// <summary>skopeo's name for a tag of this layout.</summary>
    public string Reference(string tag) => $"oci:{Directory}:{tag}";

    public OciDescriptor WriteBlob(byte[] content, string mediaType)
    {
        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));
        var path = OciLayout.BlobPath(Directory, digest);
        if (!File.Exists(path))
        {
            File.WriteAllBytes(path, content);
        }
        return new OciDescriptor(mediaType, digest, content.Length);
    }

    /// <summary>A tar holding one file of <paramref name="size"/> random bytes, gzip'd. Returns the
    /// layer descriptor and the diff_id (digest of the uncompressed tar).</summary>
    public (OciDescriptor Layer, string DiffId) WriteRandomLayer(int size)
    {
        var payload = new byte[size];
        _random.NextBytes(payload);
        using var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, $"data/{Convert.ToHexStringLower(payload.AsSpan(0, Math.Min(8, size)))}-{size}.bin")
            {
                DataStream = new MemoryStream(payload),
                ModificationTime = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero),
                Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            };
            writer.WriteEntry(entry);
        }
        var tarBytes = tar.ToArray();
        var diffId = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(tarBytes));
        using var gz = new MemoryStream();
        using (var gzip = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(tarBytes);
        }
        return (WriteBlob(gz.ToArray(), MediaTypes.OciLayerGzip), diffId);
    }

    /// <summary>An image with one random layer per entry of <paramref name="layerSizes"/> (bytes, before compression).</summary>
    public WrittenImage WriteImage(IReadOnlyList<int> layerSizes, string architecture = "amd64", string os = "linux", string? variant = null) =>
        WriteImage([.. layerSizes.Select(WriteRandomLayer)], architecture, os, variant);

    /// <summary>An image whose first layer is <paramref name="baseLayer"/> (shared with other images), then one random layer per size.</summary>
    public WrittenImage WriteImage(IReadOnlyList<int> layerSizes, (OciDescriptor Layer, string DiffId) baseLayer) =>
        WriteImage([baseLayer, .. layerSizes.Select(WriteRandomLayer)], "amd64", "linux", null);

    private WrittenImage WriteImage(IReadOnlyList<(OciDescriptor Layer, string DiffId)> layers, string architecture, string os, string? variant)
    {
        var nonce = new byte[8];
        _random.NextBytes(nonce);
        var config = WriteBlob(Json(w =>
        {
            w.WriteString("created", "2024-01-01T00:00:00Z");
            w.WriteString("architecture", architecture);
            w.WriteString("os", os);
            if (variant is not null)
            {
                w.WriteString("variant", variant);
            }
            w.WriteStartObject("config");
            w.WriteStartArray("Env");
            w.WriteStringValue("PATH=/usr/local/bin:/usr/bin:/bin");
            w.WriteEndArray();
            w.WriteStartArray("Cmd");
            w.WriteStringValue("/bin/true");
            w.WriteEndArray();
            w.WriteStartObject("Labels");
            w.WriteString("org.example.berth.e2e.nonce", Convert.ToHexStringLower(nonce));
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteStartObject("rootfs");
            w.WriteString("type", "layers");
            w.WriteStartArray("diff_ids");
            foreach (var layer in layers)
            {
                w.WriteStringValue(layer.DiffId);
            }
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteStartArray("history");
            for (var i = 0; i < layers.Count; i++)
            {
                w.WriteStartObject();
                w.WriteString("created", "2024-01-01T00:00:00Z");
                w.WriteString("created_by", $"berth end-to-end test layer {i}");
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }), MediaTypes.OciConfig);
        var manifestBytes = Json(w =>
        {
            w.WriteNumber("schemaVersion", 2);
            w.WriteString("mediaType", MediaTypes.OciManifest);
            w.WritePropertyName("config");
            WriteDescriptor(w, config);
            w.WriteStartArray("layers");
            foreach (var layer in layers)
            {
                WriteDescriptor(w, layer.Layer);
            }
            w.WriteEndArray();
        });
        var manifest = WriteBlob(manifestBytes, MediaTypes.OciManifest) with { Architecture = architecture, Os = os, Variant = variant };
        return new WrittenImage(manifest, manifestBytes, [config, .. layers.Select(l => l.Layer)], []);
    }

    /// <summary>An image index over linux/amd64 and linux/arm64/v8. Both images share their first
    /// layer (as images built from one base do); the others are per platform.</summary>
    public WrittenImage WriteIndex(IReadOnlyList<int> layerSizes)
    {
        var shared = WriteRandomLayer(layerSizes[0]);
        var amd64 = WriteImage([shared, .. layerSizes.Skip(1).Select(WriteRandomLayer)], "amd64", "linux", null);
        var arm64 = WriteImage([shared, .. layerSizes.Skip(1).Select(WriteRandomLayer)], "arm64", "linux", "v8");
        WrittenImage[] children = [amd64, arm64];
        var indexBytes = Json(w =>
        {
            w.WriteNumber("schemaVersion", 2);
            w.WriteString("mediaType", MediaTypes.OciIndex);
            w.WriteStartArray("manifests");
            foreach (var child in children)
            {
                WriteDescriptor(w, child.Manifest);
            }
            w.WriteEndArray();
        });
        var index = WriteBlob(indexBytes, MediaTypes.OciIndex);
        return new WrittenImage(index, indexBytes, [], children);
    }

    /// <summary>Names an image in index.json (annotation org.opencontainers.image.ref.name).</summary>
    public void Tag(WrittenImage image, string tag)
    {
        _tags.RemoveAll(t => t.Tag == tag);
        _tags.Add((tag, image.Manifest));
        WriteIndexJson();
    }

    private void WriteIndexJson()
    {
        var bytes = Json(w =>
        {
            w.WriteNumber("schemaVersion", 2);
            w.WriteString("mediaType", MediaTypes.OciIndex);
            w.WriteStartArray("manifests");
            foreach (var (tag, descriptor) in _tags)
            {
                w.WriteStartObject();
                w.WriteString("mediaType", descriptor.MediaType);
                w.WriteString("digest", descriptor.Digest);
                w.WriteNumber("size", descriptor.Size);
                w.WriteStartObject("annotations");
                w.WriteString(RefNameAnnotation, tag);
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
        });
        File.WriteAllBytes(Path.Combine(Directory, "index.json"), bytes);
    }

    private static void WriteDescriptor(Utf8JsonWriter w, OciDescriptor d)
    {
        w.WriteStartObject();
        w.WriteString("mediaType", d.MediaType);
        w.WriteString("digest", d.Digest);
        w.WriteNumber("size", d.Size);
        if (d.Architecture is not null)
        {
            w.WriteStartObject("platform");
            w.WriteString("architecture", d.Architecture);
            w.WriteString("os", d.Os ?? "linux");
            if (d.Variant is not null)
            {
                w.WriteString("variant", d.Variant);
            }
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }

    private static byte[] Json(Action<Utf8JsonWriter> body)
    {
        using var stream = new MemoryStream();
        // Unescaped "+" in media types, as image tools write them.
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }
        return stream.ToArray();
    }
}

/// <summary>Reads OCI image layouts (what skopeo copied back).</summary>
public static class OciLayout
{
    public static string BlobPath(string directory, string digest)
    {
        var parts = digest.Split(':', 2);
        return Path.Combine(directory, "blobs", parts[0], parts[1]);
    }

    public static byte[] ReadBlob(string directory, string digest) => File.ReadAllBytes(BlobPath(directory, digest));

    /// <summary>The descriptor index.json gives for a tag, or null.</summary>
    public static OciDescriptor? Find(string directory, string tag)
    {
        using var index = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(directory, "index.json")));
        foreach (var m in index.RootElement.GetProperty("manifests").EnumerateArray())
        {
            if (m.TryGetProperty("annotations", out var annotations)
                && annotations.TryGetProperty(OciLayoutWriter.RefNameAnnotation, out var name)
                && name.GetString() == tag)
            {
                return new OciDescriptor(m.GetProperty("mediaType").GetString() ?? "", m.GetProperty("digest").GetString()!, m.GetProperty("size").GetInt64());
            }
        }
        return null;
    }
}
