using System.Formats.Tar;
using System.IO.Compression;
using System.Text;

namespace Berth.Logs.Tests.Infrastructure;

/// <summary>Writes a one-layer OCI image layout (oci-layout, index.json, blobs/sha256/...) for skopeo to push.</summary>
internal static class OciLayout
{
    public static (string Manifest, string Config, string Layer) Write(string directory, string tag, string fileText)
    {
        var blobs = Path.Combine(directory, "blobs", "sha256");
        Directory.CreateDirectory(blobs);

        using var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, "hello.txt")
            {
                DataStream = new MemoryStream(Encoding.UTF8.GetBytes(fileText)),
                ModificationTime = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero),
            };
            writer.WriteEntry(entry);
        }

        var diffId = RegistryClient.DigestOf(tar.ToArray());
        using var gz = new MemoryStream();
        using (var z = new GZipStream(gz, CompressionLevel.Optimal, leaveOpen: true))
        {
            z.Write(tar.ToArray());
        }

        var layer = gz.ToArray();
        var config = Encoding.UTF8.GetBytes($$$"""{"architecture":"amd64","os":"linux","config":{"Cmd":["/hello.txt"]},"rootfs":{"type":"layers","diff_ids":["{{{diffId}}}"]}}""");
        var layerDigest = Put(blobs, layer);
        var configDigest = Put(blobs, config);
        var manifest = Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{configDigest}}","size":{{config.Length}}},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{{layerDigest}}","size":{{layer.Length}}}]}""");
        var manifestDigest = Put(blobs, manifest);
        File.WriteAllText(Path.Combine(directory, "oci-layout"), """{"imageLayoutVersion":"1.0.0"}""");
        File.WriteAllText(Path.Combine(directory, "index.json"), $$$"""{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{{{manifestDigest}}}","size":{{{manifest.Length}}},"annotations":{"org.opencontainers.image.ref.name":"{{{tag}}}"}}]}""");
        return (manifestDigest, configDigest, layerDigest);
    }

    private static string Put(string blobs, byte[] content)
    {
        var digest = RegistryClient.DigestOf(content);
        File.WriteAllBytes(Path.Combine(blobs, digest["sha256:".Length..]), content);
        return digest;
    }
}
