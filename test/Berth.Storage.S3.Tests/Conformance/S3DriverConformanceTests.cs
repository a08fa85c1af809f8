using Berth.Storage.Tests.Conformance;

namespace Berth.Storage.S3.Tests.Conformance;

/// <summary>The driver suite against the real S3 server. Every test works under its own root directory of the
/// test bucket, with the smallest part size so that the suite's 6 MiB object goes through a multipart upload.</summary>
public sealed class S3DriverConformanceTests : StorageDriverConformanceTests
{
    private readonly string _root = "conformance/" + Guid.NewGuid().ToString("N");

    protected override IStorageDriver CreateDriver() =>
        new S3Driver(S3TestServer.Instance.Options(_root) with { ChunkSize = S3DriverOptions.MinimumPartSize });

    /// <summary>Beyond the suite's check, nothing at all may remain under the root: no writer state, no multipart
    /// upload, no object the driver does not list.</summary>
    protected override async Task DestroyDriverAsync(IStorageDriver driver)
    {
        var s3 = (S3Driver)driver;
        var leftovers = await S3TestServer.DeletePrefixAsync(s3.Client, s3.Bucket, _root + "/");
        s3.Dispose();
        Assert.True(leftovers.Count == 0, "left in the bucket: " + string.Join(", ", leftovers));
    }
}
