using System.Net;
using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Berth.Storage.S3.Tests;

/// <summary>What the conformance suite cannot see: how the driver uses the bucket (keys, multipart uploads, the
/// writer's state object), resumption from another process, ranged reads, multipart copy, presigned URLs.</summary>
public sealed class S3DriverTests : IAsyncLifetime
{
    private const int MiB = 1024 * 1024;
    private readonly S3TestServer _server = S3TestServer.Instance;
    private readonly string _root = "driver-tests/" + Guid.NewGuid().ToString("N");
    private readonly List<S3Driver> _drivers = [];
    private AmazonS3Client _client = null!;

    public Task InitializeAsync()
    {
        _client = _server.CreateClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await S3TestServer.DeletePrefixAsync(_client, _server.Bucket, _root.TrimStart('/') + "/");
        foreach (var driver in _drivers)
        {
            driver.Dispose();
        }
        _client.Dispose();
    }

    /// <summary>A driver with its own client, as another process would have.</summary>
    private S3Driver NewDriver(Func<S3DriverOptions, S3DriverOptions>? configure = null)
    {
        var options = _server.Options(_root) with { ChunkSize = S3DriverOptions.MinimumPartSize };
        var driver = new S3Driver(configure is null ? options : configure(options));
        _drivers.Add(driver);
        return driver;
    }

    private string Key(string path) => _root + path;

    [Fact]
    public async Task Keys_FollowDistributionLayout_UnderRootDirectory()
    {
        var driver = NewDriver(o => o with { RootDirectory = "/" + _root + "/" });
        await driver.PutContentAsync("/docker/registry/v2/repositories/a/_layers/x", "x"u8.ToArray());

        var head = await _client.GetObjectMetadataAsync(_server.Bucket, Key("/docker/registry/v2/repositories/a/_layers/x"));

        Assert.Equal(1, head.ContentLength);
    }

    [Fact]
    public async Task ListAndWalk_SkipKeysThatAreNoPath()
    {
        var driver = NewDriver();
        await driver.PutContentAsync("/d/real", "r"u8.ToArray());
        foreach (var foreign in new[] { "/d/marker/", "/d/with space", "/d/sub/x~y" })
        {
            await _client.PutObjectAsync(new PutObjectRequest { BucketName = _server.Bucket, Key = Key(foreign), ContentBody = "f" });
        }

        // Prefixes that hold only such keys still list as directories (as with Distribution's driver); the keys
        // themselves never show.
        Assert.Equal(["/d/marker", "/d/real", "/d/sub"], (await driver.ListAsync("/d")).Order(StringComparer.Ordinal));
        Assert.Equal(["/d/real"], await WalkPathsAsync(driver, "/d"));
        await driver.DeleteAsync("/d");
        Assert.Empty(await ListKeysAsync(""));
    }

    [Fact]
    public async Task Writer_ResumedByAnotherProcess_KeepsPartsAndPendingBytes()
    {
        var content = RandomBytes((13 * MiB) + 4567, seed: 1);
        var path = "/uploads/u1/data";

        // Process 1 (5 MiB parts): one part, and 2 MiB below the minimum part size kept in the state object.
        await using (var writer = await NewDriver().CreateWriterAsync(path, append: false))
        {
            await writer.WriteAsync(content.AsMemory(0, 7 * MiB));
        }
        var state = await ReadStateAsync(path);
        Assert.Equal(2 * MiB, state.Length - HeaderLength(state));
        Assert.Equal(5 * MiB, await PartsSizeAsync());

        // Process 2 (8 MiB parts): 4 MiB more; the 6 MiB past the first part reach the minimum, so dispose sends
        // them as a part and keeps no bytes in the state object.
        await using (var writer = await NewDriver(o => o with { ChunkSize = 8 * MiB }).CreateWriterAsync(path, append: true))
        {
            Assert.Equal(7 * MiB, writer.Size);
            await writer.WriteAsync(content.AsMemory(7 * MiB, 4 * MiB));
            Assert.Equal(11 * MiB, writer.Size);
        }
        state = await ReadStateAsync(path);
        Assert.Equal(0, state.Length - HeaderLength(state));
        Assert.Equal(11 * MiB, await PartsSizeAsync());

        // Process 3: the rest, then commit.
        await using (var writer = await NewDriver().CreateWriterAsync(path, append: true))
        {
            Assert.Equal(11 * MiB, writer.Size);
            await writer.WriteAsync(content.AsMemory(11 * MiB));
            await writer.CommitAsync();
        }

        var driver = NewDriver();
        Assert.Equal(SHA256.HashData(content), SHA256.HashData(await driver.GetContentAsync(path)));
        Assert.Empty(await UploadsAsync());
        Assert.Equal([Key(path)], await ListKeysAsync(""));
        await Assert.ThrowsAsync<PathNotFoundException>(() => driver.CreateWriterAsync(path, append: true));
    }

    [Fact]
    public async Task Writer_CrashAfterUploadingParts_ResumesFromLastSavedState()
    {
        var content = RandomBytes(16 * MiB, seed: 2);
        var path = "/uploads/u2/data";
        await using (var writer = await NewDriver().CreateWriterAsync(path, append: false))
        {
            await writer.WriteAsync(content.AsMemory(0, 7 * MiB));
        }

        // A session that uploads parts 2 to 4 (garbage) and dies before it saves its state: never disposed.
        var doomed = await NewDriver().CreateWriterAsync(path, append: true);
        await doomed.WriteAsync(RandomBytes(14 * MiB, seed: 99));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await PartCountAsync() < 4 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        Assert.Equal(4, await PartCountAsync());

        // The client learns the size the storage kept and sends the rest from there: parts 2 to 4 are replaced.
        await using (var writer = await NewDriver().CreateWriterAsync(path, append: true))
        {
            Assert.Equal(7 * MiB, writer.Size);
            await writer.WriteAsync(content.AsMemory(7 * MiB));
            await writer.CommitAsync();
        }

        Assert.Equal(SHA256.HashData(content), SHA256.HashData(await NewDriver().GetContentAsync(path)));
        Assert.Empty(await UploadsAsync());
    }

    [Fact]
    public async Task Writer_AfterAFailedWrite_RefusesMore_ButCanBeCancelled()
    {
        var driver = NewDriver();
        var path = "/uploads/u4/data";
        await using (var writer = await driver.CreateWriterAsync(path, append: false))
        {
            await writer.WriteAsync(RandomBytes(1000, seed: 8));
        }
        await using (var writer = await driver.CreateWriterAsync(path, append: true))
        {
            using var cancelled = new CancellationTokenSource();
            await cancelled.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await writer.WriteAsync(RandomBytes(6 * MiB, seed: 9), cancelled.Token));

            await Assert.ThrowsAsync<IOException>(async () => await writer.WriteAsync(RandomBytes(1, seed: 1)));
            await Assert.ThrowsAsync<IOException>(() => writer.CommitAsync());
            await writer.CancelAsync();
        }

        await Assert.ThrowsAsync<PathNotFoundException>(() => driver.CreateWriterAsync(path, append: true));
        Assert.Empty(await ListKeysAsync(""));
    }

    [Fact]
    public async Task Delete_Directory_AbortsUploadsAndRemovesWriterState()
    {
        var driver = NewDriver();
        await driver.PutContentAsync("/uploads/u3/startedat", "t"u8.ToArray());
        await using (var writer = await driver.CreateWriterAsync("/uploads/u3/data", append: false))
        {
            await writer.WriteAsync(RandomBytes(6 * MiB, seed: 3));
        }
        Assert.Single(await UploadsAsync());

        await driver.DeleteAsync("/uploads/u3");

        Assert.Empty(await UploadsAsync());
        Assert.Empty(await ListKeysAsync(""));
    }

    [Fact]
    public async Task OpenRead_AtOffset_DownloadsOnlyTheRest()
    {
        var path = "/blobs/big/data";
        var content = RandomBytes(8 * MiB, seed: 4);
        await NewDriver().PutContentAsync(path, content);
        var counter = new CountingHandlerFactory();
        var config = new AmazonS3Config
        {
            ServiceURL = _server.Endpoint,
            ForcePathStyle = true,
            AuthenticationRegion = _server.Region,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            HttpClientFactory = counter,
        };
        using var client = new AmazonS3Client(new BasicAWSCredentials(_server.AccessKey, _server.SecretKey), config);
        using var driver = new S3Driver(client, _server.Options(_root));

        await using (var stream = await driver.OpenReadAsync(path, content.Length - 1000))
        {
            using var read = new MemoryStream();
            await stream.CopyToAsync(read);
            Assert.Equal(content[^1000..], read.ToArray());
        }

        Assert.InRange(counter.BytesReceived, 1000, 64 * 1024);
    }

    [Fact]
    public async Task Move_AboveThreshold_CopiesInPartsServerSide()
    {
        var driver = NewDriver(o => o with { MultipartCopyThresholdSize = 5 * MiB, MultipartCopyChunkSize = 5 * MiB, MultipartCopyMaxConcurrency = 2 });
        var content = RandomBytes((12 * MiB) + 1, seed: 5);
        await driver.PutContentAsync("/m/source", content);

        await driver.MoveAsync("/m/source", "/m/destination");

        Assert.Equal(SHA256.HashData(content), SHA256.HashData(await driver.GetContentAsync("/m/destination")));
        await Assert.ThrowsAsync<PathNotFoundException>(() => driver.StatAsync("/m/source"));
        var head = await _client.GetObjectMetadataAsync(_server.Bucket, Key("/m/destination"));
        Assert.EndsWith("-3\"", head.ETag);
        Assert.Empty(await UploadsAsync());
    }

    [Fact]
    public async Task Move_BelowThreshold_CopiesWhole()
    {
        var driver = NewDriver();
        var content = RandomBytes(6 * MiB, seed: 6);
        await driver.PutContentAsync("/m/source", content);

        await driver.MoveAsync("/m/source", "/m/destination");

        Assert.Equal(content, await driver.GetContentAsync("/m/destination"));
        Assert.Equal([Key("/m/destination")], await ListKeysAsync(""));
    }

    [Fact]
    public async Task RedirectUrl_IsAPresignedUrlOfTheObject()
    {
        var driver = NewDriver();
        var content = RandomBytes(1000, seed: 7);
        await driver.PutContentAsync("/blobs/r/data", content);

        var get = await driver.GetRedirectUrlAsync("/blobs/r/data", "GET", TimeSpan.FromMinutes(20));
        var head = await driver.GetRedirectUrlAsync("/blobs/r/data", "HEAD", TimeSpan.FromMinutes(20));

        Assert.NotNull(get);
        Assert.StartsWith(_server.Endpoint + "/" + _server.Bucket + "/" + _root + "/blobs/r/data?", get.ToString());
        using var http = new HttpClient();
        Assert.Equal(content, await http.GetByteArrayAsync(get));
        using var headResponse = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, head));
        Assert.Equal(HttpStatusCode.OK, headResponse.StatusCode);
        Assert.Equal(1000, headResponse.Content.Headers.ContentLength);
        Assert.Null(await driver.GetRedirectUrlAsync("/blobs/r/data", "DELETE", TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public async Task MissingBucket_IsAnIOException_NotPathNotFound()
    {
        var driver = NewDriver(o => o with { Bucket = "berth-no-such-bucket-" + Guid.NewGuid().ToString("N")[..8] });

        var e = await Assert.ThrowsAsync<IOException>(() => driver.GetContentAsync("/x"));

        Assert.Contains("NoSuchBucket", e.Message);
        await Assert.ThrowsAsync<IOException>(() => driver.PutContentAsync("/x", "x"u8.ToArray()));
    }

    [Fact]
    public async Task UnreachableEndpoint_IsAnIOException()
    {
        var driver = NewDriver(o => o with { RegionEndpoint = "http://127.0.0.1:9" });

        await Assert.ThrowsAsync<IOException>(() => driver.PutContentAsync("/x", "x"u8.ToArray()));
    }

    [Fact]
    public void Options_AreValidated()
    {
        Assert.Throws<ArgumentException>(() => (_server.Options("") with { ChunkSize = MiB }).Validate());
        Assert.Throws<ArgumentException>(() => (_server.Options("") with { Bucket = "" }).Validate());
        Assert.Throws<ArgumentException>(() => (_server.Options("") with { SecretKey = null }).Validate());
        Assert.Equal("http://minio:9000/", S3ClientFactory.EndpointUrl(new S3DriverOptions { Bucket = "b", RegionEndpoint = "minio:9000", Secure = false })!.ToString());
        Assert.Equal("https://minio:9000/", S3ClientFactory.EndpointUrl(new S3DriverOptions { Bucket = "b", RegionEndpoint = "minio:9000" })!.ToString());
        Assert.Null(S3ClientFactory.EndpointUrl(new S3DriverOptions { Bucket = "b" }));
    }

    // ---- helpers ----

    private static async Task<List<string>> WalkPathsAsync(IStorageDriver driver, string path)
    {
        var paths = new List<string>();
        await foreach (var entry in driver.WalkAsync(path))
        {
            paths.Add(entry.Path);
        }
        return paths;
    }

    private async Task<List<string>> ListKeysAsync(string relative)
    {
        var response = await _client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _server.Bucket, Prefix = _root + "/" + relative });
        return [.. (response.S3Objects ?? []).Select(o => o.Key).Order(StringComparer.Ordinal)];
    }

    private async Task<List<MultipartUpload>> UploadsAsync()
    {
        var response = await _client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = _server.Bucket, Prefix = _root + "/" });
        return response.MultipartUploads ?? [];
    }

    private async Task<long> PartsSizeAsync()
    {
        var upload = Assert.Single(await UploadsAsync());
        var parts = await _client.ListPartsAsync(new ListPartsRequest { BucketName = _server.Bucket, Key = upload.Key, UploadId = upload.UploadId });
        return (parts.Parts ?? []).Sum(p => p.Size ?? 0);
    }

    private async Task<int> PartCountAsync()
    {
        var upload = Assert.Single(await UploadsAsync());
        var parts = await _client.ListPartsAsync(new ListPartsRequest { BucketName = _server.Bucket, Key = upload.Key, UploadId = upload.UploadId });
        return parts.Parts?.Count ?? 0;
    }

    private async Task<byte[]> ReadStateAsync(string path)
    {
        using var response = await _client.GetObjectAsync(_server.Bucket, Key(path) + S3Driver.UncommittedSuffix);
        using var buffer = new MemoryStream();
        await response.ResponseStream.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    private static int HeaderLength(byte[] state) => 8 + 4 + (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(state.AsSpan(8));

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Counts the response body bytes the SDK receives.</summary>
    private sealed class CountingHandlerFactory : HttpClientFactory
    {
        private long _received;

        public long BytesReceived => Interlocked.Read(ref _received);

        public override HttpClient CreateHttpClient(IClientConfig clientConfig) =>
            new(new CountingHandler(this) { InnerHandler = new SocketsHttpHandler() }) { Timeout = Timeout.InfiniteTimeSpan };

        private sealed class CountingHandler(CountingHandlerFactory owner) : DelegatingHandler
        {
            protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                var response = await base.SendAsync(request, cancellationToken);
                var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
                Interlocked.Add(ref owner._received, bytes.Length);
                var copy = new ByteArrayContent(bytes);
                foreach (var header in response.Content.Headers)
                {
                    copy.Headers.TryAddWithoutValidation(header.Key, header.Value);
                }
                response.Content = copy;
                return response;
            }
        }
    }
}
