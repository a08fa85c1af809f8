using System.Diagnostics;
using Amazon.S3;
using Amazon.S3.Model;
using Berth.Storage.S3;

namespace Berth.Storage.S3.Tests;

/// <summary>
/// The S3 server of the tests: the one named by BERTH_TEST_S3_ENDPOINT, BERTH_TEST_S3_ACCESS_KEY,
/// BERTH_TEST_S3_SECRET_KEY (and BERTH_TEST_S3_REGION), as scripts/test.sh sets them; without them a Ceph RADOS
/// Gateway started for this test process with scripts/ceph-rgw-start.sh and stopped when the process exits.
/// A missing server is a failure that says what to install or start, never a skip.
/// <para>Every test process gets its own bucket (<see cref="Bucket"/>), removed at exit; tests work under
/// their own root directories in it.</para>
/// </summary>
public sealed class S3TestServer
{
    private static readonly Lazy<S3TestServer> Shared = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);

    private S3TestServer(string endpoint, string accessKey, string secretKey, string region, string? startedDirectory)
    {
        Endpoint = endpoint;
        AccessKey = accessKey;
        SecretKey = secretKey;
        Region = region;
        StartedDirectory = startedDirectory;
        Bucket = "berth-test-" + Guid.NewGuid().ToString("N")[..12];
    }

    /// <summary>The server, started on first use. Throws with instructions when there is none.</summary>
    public static S3TestServer Instance => Shared.Value;

    public string Endpoint { get; }

    public string AccessKey { get; }

    public string SecretKey { get; }

    public string Region { get; }

    /// <summary>This process's bucket.</summary>
    public string Bucket { get; }

    /// <summary>The folder of the cluster this process started, or null for a server given by the environment.</summary>
    public string? StartedDirectory { get; }

    /// <summary>Driver options for this server and bucket.</summary>
    public S3DriverOptions Options(string rootDirectory, string? bucket = null) => new()
    {
        Bucket = bucket ?? Bucket,
        Region = Region,
        RegionEndpoint = Endpoint,
        AccessKey = AccessKey,
        SecretKey = SecretKey,
        RootDirectory = rootDirectory,
    };

    public AmazonS3Client CreateClient() => S3ClientFactory.Create(Options("/"));

    private static S3TestServer Start()
    {
        var endpoint = Environment.GetEnvironmentVariable("BERTH_TEST_S3_ENDPOINT");
        S3TestServer server;
        if (!string.IsNullOrEmpty(endpoint))
        {
            server = new S3TestServer(endpoint,
                Environment.GetEnvironmentVariable("BERTH_TEST_S3_ACCESS_KEY") ?? throw new InvalidOperationException("BERTH_TEST_S3_ENDPOINT is set but BERTH_TEST_S3_ACCESS_KEY is not"),
                Environment.GetEnvironmentVariable("BERTH_TEST_S3_SECRET_KEY") ?? throw new InvalidOperationException("BERTH_TEST_S3_ENDPOINT is set but BERTH_TEST_S3_SECRET_KEY is not"),
                Environment.GetEnvironmentVariable("BERTH_TEST_S3_REGION") is { Length: > 0 } r ? r : "us-east-1",
                startedDirectory: null);
        }
        else
        {
            server = StartCluster();
        }
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Shutdown();
        try
        {
            using var client = server.CreateClient();
            client.PutBucketAsync(new PutBucketRequest { BucketName = server.Bucket }).GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            throw new InvalidOperationException(
                $"the S3 server at {server.Endpoint} does not answer ({e.GetType().Name}: {e.Message}). Start it with scripts/ceph-rgw-start.sh "
                + "and export the BERTH_TEST_S3_* variables it prints, or unset them to let the tests start their own cluster.", e);
        }
        return server;
    }

    /// <summary>Runs scripts/ceph-rgw-start.sh with a folder of this process and reads the variables it writes.</summary>
    private static S3TestServer StartCluster()
    {
        var script = Path.Combine(RepositoryRoot(), "scripts", "ceph-rgw-start.sh");
        var dir = $"/tmp/berth-ceph-test-{Environment.ProcessId}";
        var start = new ProcessStartInfo("bash", [script])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["BERTH_CEPH_DIR"] = dir;
        using var process = Process.Start(start) ?? throw new InvalidOperationException("cannot run " + script);
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(10)))
        {
            process.Kill(entireProcessTree: true);
        }
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                "no S3 server for the tests: BERTH_TEST_S3_ENDPOINT is not set and scripts/ceph-rgw-start.sh failed "
                + $"(exit {process.ExitCode}). It needs the Debian packages radosgw ceph-mon ceph-osd ceph-common "
                + "(apt-get install --no-install-recommends radosgw ceph-mon ceph-osd ceph-common, as root) or run scripts/test.sh, "
                + "which installs and starts them.\n" + stderr.Result + stdout);
        }
        var env = File.ReadAllLines(Path.Combine(dir, "env"))
            .Select(l => l.Split('=', 2))
            .Where(kv => kv.Length == 2)
            .ToDictionary(kv => kv[0], kv => kv[1]);
        return new S3TestServer(env["BERTH_TEST_S3_ENDPOINT"], env["BERTH_TEST_S3_ACCESS_KEY"], env["BERTH_TEST_S3_SECRET_KEY"], env["BERTH_TEST_S3_REGION"], dir);
    }

    /// <summary>Removes the bucket (the tests emptied their root directories) and stops a cluster this process started.</summary>
    private void Shutdown()
    {
        try
        {
            if (StartedDirectory is null)
            {
                using var client = CreateClient();
                DeleteBucketAsync(client, Bucket).GetAwaiter().GetResult();
            }
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"S3TestServer: could not remove bucket {Bucket}: {e.Message}");
        }
        if (StartedDirectory is not null)
        {
            // In a session of its own and not waited for: the test host may be ended before the daemons have
            // stopped (the OSD takes a few seconds), and the stop must not end with it.
            var stop = new ProcessStartInfo("setsid", ["-f", "bash", Path.Combine(RepositoryRoot(), "scripts", "ceph-rgw-stop.sh")])
            {
                RedirectStandardOutput = false,
                UseShellExecute = false,
            };
            stop.Environment["BERTH_CEPH_DIR"] = StartedDirectory;
            using var process = Process.Start(stop);
            process?.WaitForExit(TimeSpan.FromSeconds(5));
        }
    }

    /// <summary>Deletes every object and multipart upload of a bucket, then the bucket.</summary>
    public static async Task DeleteBucketAsync(IAmazonS3 client, string bucket)
    {
        await DeletePrefixAsync(client, bucket, "");
        await client.DeleteBucketAsync(new DeleteBucketRequest { BucketName = bucket });
    }

    /// <summary>Deletes every object and multipart upload whose key starts with the prefix; returns what was there.</summary>
    public static async Task<List<string>> DeletePrefixAsync(IAmazonS3 client, string bucket, string prefix)
    {
        var found = new List<string>();
        var list = new ListObjectsV2Request { BucketName = bucket, Prefix = prefix };
        while (true)
        {
            var page = await client.ListObjectsV2Async(list);
            var keys = (page.S3Objects ?? []).Select(o => o.Key).ToList();
            found.AddRange(keys);
            if (keys.Count > 0)
            {
                await client.DeleteObjectsAsync(new DeleteObjectsRequest { BucketName = bucket, Objects = [.. keys.Select(k => new KeyVersion { Key = k })] });
            }
            if (page.IsTruncated != true)
            {
                break;
            }
            list.ContinuationToken = page.NextContinuationToken;
        }
        var uploads = await client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = bucket, Prefix = prefix });
        foreach (var upload in uploads.MultipartUploads ?? [])
        {
            found.Add($"multipart upload of {upload.Key}");
            await client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = bucket, Key = upload.Key, UploadId = upload.UploadId });
        }
        return found;
    }

    /// <summary>The folder holding Berth.slnx.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Berth.slnx")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Berth.slnx not found above " + AppContext.BaseDirectory);
    }
}
