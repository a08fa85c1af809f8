using BenchmarkDotNet.Attributes;
using Berth.Api.Routing;
using Berth.Core.Manifests;

namespace Berth.Benchmarks;

/// <summary>Manifest parsing and validation (every manifest PUT; referrers and GC read manifests too).</summary>
public class ManifestParserBenchmarks
{
    private static readonly byte[] Image5 = Samples.ImageManifest(5);
    private static readonly byte[] Image30 = Samples.ImageManifest(30);
    private static readonly byte[] Index4 = Samples.Index(4);

    [Benchmark]
    public ParsedManifest Parse_Image5Layers() => ManifestParser.Parse(Image5, "application/vnd.oci.image.manifest.v1+json");

    [Benchmark]
    public ParsedManifest Parse_Image30Layers() => ManifestParser.Parse(Image30, "application/vnd.oci.image.manifest.v1+json");

    [Benchmark]
    public ParsedManifest Parse_Index4() => ManifestParser.Parse(Index4, "application/vnd.oci.image.index.v1+json");

    [Benchmark]
    public string DetectMediaType_Image5() => ManifestParser.DetectMediaType(Image5);
}

/// <summary>Route parsing: runs on every /v2/ request.</summary>
public class OciPathParserBenchmarks
{
    private const string ManifestPath = "/v2/" + Samples.Repository + "/manifests/" + Samples.Tag;
    private const string BlobPath = "/v2/" + Samples.Repository + "/blobs/" + Samples.DigestText;
    private const string UploadPath = "/v2/" + Samples.Repository + "/blobs/uploads/0c4c5b3e-3d8a-4f0e-9b8e-2f1d3c4b5a69";
    private const string TagsPath = "/v2/" + Samples.Repository + "/tags/list";

    [Benchmark]
    public OciRoute Manifest() => OciPathParser.Parse(ManifestPath);

    [Benchmark]
    public OciRoute Blob() => OciPathParser.Parse(BlobPath);

    [Benchmark]
    public OciRoute Upload() => OciPathParser.Parse(UploadPath);

    [Benchmark]
    public OciRoute TagsList() => OciPathParser.Parse(TagsPath);
}
