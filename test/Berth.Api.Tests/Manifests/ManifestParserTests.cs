using System.Text;
using Berth.Core.Manifests;
using Berth.Storage.Layout;

namespace Berth.Api.Tests.Manifests;

/// <summary>Descriptor reading in the manifest parser: digests are read from the document's UTF-8 when they
/// have no JSON escapes, common media types come back as the shared constants, and errors name the field.</summary>
public sealed class ManifestParserTests
{
    private const string ConfigHex = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
    private const string LayerHex = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";

    private static byte[] Manifest(string layerDigest, string layerMediaType = "application/vnd.oci.image.layer.v1.tar+gzip") => Encoding.UTF8.GetBytes(
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
        + $"\"config\":{{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:{ConfigHex}\",\"size\":7}},"
        + $"\"layers\":[{{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:{LayerHex}\",\"size\":3}},"
        + $"{{\"mediaType\":\"{layerMediaType}\",\"digest\":\"{layerDigest}\",\"size\":5}}]}}");

    [Fact]
    public void Parse_ReadsDigestsAndSizes()
    {
        var parsed = ManifestParser.Parse(Manifest("sha256:" + ConfigHex));

        Assert.Equal(Digest.Parse("sha256:" + ConfigHex), parsed.Config!.Digest);
        Assert.Equal(7, parsed.Config.Size);
        Assert.Equal([Digest.Parse("sha256:" + LayerHex), Digest.Parse("sha256:" + ConfigHex)], parsed.Layers.Select(l => l.Digest));
        Assert.Equal([3L, 5L], parsed.Layers.Select(l => l.Size));
    }

    [Fact]
    public void Parse_DigestWithJsonEscape_ReadsTheSameDigest()
    {
        var parsed = ManifestParser.Parse(Manifest("sha256\\u003a" + LayerHex));

        Assert.Equal(Digest.Parse("sha256:" + LayerHex), parsed.Layers[1].Digest);
    }

    [Fact]
    public void Parse_CommonMediaType_IsTheSharedString_OtherMediaTypesAreKept()
    {
        var parsed = ManifestParser.Parse(Manifest("sha256:" + LayerHex, "application/x-custom+json"));

        Assert.Same("application/vnd.oci.image.layer.v1.tar+gzip", parsed.Layers[0].MediaType);
        Assert.Same("application/vnd.oci.image.config.v1+json", parsed.Config!.MediaType);
        Assert.Equal("application/x-custom+json", parsed.Layers[1].MediaType);
    }

    [Theory]
    [InlineData("sha256:2C26B46B68FFC68FF99B453C1D30413413422D706483BFA0F98A5E886266E7AE", "layers[1]: sha256 digest must be 64 lower-case hex characters")]
    [InlineData("sha256:2c26", "layers[1]: sha256 digest must be 64 lower-case hex characters")]
    [InlineData("md5:d41d8cd98f00b204e9800998ecf8427e", "layers[1]: unsupported digest algorithm 'md5' (sha256 and sha512 are supported)")]
    [InlineData("", "layers[1]: digest is empty")]
    public void Parse_BadLayerDigest_NamesTheLayer(string digest, string message)
    {
        var e = Assert.Throws<ManifestFormatException>(() => ManifestParser.Parse(Manifest(digest)));

        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Parse_ConfigWithoutDigest_NamesTheConfig()
    {
        var json = Encoding.UTF8.GetBytes("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
            + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"size\":7},\"layers\":[]}");

        var e = Assert.Throws<ManifestFormatException>(() => ManifestParser.Parse(json));

        Assert.Equal("config has no digest", e.Message);
    }
}

/// <summary>The media type a stored manifest is served with (every manifest GET): the root's mediaType when it is
/// a string, else what the document's shape says; the same answers whether or not the fast reader pass decides.</summary>
public sealed class ManifestMediaTypeDetectionTests
{
    [Theory]
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{}}", "application/vnd.oci.image.manifest.v1+json")]
    [InlineData("{\"config\":{\"mediaType\":\"x/nested\",\"size\":1},\"layers\":[{\"mediaType\":\"y\"}],\"mediaType\":\"application/x-last+json\"}", "application/x-last+json")]
    [InlineData("{\"mediaType\":\"application/x-first\",\"mediaType\":\"application/x-second\"}", "application/x-second")] // last one wins, as in a document
    [InlineData("{\"mediaType\":\"application/x-first\",\"mediaType\":7,\"manifests\":[]}", MediaTypes.OciIndex)] // last one not a string: by shape
    [InlineData("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x/nested\"},\"layers\":[]}", MediaTypes.OciManifest)] // nested mediaType is not the manifest's
    [InlineData("{\"schemaVersion\":2,\"manifests\":[]}", MediaTypes.OciIndex)]
    [InlineData("{\"schemaVersion\":1,\"signatures\":[]}", MediaTypes.DockerSchema1Signed)]
    [InlineData("{\"mediaType\":\"application/x-esc\\u0061ped\"}", "application/x-escaped")]
    [InlineData("{\"mediaType\":\"application/x-ok\"} trailing bytes are not read", "application/x-ok")]
    [InlineData("[1,2]", "application/octet-stream")]
    [InlineData("{\"mediaType\":\"application/x-cut\",", "application/octet-stream")]
    [InlineData("not json", "application/octet-stream")]
    [InlineData("", "application/octet-stream")]
    public void DetectMediaType_ReadsRootMediaTypeOrShape(string json, string expected)
    {
        Assert.Equal(expected, ManifestParser.DetectMediaType(Encoding.UTF8.GetBytes(json)));
    }

    [Fact]
    public void DetectMediaType_CommonMediaType_IsTheSharedString()
    {
        var json = Encoding.UTF8.GetBytes("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[]}");

        Assert.Same(MediaTypes.OciIndex, ManifestParser.DetectMediaType(json));
    }
}
