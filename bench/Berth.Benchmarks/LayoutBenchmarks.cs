using BenchmarkDotNet.Attributes;
using Berth.Storage.Layout;

namespace Berth.Benchmarks;

/// <summary>Digest parsing: every request that names a digest, every link read, every walked path.</summary>
public class DigestBenchmarks
{
    private const string Invalid = "sha256:6C3C624B58DBBCD3C0DD82B4C53F04194D1247C6EEBDAAB7C610CF7D66709B3B";

    [Benchmark]
    public Digest TryParse_Valid() => Digest.TryParse(Samples.DigestText, out var d) ? d : default;

    [Benchmark]
    public bool TryParse_InvalidUpperHex() => Digest.TryParse(Invalid, out _);

    [Benchmark]
    public string DigestToString() => Samples.Digest.ToString();
}

/// <summary>The path mapper, both ways: building a path and reading one back (walks in GC and doctor).</summary>
public class StoragePathsBenchmarks
{
    private static readonly string LayerLinkPath = StoragePaths.LayerLink(Samples.Repository, Samples.Digest);
    private static readonly string BlobDataPath = StoragePaths.BlobData(Samples.Digest);

    [Benchmark]
    public string BlobData() => StoragePaths.BlobData(Samples.Digest);

    [Benchmark]
    public string LayerLink() => StoragePaths.LayerLink(Samples.Repository, Samples.Digest);

    [Benchmark]
    public string TagIndexLink() => StoragePaths.TagIndexLink(Samples.Repository, Samples.Tag, Samples.Digest);

    [Benchmark]
    public bool TryParseBlobData() => StoragePaths.TryParseBlobData(BlobDataPath, out _);

    [Benchmark]
    public bool TryParseRepositoryObject() => StoragePaths.TryParseRepositoryObject(LayerLinkPath, out _);

    [Benchmark]
    public RepositoryObject ParseRepositoryObject() => StoragePaths.ParseRepositoryObject(Samples.Repository, LayerLinkPath);
}
