namespace Berth.Core.Manifests;

public static class MediaTypes
{
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string DockerSchema1 = "application/vnd.docker.distribution.manifest.v1+json";
    public const string DockerSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws";
    public const string OciEmpty = "application/vnd.oci.empty.v1+json";
    public const string DockerForeignLayer = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
    public const string OciNondistributablePrefix = "application/vnd.oci.image.layer.nondistributable.";

    public static bool IsIndex(string mediaType) => mediaType is OciIndex or DockerManifestList;

    public static bool IsImage(string mediaType) => mediaType is OciManifest or DockerManifest;

    public static bool IsSupported(string mediaType) => IsIndex(mediaType) || IsImage(mediaType);

    public static bool IsSchema1(string mediaType) => mediaType is DockerSchema1 or DockerSchema1Signed;

    /// <summary>Layers that live elsewhere (urls) and are not required to be in the registry.</summary>
    public static bool IsNonDistributable(string mediaType) =>
        mediaType == DockerForeignLayer || mediaType.StartsWith(OciNondistributablePrefix, StringComparison.Ordinal);
}
