using System.Text;
using System.Text.Json;
using Berth.Core.Manifests;
using Berth.Storage.Layout;

namespace Berth.GarbageCollection.Tests.Support;

/// <summary>A piece of content with its digest.</summary>
public sealed record Blob(byte[] Content)
{
    public Digest Digest { get; } = Digest.Compute(Content);

    public long Size => Content.LongLength;

    public static Blob Text(string text) => new(Encoding.UTF8.GetBytes(text));

    public static Blob Random(int size = 64)
    {
        var bytes = new byte[size];
        System.Random.Shared.NextBytes(bytes);
        return new Blob(bytes);
    }
}

/// <summary>Builds OCI manifests and indexes as clients push them.</summary>
public static class Manifests
{
    public const string LayerType = "application/vnd.oci.image.layer.v1.tar+gzip";

    public static Blob Config(string seed) => Blob.Text($"{{\"architecture\":\"amd64\",\"os\":\"linux\",\"seed\":\"{seed}\"}}");

    public static Blob Image(Blob config, IEnumerable<Blob> layers, Blob? subject = null, string? artifactType = null) =>
        new(Write(w =>
        {
            w.WriteNumber("schemaVersion", 2);
            w.WriteString("mediaType", MediaTypes.OciManifest);
            if (artifactType is not null)
            {
                w.WriteString("artifactType", artifactType);
            }
            w.WritePropertyName("config");
            Descriptor(w, "application/vnd.oci.image.config.v1+json", config);
            w.WriteStartArray("layers");
            foreach (var l in layers)
            {
                Descriptor(w, LayerType, l);
            }
            w.WriteEndArray();
            if (subject is not null)
            {
                w.WritePropertyName("subject");
                Descriptor(w, MediaTypes.OciManifest, subject);
            }
        }));

    public static Blob Index(IEnumerable<Blob> children) =>
        new(Write(w =>
        {
            w.WriteNumber("schemaVersion", 2);
            w.WriteString("mediaType", MediaTypes.OciIndex);
            w.WriteStartArray("manifests");
            foreach (var c in children)
            {
                Descriptor(w, MediaTypes.OciManifest, c);
            }
            w.WriteEndArray();
        }));

    private static void Descriptor(Utf8JsonWriter w, string mediaType, Blob blob)
    {
        w.WriteStartObject();
        w.WriteString("mediaType", mediaType);
        w.WriteString("digest", blob.Digest.ToString());
        w.WriteNumber("size", blob.Size);
        w.WriteEndObject();
    }

    private static byte[] Write(Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }
}
