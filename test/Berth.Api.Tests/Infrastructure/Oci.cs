using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Berth.Api.Tests.Infrastructure;

/// <summary>A descriptor as the tests write it into manifests.</summary>
public sealed record Desc(string MediaType, string Digest, long Size, string? ArtifactType = null);

/// <summary>Builds OCI content for the tests, independently of Berth's own parser.</summary>
public static class Oci
{
    public const string ImageManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string ImageIndex = "application/vnd.oci.image.index.v1+json";
    public const string ImageConfig = "application/vnd.oci.image.config.v1+json";
    public const string Layer = "application/vnd.oci.image.layer.v1.tar+gzip";
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerSchema1 = "application/vnd.docker.distribution.manifest.v1+json";
    public const string DockerSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws";
    public const string Empty = "application/vnd.oci.empty.v1+json";

    public static string Sha256(byte[] content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));

    public static string Sha512(byte[] content) => "sha512:" + Convert.ToHexStringLower(SHA512.HashData(content));

    public static string Hex(string digest) => digest[(digest.IndexOf(':') + 1)..];

    public static byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        Random.Shared.NextBytes(bytes);
        return bytes;
    }

    /// <summary>A small config blob, different on every call.</summary>
    public static byte[] Config() => Encoding.UTF8.GetBytes($"{{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[]}},\"nonce\":\"{Guid.NewGuid():N}\"}}");

    public static Desc Describe(string mediaType, byte[] content, string? artifactType = null) =>
        new(mediaType, Sha256(content), content.LongLength, artifactType);

    public static JsonObject ToJson(Desc d)
    {
        var o = new JsonObject { ["mediaType"] = d.MediaType, ["digest"] = d.Digest, ["size"] = d.Size };
        if (d.ArtifactType is not null)
        {
            o["artifactType"] = d.ArtifactType;
        }
        return o;
    }

    public static byte[] Manifest(Desc config, IEnumerable<Desc> layers, Desc? subject = null, string? artifactType = null,
        IReadOnlyDictionary<string, string>? annotations = null, string? mediaType = ImageManifest)
    {
        var o = new JsonObject { ["schemaVersion"] = 2 };
        if (mediaType is not null)
        {
            o["mediaType"] = mediaType;
        }
        if (artifactType is not null)
        {
            o["artifactType"] = artifactType;
        }
        o["config"] = ToJson(config);
        o["layers"] = new JsonArray([.. layers.Select(l => (JsonNode)ToJson(l))]);
        if (subject is not null)
        {
            o["subject"] = ToJson(subject);
        }
        if (annotations is not null)
        {
            var a = new JsonObject();
            foreach (var (k, v) in annotations)
            {
                a[k] = v;
            }
            o["annotations"] = a;
        }
        return Encoding.UTF8.GetBytes(o.ToJsonString());
    }

    public static byte[] Index(IEnumerable<Desc> manifests, Desc? subject = null)
    {
        var o = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = ImageIndex,
            ["manifests"] = new JsonArray([.. manifests.Select(m => (JsonNode)ToJson(m))]),
        };
        if (subject is not null)
        {
            o["subject"] = ToJson(subject);
        }
        return Encoding.UTF8.GetBytes(o.ToJsonString());
    }

    /// <summary>A Docker schema1 manifest as old clients pushed it.</summary>
    public static byte[] Schema1(string name, string tag) => Encoding.UTF8.GetBytes(
        $$"""{"schemaVersion":1,"name":"{{name}}","tag":"{{tag}}","architecture":"amd64","fsLayers":[{"blobSum":"sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4"}],"history":[{"v1Compatibility":"{}"}],"signatures":[{"header":{"alg":"ES256"},"signature":"x","protected":"y"}]}""");
}
