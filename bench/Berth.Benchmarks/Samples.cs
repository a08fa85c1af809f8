using System.Text;
using Berth.Storage.Layout;

namespace Berth.Benchmarks;

/// <summary>Inputs shaped like real traffic: a nested repository name, a sha256 digest, a tag.</summary>
internal static class Samples
{
    public const string Repository = "team/platform/base-images/debian";
    public const string Tag = "12.8-slim";
    public const string DigestText = "sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b";
    public static readonly Digest Digest = Digest.Parse(DigestText);
    public static readonly byte[] LinkBytes = Encoding.ASCII.GetBytes(DigestText);

    /// <summary>A Docker schema2 image manifest with a config and <paramref name="layers"/> layers, as docker/buildx push it.</summary>
    public static byte[] ImageManifest(int layers)
    {
        var sb = new StringBuilder();
        sb.Append("{\n   \"schemaVersion\": 2,\n   \"mediaType\": \"application/vnd.oci.image.manifest.v1+json\",\n");
        sb.Append("   \"config\": {\n      \"mediaType\": \"application/vnd.oci.image.config.v1+json\",\n");
        sb.Append($"      \"digest\": \"{Hex(0)}\",\n      \"size\": 7023\n   }},\n   \"layers\": [\n");
        for (var i = 0; i < layers; i++)
        {
            sb.Append("      {\n         \"mediaType\": \"application/vnd.oci.image.layer.v1.tar+gzip\",\n");
            sb.Append($"         \"digest\": \"{Hex(i + 1)}\",\n         \"size\": {32654 + (i * 1000)}\n      }}{(i + 1 < layers ? "," : "")}\n");
        }
        sb.Append("   ],\n   \"annotations\": {\n      \"org.opencontainers.image.created\": \"2026-11-30T10:00:00Z\",\n");
        sb.Append("      \"org.opencontainers.image.source\": \"https://example.com/team/platform\"\n   }\n}");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary>An OCI index of <paramref name="platforms"/> image manifests.</summary>
    public static byte[] Index(int platforms)
    {
        var sb = new StringBuilder();
        sb.Append("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[");
        for (var i = 0; i < platforms; i++)
        {
            sb.Append(i > 0 ? "," : "");
            sb.Append($"{{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"{Hex(100 + i)}\",\"size\":1234,");
            sb.Append($"\"platform\":{{\"architecture\":\"arch{i}\",\"os\":\"linux\"}}}}");
        }
        sb.Append("]}");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    private static string Hex(int i) => Digest.Compute(BitConverter.GetBytes(i)).ToString();
}
