using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Berth.Api;
using Berth.Configuration;
using Berth.Core;
using Berth.Storage.FileSystem;
using Berth.Storage.InMemory;
using Microsoft.AspNetCore.Builder;

namespace Berth.Storage.S3.Tests;

/// <summary>Distribution's storage.s3 configuration, the factory every command builds its driver with, and the
/// blob redirect of the HTTP API.</summary>
public sealed class S3ConfigurationTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "berth-s3-config-" + Guid.NewGuid().ToString("N"));

    public S3ConfigurationTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private LoadedConfig Load(string yaml, Dictionary<string, string>? environment = null)
    {
        var path = Path.Combine(_dir, "config.yml");
        File.WriteAllText(path, yaml);
        return ConfigLoader.Load(path, environment ?? [], new ConfigOverrides());
    }

    private const string DistributionConfig = """
        version: 0.1
        log:
          level: info
        storage:
          s3:
            accesskey: AKIAEXAMPLE
            secretkey: secretexample
            region: eu-west-3
            regionendpoint: http://ceph.internal:7480
            bucket: registry
            encrypt: false
            secure: false
            v4auth: true
            chunksize: 5242880
            rootdirectory: /gitlab/registry
            loglevel: debug
          delete:
            enabled: true
        http:
          addr: 127.0.0.1:5000
        """;

    [Fact]
    public void DistributionS3Config_MapsEveryImplementedKey()
    {
        var loaded = Load(DistributionConfig);

        Assert.Equal("s3", loaded.Storage.Driver);
        var s3 = Assert.IsType<S3DriverOptions>(loaded.Storage.S3);
        Assert.Equal("registry", s3.Bucket);
        Assert.Equal("eu-west-3", s3.Region);
        Assert.Equal("http://ceph.internal:7480", s3.RegionEndpoint);
        Assert.Equal("AKIAEXAMPLE", s3.AccessKey);
        Assert.Equal("secretexample", s3.SecretKey);
        Assert.Equal("/gitlab/registry", s3.RootDirectory);
        Assert.False(s3.Secure);
        Assert.False(s3.Encrypt);
        Assert.Equal(5 * 1024 * 1024, s3.ChunkSize);
        Assert.Null(s3.ForcePathStyle);
        Assert.Equal("s3://registry/gitlab/registry at http://ceph.internal:7480", loaded.Storage.Describe());
        Assert.Contains(loaded.Warnings, w => w.Contains("storage.s3.loglevel", StringComparison.Ordinal));
        Assert.DoesNotContain(loaded.Warnings, w => w.Contains("storage.s3.bucket", StringComparison.Ordinal));
        Assert.False(loaded.Server.Registry.RedirectBlobs);
        Assert.IsType<S3Driver>(StorageFactory.Create(loaded));
    }

    [Fact]
    public void Credentials_ComeFromAwsEnvironment_WhenTheFileHasNone()
    {
        var loaded = Load("""
            storage:
              s3:
                bucket: b
                regionendpoint: 127.0.0.1:7480
                forcepathstyle: false
                chunksize: 20MiB
            """, new Dictionary<string, string> { ["AWS_ACCESS_KEY_ID"] = "envkey", ["AWS_SECRET_ACCESS_KEY"] = "envsecret", ["AWS_REGION"] = "ap-south-1" });

        var s3 = loaded.Storage.S3!;
        Assert.Equal(("envkey", "envsecret", "ap-south-1"), (s3.AccessKey, s3.SecretKey, s3.Region));
        Assert.False(s3.ForcePathStyle);
        Assert.Equal(20 * 1024 * 1024, s3.ChunkSize);
    }

    [Fact]
    public void RegistryEnvironmentVariables_OverrideTheFile()
    {
        var loaded = Load(DistributionConfig, new Dictionary<string, string>
        {
            ["REGISTRY_STORAGE_S3_BUCKET"] = "other",
            ["REGISTRY_STORAGE_S3_SECRETKEY"] = "fromenv",
            ["REGISTRY_STORAGE_REDIRECT_DISABLE"] = "false",
        });

        Assert.Equal("other", loaded.Storage.S3!.Bucket);
        Assert.Equal("fromenv", loaded.Storage.S3.SecretKey);
        Assert.True(loaded.Server.Registry.RedirectBlobs);
    }

    [Theory]
    [InlineData("storage:\n  s3:\n    region: us-east-1\n", "storage.s3.bucket is required")]
    [InlineData("storage:\n  s3:\n    bucket: b\n", "storage.s3.region is required")]
    [InlineData("storage:\n  s3:\n    bucket: b\n    region: r\n    chunksize: 1024\n", "chunksize")]
    [InlineData("storage:\n  s3:\n    bucket: b\n    region: r\n    chunksize: lots\n", "chunksize")]
    [InlineData("storage:\n  s3:\n    bucket: b\n    region: r\n    accesskey: only\n", "accesskey and secretkey")]
    [InlineData("storage:\n  s3:\n    bucket: b\n    region: r\n  filesystem:\n    rootdirectory: /x\n", "exactly one driver")]
    [InlineData("storage:\n  gcs:\n    bucket: b\n", "storage.gcs")]
    public void BadStorageConfig_IsAnError(string yaml, string message)
    {
        var e = Assert.Throws<ConfigException>(() => Load(yaml));

        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void V4AuthFalse_IsAWarning()
    {
        var loaded = Load("storage:\n  s3:\n    bucket: b\n    region: r\n    v4auth: false\n");

        Assert.Contains(loaded.Warnings, w => w.Contains("v4auth", StringComparison.Ordinal));
    }

    [Fact]
    public void Factory_BuildsEveryDriver()
    {
        Assert.IsType<InMemoryDriver>(StorageFactory.Create(Load("storage:\n  inmemory:\n")));
        var fs = Assert.IsType<FileSystemDriver>(StorageFactory.Create(Load($"storage:\n  filesystem:\n    rootdirectory: {_dir}/data\n")));
        Assert.Equal(Path.Combine(_dir, "data"), fs.RootDirectory);
        Assert.IsType<FileSystemDriver>(StorageFactory.Create(new StorageSettings("filesystem", Path.Combine(_dir, "other"))));
        Assert.Throws<ConfigException>(() => StorageFactory.Create(new StorageSettings("s3", "")));
        Assert.Throws<ConfigException>(() => StorageFactory.Create(new StorageSettings("ftp", "")));
    }

    [Fact]
    public async Task BlobGet_WithRedirect_Is307ToThePresignedUrl_HeadStaysLocal()
    {
        var server = S3TestServer.Instance;
        var root = "redirect-tests/" + Guid.NewGuid().ToString("N");
        using var driver = new S3Driver(server.Options(root));
        var port = FreePort();
        var options = new ServerOptions
        {
            Listen = $"127.0.0.1:{port}",
            LogLevel = Microsoft.Extensions.Logging.LogLevel.Warning,
            AccessLogEnabled = false,
            MetricsEnabled = false,
            Registry = new RegistryOptions { RedirectBlobs = true },
        };
        await using var app = RegistryServer.Build(options, new InstrumentedStorageDriver(driver));
        await app.StartAsync();
        try
        {
            using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            var blob = RandomNumberGenerator.GetBytes(100_000);
            var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(blob));
            using (var push = await http.PostAsync($"/v2/r/blobs/uploads/?digest={digest}", new ByteArrayContent(blob)))
            {
                Assert.Equal(HttpStatusCode.Created, push.StatusCode);
            }

            using var get = await http.GetAsync($"/v2/r/blobs/{digest}");
            Assert.Equal(HttpStatusCode.TemporaryRedirect, get.StatusCode);
            var location = get.Headers.Location!;
            Assert.StartsWith(server.Endpoint, location.ToString());
            using var direct = new HttpClient();
            Assert.Equal(blob, await direct.GetByteArrayAsync(location));

            using var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/r/blobs/{digest}"));
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Equal(blob.Length, head.Content.Headers.ContentLength);

            using var unknown = await http.GetAsync($"/v2/r/blobs/sha256:{new string('0', 64)}");
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        }
        finally
        {
            await app.StopAsync();
            await S3TestServer.DeletePrefixAsync(driver.Client, driver.Bucket, root + "/");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
