using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Berth.Storage.Layout;

namespace Berth.Core.Manifests;

/// <summary>A content descriptor as it appears in a manifest.</summary>
public sealed record Descriptor(string MediaType, Digest Digest, long Size, string? ArtifactType = null,
    IReadOnlyDictionary<string, string>? Annotations = null, IReadOnlyList<string>? Urls = null);

/// <summary>What the registry needs to know about a manifest or index.</summary>
public sealed record ParsedManifest(
    string MediaType,
    Descriptor? Config,
    IReadOnlyList<Descriptor> Layers,
    IReadOnlyList<Descriptor> Manifests,
    Descriptor? Subject,
    string? ArtifactType,
    IReadOnlyDictionary<string, string>? Annotations)
{
    public bool IsIndex => MediaTypes.IsIndex(MediaType);

    /// <summary>The artifact type the referrers API reports: artifactType, else the config's media type.</summary>
    public string? EffectiveArtifactType => ArtifactType ?? (IsIndex ? null : Config?.MediaType);

    /// <summary>Blobs (not manifests) that must be present for a pull: config and distributable layers.</summary>
    public IEnumerable<Descriptor> RequiredBlobs
    {
        get
        {
            if (Config is not null)
            {
                yield return Config;
            }
            foreach (var layer in Layers)
            {
                if (!(MediaTypes.IsNonDistributable(layer.MediaType) && layer.Urls is { Count: > 0 }))
                {
                    yield return layer;
                }
            }
        }
    }
}

/// <summary>Thrown for a manifest the registry cannot accept; the message says why.</summary>
public sealed class ManifestFormatException(string message) : Exception(message);

public static class ManifestParser
{
    /// <summary>The media type a stored manifest is served with: its mediaType field, or what its shape says.</summary>
    public static string DetectMediaType(ReadOnlySpan<byte> content)
    {
        try
        {
            // Every GET of a manifest asks this. Most manifests declare mediaType at the top level: a reader
            // pass finds it without building a document. Otherwise the document decides, by its shape.
            if (TopLevelMediaType(content) is { } declared)
            {
                return declared;
            }
            var reader = new Utf8JsonReader(content);
            using var doc = JsonDocument.ParseValue(ref reader);
            return DetectMediaType(doc.RootElement, declared: null);
        }
        catch (JsonException)
        {
            return "application/octet-stream";
        }
    }

    /// <summary>The string value of the root object's last "mediaType" member (the one a document lookup finds), or
    /// null when the root is not an object or that member is missing or not a string. Reads only the root value,
    /// as <see cref="JsonDocument.ParseValue"/> does; throws <see cref="JsonException"/> where it would.</summary>
    private static string? TopLevelMediaType(ReadOnlySpan<byte> content)
    {
        var reader = new Utf8JsonReader(content);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }
        string? found = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isMediaType = reader.ValueTextEquals("mediaType"u8);
            reader.Read();
            if (isMediaType)
            {
                found = reader.TokenType == JsonTokenType.String ? KnownOrString(ref reader) : null;
            }
            reader.Skip();
        }
        return reader.TokenType == JsonTokenType.EndObject ? found : null;
    }

    /// <summary>Parses and validates a manifest. <paramref name="contentType"/> is the Content-Type the client sent, if any.</summary>
    public static ParsedManifest Parse(ReadOnlySpan<byte> content, string? contentType = null)
    {
        JsonDocument doc;
        try
        {
            var reader = new Utf8JsonReader(content, new JsonReaderOptions { MaxDepth = 64 });
            doc = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException e)
        {
            throw new ManifestFormatException("manifest is not valid JSON: " + e.Message);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new ManifestFormatException("manifest must be a JSON object");
            }
            var declared = NormalizeContentType(contentType);
            var mediaType = DetectMediaType(root, declared);
            if (MediaTypes.IsSchema1(mediaType))
            {
                throw new ManifestFormatException("Docker schema1 manifests are not supported; push with a current client (OCI or Docker schema2)");
            }
            if (!MediaTypes.IsSupported(mediaType))
            {
                throw new ManifestFormatException($"unsupported manifest media type '{mediaType}'");
            }
            if (!root.TryGetProperty("schemaVersion", out var sv) || sv.ValueKind != JsonValueKind.Number || !sv.TryGetInt32(out var version) || version != 2)
            {
                throw new ManifestFormatException("schemaVersion must be 2");
            }
            if (root.TryGetProperty("mediaType", out var mt) && mt.ValueKind == JsonValueKind.String && declared is not null
                && MediaTypes.IsSupported(declared) && mt.GetString() != declared)
            {
                throw new ManifestFormatException($"mediaType '{mt.GetString()}' does not match Content-Type '{declared}'");
            }
            var artifactType = OptionalString(root, "artifactType");
            var annotations = ReadAnnotations(root);
            var subject = root.TryGetProperty("subject", out var s) && s.ValueKind != JsonValueKind.Null ? ReadDescriptor(s, "subject", -1) : null;
            if (MediaTypes.IsIndex(mediaType))
            {
                if (!root.TryGetProperty("manifests", out var manifests) || manifests.ValueKind != JsonValueKind.Array)
                {
                    throw new ManifestFormatException("an index needs a 'manifests' array");
                }
                var children = new List<Descriptor>();
                var i = 0;
                foreach (var m in manifests.EnumerateArray())
                {
                    children.Add(ReadDescriptor(m, "manifests", i++));
                }
                return new ParsedManifest(mediaType, null, [], children, subject, artifactType, annotations);
            }
            if (!root.TryGetProperty("config", out var config) || config.ValueKind != JsonValueKind.Object)
            {
                throw new ManifestFormatException("an image manifest needs a 'config' descriptor");
            }
            var layers = new List<Descriptor>();
            if (root.TryGetProperty("layers", out var layersElement))
            {
                if (layersElement.ValueKind != JsonValueKind.Array)
                {
                    throw new ManifestFormatException("'layers' must be an array");
                }
                var i = 0;
                foreach (var l in layersElement.EnumerateArray())
                {
                    layers.Add(ReadDescriptor(l, "layers", i++));
                }
            }
            else if (mediaType == MediaTypes.DockerManifest)
            {
                throw new ManifestFormatException("a Docker schema2 manifest needs a 'layers' array");
            }
            return new ParsedManifest(mediaType, ReadDescriptor(config, "config", -1), layers, [], subject, artifactType, annotations);
        }
    }

    private static string? NormalizeContentType(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType))
        {
            return null;
        }
        var semi = contentType.IndexOf(';');
        return (semi >= 0 ? contentType[..semi] : contentType).Trim().ToLowerInvariant();
    }

    private static string DetectMediaType(JsonElement root, string? declared)
    {
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("mediaType", out var mt) && mt.ValueKind == JsonValueKind.String)
        {
            return mt.GetString()!;
        }
        if (declared is not null && (MediaTypes.IsSupported(declared) || MediaTypes.IsSchema1(declared)))
        {
            return declared;
        }
        if (root.ValueKind != JsonValueKind.Object)
        {
            return "application/octet-stream";
        }
        if (root.TryGetProperty("schemaVersion", out var sv) && sv.ValueKind == JsonValueKind.Number && sv.TryGetInt32(out var v) && v == 1)
        {
            return root.TryGetProperty("signatures", out _) ? MediaTypes.DockerSchema1Signed : MediaTypes.DockerSchema1;
        }
        if (root.TryGetProperty("manifests", out _))
        {
            return MediaTypes.OciIndex;
        }
        return root.TryGetProperty("config", out _) ? MediaTypes.OciManifest : declared ?? "application/octet-stream";
    }

    /// <summary>Reads the descriptor at <paramref name="field"/>, or at <paramref name="field"/>[<paramref name="index"/>]
    /// when the index is not negative; error messages name it (built only on error).</summary>
    private static Descriptor ReadDescriptor(JsonElement e, string field, int index)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            throw new ManifestFormatException($"{Where(field, index)} must be a descriptor object");
        }
        var mediaType = (e.TryGetProperty("mediaType", out var mt) && mt.ValueKind == JsonValueKind.String ? KnownOrString(mt) : null)
            ?? throw new ManifestFormatException($"{Where(field, index)} has no mediaType");
        if (!e.TryGetProperty("digest", out var digestElement) || digestElement.ValueKind != JsonValueKind.String)
        {
            throw new ManifestFormatException($"{Where(field, index)} has no digest");
        }
        // Straight from the UTF-8 of the document when the string has no escapes: only the hex is allocated.
        var raw = JsonMarshal.GetRawUtf8Value(digestElement);
        if (!(raw is [(byte)'"', .., (byte)'"'] && raw.IndexOf((byte)'\\') < 0 && Digest.TryParse(raw[1..^1], out var digest))
            && !Digest.TryParse(digestElement.GetString(), out digest, out var error))
        {
            throw new ManifestFormatException($"{Where(field, index)}: {error}");
        }
        if (!e.TryGetProperty("size", out var sizeElement) || sizeElement.ValueKind != JsonValueKind.Number || !sizeElement.TryGetInt64(out var size) || size < 0)
        {
            throw new ManifestFormatException($"{Where(field, index)} needs a non-negative integer size");
        }
        List<string>? urls = null;
        if (e.TryGetProperty("urls", out var u) && u.ValueKind == JsonValueKind.Array)
        {
            urls = [.. u.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!)];
        }
        return new Descriptor(mediaType, digest, size, OptionalString(e, "artifactType"), ReadAnnotations(e), urls);
    }

    // Media types that fill most descriptors: returned as these constants instead of a new string each time.
    private static readonly (byte[] Utf8, string Text)[] KnownMediaTypes = [.. new[]
    {
        MediaTypes.OciManifest, MediaTypes.OciIndex, MediaTypes.DockerManifest, MediaTypes.DockerManifestList, MediaTypes.OciEmpty,
        MediaTypes.DockerForeignLayer, "application/vnd.oci.image.config.v1+json", "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.oci.image.layer.v1.tar", "application/vnd.oci.image.layer.v1.tar+zstd",
        "application/vnd.docker.container.image.v1+json", "application/vnd.docker.image.rootfs.diff.tar.gzip",
    }.Select(t => (Encoding.UTF8.GetBytes(t), t))];

    private static string KnownOrString(JsonElement value)
    {
        foreach (var (utf8, text) in KnownMediaTypes)
        {
            if (value.ValueEquals(utf8))
            {
                return text;
            }
        }
        return value.GetString()!;
    }

    private static string KnownOrString(ref Utf8JsonReader reader)
    {
        foreach (var (utf8, text) in KnownMediaTypes)
        {
            if (reader.ValueTextEquals(utf8))
            {
                return text;
            }
        }
        return reader.GetString()!;
    }

    private static string Where(string field, int index) => index < 0 ? field : $"{field}[{index}]";

    private static string? OptionalString(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static Dictionary<string, string>? ReadAnnotations(JsonElement e)
    {
        if (!e.TryGetProperty("annotations", out var a) || a.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in a.EnumerateObject())
        {
            if (p.Value.ValueKind == JsonValueKind.String)
            {
                result[p.Name] = p.Value.GetString()!;
            }
        }
        return result;
    }
}
