using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Amazon.S3.Model;
using Berth.Maintenance.Tests.Support;
using Berth.Storage.FileSystem;
using Berth.Storage.Layout;

namespace Berth.Storage.S3.Tests.Maintenance;

/// <summary>
/// <c>berth doctor --config s3.yml</c> and <c>berth gc --config s3.yml</c> as real processes on the Ceph RGW bucket,
/// each scenario run twice, on the bucket and on a filesystem root (<c>--data</c>), with the same content: the
/// filesystem run is the oracle the S3 run must match (same findings, same repairs, same deletions). The damage is
/// the runbook's, as the filesystem tests in Berth.Maintenance.Tests (DoctorScanTests) and
/// Berth.GarbageCollection.Tests (GcCommandTests) make it. Pulls go through <c>berth serve s3.yml</c>.
/// </summary>
public sealed class MaintenanceCommandsOnS3Tests : IDisposable
{
    private const string Manifest = "application/vnd.oci.image.manifest.v1+json";

    private readonly string _prefix = "maintenance/" + Guid.NewGuid().ToString("N");
    private readonly TempDirectory _dir = new();
    private readonly S3Driver _s3;
    private readonly FileSystemDriver _fs;

    public MaintenanceCommandsOnS3Tests()
    {
        _s3 = new S3Driver(S3TestServer.Instance.Options(_prefix));
        _fs = new FileSystemDriver(Data, syncToDisk: false);
    }

    private string Data => _dir.Combine("data");

    public void Dispose()
    {
        S3TestServer.DeletePrefixAsync(_s3.Client, _s3.Bucket, _prefix + "/").GetAwaiter().GetResult();
        _s3.Dispose();
        _dir.Dispose();
    }

    /// <summary>Distribution's storage.s3 keys for this test's prefix of the test bucket.</summary>
    private string WriteConfig(int port)
    {
        var server = S3TestServer.Instance;
        var path = _dir.Combine($"s3-{port}.yml");
        File.WriteAllText(path, $"""
            version: 0.1
            log:
              level: warn
            storage:
              s3:
                regionendpoint: {server.Endpoint}
                region: {server.Region}
                bucket: {server.Bucket}
                accesskey: {server.AccessKey}
                secretkey: {server.SecretKey}
                rootdirectory: /{_prefix}
                secure: false
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:{port}
            """);
        return path;
    }

    private string Config => WriteConfig(0);

    /// <summary>The runbook's damage, one repository or tag per kind, on top of healthy tags. Deterministic
    /// content, so both storages get the same digests.</summary>
    private static async Task<Dictionary<string, TestRegistry.Image>> PushAndBreakAsync(TestRegistry r)
    {
        var images = new Dictionary<string, TestRegistry.Image>(StringComparer.Ordinal)
        {
            ["group/app:good"] = await r.PushImageAsync("group/app", "good"),
            ["group/app:empty"] = await r.PushImageAsync("group/app", "empty"),
            ["group/app:garbage"] = await r.PushImageAsync("group/app", "garbage"),
            ["group/revision:v1"] = await r.PushImageAsync("group/revision", "v1"),
            ["group/manifest:v1"] = await r.PushImageAsync("group/manifest", "v1"),
            ["group/layer:v1"] = await r.PushImageAsync("group/layer", "v1"),
            ["group/layerlink:v1"] = await r.PushImageAsync("group/layerlink", "v1"),
            ["other:latest"] = await r.PushImageAsync("other", "latest"),
        };
        var d = r.Driver;
        await d.PutContentAsync(StoragePaths.TagCurrentLink("group/app", "empty"), Array.Empty<byte>());              // runbook 2
        await d.PutContentAsync(StoragePaths.TagCurrentLink("group/app", "garbage"), "garbage"u8.ToArray());
        await d.DeleteAsync(StoragePaths.RevisionLink("group/revision", images["group/revision:v1"].Manifest));
        await d.DeleteAsync(StoragePaths.BlobData(images["group/manifest:v1"].Manifest));
        await d.DeleteAsync(StoragePaths.BlobData(images["group/layer:v1"].Layers[1]));
        await d.DeleteAsync(StoragePaths.LayerLink("group/layerlink", images["group/layerlink:v1"].Layers[0])); // runbook 1
        return images;
    }

    /// <summary>"class repository tag-or-digest path" for every warning and error of a doctor JSON report, sorted.</summary>
    private static string[] Problems(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return [.. doc.RootElement.GetProperty("findings").EnumerateArray()
            .Where(f => f.GetProperty("severity").GetString() != "info")
            .Select(f => $"{f.GetProperty("class").GetString()} {f.GetProperty("repository").GetString() ?? "-"} "
                + $"{f.GetProperty("tag").GetString() ?? f.GetProperty("digest").GetString() ?? "-"} {f.GetProperty("path").GetString()}")
            .Order(StringComparer.Ordinal)];
    }

    private static string[] Classes(string[] problems) => [.. problems.Select(p => string.Join(' ', p.Split(' ')[..3]))];

    /// <summary>"action class repository tag-or-digest status" of each repair outcome, sorted.</summary>
    private static string[] Repairs(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return [.. doc.RootElement.GetProperty("repair").GetProperty("items").EnumerateArray()
            .Select(i => $"{i.GetProperty("action").GetString()} {i.GetProperty("class").GetString()} {i.GetProperty("repository").GetString() ?? "-"} "
                + $"{i.GetProperty("tag").GetString() ?? i.GetProperty("digest").GetString() ?? "-"} {i.GetProperty("status").GetString()}")
            .Order(StringComparer.Ordinal)];
    }

    private static async Task<SortedDictionary<string, string>> RegistryContentAsync(TestRegistry r)
    {
        var all = await r.SnapshotAsync(StoragePaths.RepositoriesRoot);
        foreach (var (path, bytes) in await r.SnapshotAsync(StoragePaths.BlobsRoot))
        {
            all[path] = bytes;
        }
        return all;
    }

    private async Task<List<string>> BucketKeysAsync(string storagePath)
    {
        var keys = new List<string>();
        var request = new ListObjectsV2Request { BucketName = _s3.Bucket, Prefix = _prefix + storagePath + "/" };
        while (true)
        {
            var page = await _s3.Client.ListObjectsV2Async(request);
            keys.AddRange((page.S3Objects ?? []).Select(o => o.Key[_prefix.Length..]));
            if (page.IsTruncated != true)
            {
                return keys;
            }
            request.ContinuationToken = page.NextContinuationToken;
        }
    }

    [Fact]
    public async Task Doctor_OnS3_FindsRepairsAndRestoresAsOnFilesystem()
    {
        var onS3 = new TestRegistry(_s3);
        var images = await PushAndBreakAsync(onS3);
        await PushAndBreakAsync(new TestRegistry(_fs));
        var config = Config;

        // The same findings on both storages, and the ones DoctorScanTests asserts for each kind of damage.
        var s3Scan = await BerthCli.RunAsync("doctor", "--config", config, "--format", "json");
        var fsScan = await BerthCli.RunAsync("doctor", "--data", Data, "--format", "json");
        Assert.True(s3Scan.ExitCode == 1, $"exit {s3Scan.ExitCode}: {s3Scan.Stderr}");
        Assert.Equal(1, fsScan.ExitCode);
        Assert.Equal(Problems(fsScan.Stdout), Problems(s3Scan.Stdout));
        Assert.Equal(
            [
                "layer-link-dangling group/layer " + images["group/layer:v1"].Layers[1],
                "layer-missing group/layer v1",
                "layer-unlinked group/layerlink v1",
                "manifest-blob-missing group/manifest v1",
                "revision-link-dangling group/manifest " + images["group/manifest:v1"].Manifest,
                "tag-index-dangling group/manifest v1",
                "tag-link-empty group/app empty",
                "tag-link-invalid group/app garbage",
                "tag-revision-missing group/revision v1",
            ],
            Classes(Problems(s3Scan.Stdout)));
        using (var doc = JsonDocument.Parse(s3Scan.Stdout))
        {
            Assert.Equal("s3", doc.RootElement.GetProperty("summary").GetProperty("storage").GetString());
            Assert.Equal(6, doc.RootElement.GetProperty("summary").GetProperty("repositories").GetInt32());
        }
        var before = await RegistryContentAsync(onS3);

        // A live berth serve on the bucket: repair refuses (its heartbeat is in the bucket) and changes nothing.
        var port = FreePort();
        await using (var serve = await BerthServe.StartAsync(WriteConfig(port), port))
        {
            var refused = await BerthCli.RunAsync("doctor", "--config", config, "--repair", "--yes");
            Assert.True(refused.ExitCode == 2, $"exit {refused.ExitCode}: {refused.Stdout}{refused.Stderr}");
            Assert.Contains("storage is live", refused.Stderr);
            Assert.Equal(before, await RegistryContentAsync(onS3));
            await serve.StopAsync();
        }

        // Repair: the same outcomes as on the filesystem; every quarantined object is in the bucket under the quarantine prefix.
        var s3Repair = await BerthCli.RunAsync("doctor", "--config", config, "--repair", "--yes", "--format", "json");
        var fsRepair = await BerthCli.RunAsync("doctor", "--data", Data, "--repair", "--yes", "--format", "json");
        Assert.True(s3Repair.ExitCode == fsRepair.ExitCode, $"S3 exit {s3Repair.ExitCode}, filesystem {fsRepair.ExitCode}: {s3Repair.Stderr}");
        Assert.Equal(Repairs(fsRepair.Stdout), Repairs(s3Repair.Stdout));
        List<string> ids;
        using (var doc = JsonDocument.Parse(s3Repair.Stdout))
        {
            ids = [.. doc.RootElement.GetProperty("repair").GetProperty("items").EnumerateArray()
                .Select(i => i.GetProperty("quarantineId").GetString()).OfType<string>().Distinct()];
            var emptyTag = doc.RootElement.GetProperty("findings").EnumerateArray().Single(f => f.GetProperty("class").GetString() == "tag-link-empty");
            var emptyId = emptyTag.GetProperty("quarantineId").GetString()!;
            Assert.Contains(StoragePaths.QuarantineObject(emptyId, StoragePaths.TagCurrentLink("group/app", "empty")), await BucketKeysAsync(StoragePaths.QuarantineItem(emptyId)));
        }
        Assert.NotEmpty(ids);
        var quarantined = await BucketKeysAsync(StoragePaths.QuarantineRoot);
        foreach (var id in ids)
        {
            Assert.Contains(StoragePaths.QuarantineJournal(id), quarantined);
            Assert.Contains(quarantined, k => k.StartsWith(StoragePaths.QuarantineItem(id) + "/objects/", StringComparison.Ordinal));
        }
        foreach (var gone in before.Keys.Except((await RegistryContentAsync(onS3)).Keys))
        {
            Assert.Contains(quarantined, k => k.EndsWith("/objects" + gone, StringComparison.Ordinal));
        }
        var s3After = await BerthCli.RunAsync("doctor", "--config", config, "--format", "json");
        var fsAfter = await BerthCli.RunAsync("doctor", "--data", Data, "--format", "json");
        Assert.Equal(fsAfter.ExitCode, s3After.ExitCode);
        Assert.Equal(Problems(fsAfter.Stdout), Problems(s3After.Stdout));

        // Every tag that is left pulls through berth serve on the bucket; the quarantined ones are a clean 404.
        port = FreePort();
        await using (var serve = await BerthServe.StartAsync(WriteConfig(port), port))
        {
            var tags = await serve.TagsAsync();
            Assert.Contains("group/app:good", tags);
            Assert.Contains("other:latest", tags);
            Assert.DoesNotContain("group/app:empty", tags);
            foreach (var tag in tags)
            {
                await serve.PullAsync(tag);
            }
            Assert.Equal(HttpStatusCode.NotFound, await serve.ManifestStatusAsync("group/app", "empty"));
            await serve.StopAsync();
        }

        // The quarantine lists every item; restoring each puts the registry back byte for byte.
        var list = await BerthCli.RunAsync("doctor", "quarantine", "list", "--config", config, "--format", "json");
        Assert.True(list.ExitCode == 0, list.Stderr);
        using (var doc = JsonDocument.Parse(list.Stdout))
        {
            Assert.Equal(ids.Order(StringComparer.Ordinal), doc.RootElement.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()!).Order(StringComparer.Ordinal));
        }
        foreach (var id in ids)
        {
            var restore = await BerthCli.RunAsync("doctor", "restore", id, "--config", config);
            Assert.True(restore.ExitCode == 0, $"restore {id}: exit {restore.ExitCode}: {restore.Stderr}");
        }
        Assert.Equal(before, await RegistryContentAsync(onS3));
        Assert.Empty(await BucketKeysAsync(StoragePaths.QuarantineRoot));
        Assert.Equal(Problems(s3Scan.Stdout), Problems((await BerthCli.RunAsync("doctor", "--config", config, "--format", "json")).Stdout));
    }

    [Fact]
    public async Task Gc_OnS3_DeletesWhatItDeletesOnFilesystem_AndKeptTagsPull()
    {
        var onS3 = new TestRegistry(_s3);
        var onFs = new TestRegistry(_fs);
        var shared = onS3.NewLayer(200);
        onFs.NewLayer(200); // keeps the two registries' content counters in step
        var keep = await onS3.PushImageAsync("lib/app", "keep", [shared, onS3.NewLayer()]);
        var drop = await onS3.PushImageAsync("lib/app", "drop", [shared, onS3.NewLayer()]);
        Assert.Equal(keep.Manifest, (await onFs.PushImageAsync("lib/app", "keep", [shared, onFs.NewLayer()])).Manifest);
        Assert.Equal(drop.Manifest, (await onFs.PushImageAsync("lib/app", "drop", [shared, onFs.NewLayer()])).Manifest);
        var config = Config;

        // Delete the "drop" manifest through the registry API, on both storages.
        var port = FreePort();
        await using (var serve = await BerthServe.StartAsync(WriteConfig(port), port))
        {
            Assert.Equal(HttpStatusCode.Accepted, await serve.DeleteManifestAsync("lib/app", drop.Manifest.ToString()));
            await serve.StopAsync();
        }
        port = FreePort();
        await using (var serve = await BerthServe.StartAsync(null, port, Data))
        {
            Assert.Equal(HttpStatusCode.Accepted, await serve.DeleteManifestAsync("lib/app", drop.Manifest.ToString()));
            await serve.StopAsync();
        }

        string[] Blobs(string json)
        {
            using var doc = JsonDocument.Parse(json);
            return [.. doc.RootElement.GetProperty("blobs").EnumerateArray().Select(b => b.GetProperty("digest").GetString()!).Order(StringComparer.Ordinal)];
        }
        var unreferenced = new[] { drop.Manifest, drop.Config, drop.Layers[1] }.Select(d => d.ToString()).Order(StringComparer.Ordinal).ToArray();
        var s3Dry = await BerthCli.RunAsync("gc", "--config", config, "--grace", "0s", "--dry-run", "--format", "json");
        var fsDry = await BerthCli.RunAsync("gc", "--data", Data, "--grace", "0s", "--dry-run", "--format", "json");
        Assert.True(s3Dry.ExitCode == 0, $"exit {s3Dry.ExitCode}: {s3Dry.Stderr}");
        Assert.Equal(0, fsDry.ExitCode);
        Assert.Equal(unreferenced, Blobs(s3Dry.Stdout));
        Assert.Equal(Blobs(fsDry.Stdout), Blobs(s3Dry.Stdout));
        foreach (var digest in unreferenced)
        {
            Assert.NotNull(await _s3.StatAsync(StoragePaths.BlobData(Digest.Parse(digest)))); // a dry run deletes nothing
        }

        var s3Real = await BerthCli.RunAsync("gc", "--config", config, "--grace", "0s", "--format", "json");
        var fsReal = await BerthCli.RunAsync("gc", "--data", Data, "--grace", "0s", "--format", "json");
        Assert.True(s3Real.ExitCode == 0, $"exit {s3Real.ExitCode}: {s3Real.Stderr}");
        Assert.Equal(0, fsReal.ExitCode);
        Assert.Equal(unreferenced, Blobs(s3Real.Stdout));
        Assert.Equal(Blobs(fsReal.Stdout), Blobs(s3Real.Stdout));
        var blobKeys = await BucketKeysAsync(StoragePaths.BlobsRoot);
        foreach (var digest in unreferenced)
        {
            Assert.DoesNotContain(blobKeys, k => k.Contains(digest[7..], StringComparison.Ordinal));
        }
        foreach (var digest in new[] { keep.Manifest, keep.Config, keep.Layers[0], keep.Layers[1] })
        {
            Assert.Contains(StoragePaths.BlobData(digest), blobKeys);
        }

        port = FreePort();
        await using var registry = await BerthServe.StartAsync(WriteConfig(port), port);
        Assert.Equal(["lib/app:keep"], await registry.TagsAsync());
        await registry.PullAsync("lib/app:keep");
        Assert.Equal(HttpStatusCode.NotFound, await registry.ManifestStatusAsync("lib/app", "drop"));
        await registry.StopAsync();
    }

    [Fact]
    public async Task Config_NamingNoUsableStorage_Exit2_WithTheReason()
    {
        var none = _dir.Combine("none.yml");
        await File.WriteAllTextAsync(none, "version: 0.1\nhttp:\n  addr: 127.0.0.1:5000\n");
        var noBucket = _dir.Combine("nobucket.yml");
        await File.WriteAllTextAsync(noBucket, "version: 0.1\nstorage:\n  s3:\n    region: us-east-1\n");
        var emptyPrefix = WriteConfig(0); // a reachable bucket prefix that holds no registry

        foreach (var (args, expected) in new (string[], string)[]
        {
            (["doctor", "--config", none], "names no storage"),
            (["gc", "--config", none, "--dry-run"], "names no storage"),
            (["doctor", "quarantine", "list", "--config", none], "names no storage"),
            (["doctor", "--config", noBucket], "storage.s3.bucket is required"),
            (["gc", "--config", noBucket, "--dry-run"], "storage.s3.bucket is required"),
            (["doctor", "--config", emptyPrefix], "holds no docker/registry/v2"),
            (["doctor", "--config", _dir.Combine("missing.yml")], "does not exist"),
        })
        {
            var r = await BerthCli.RunAsync(args);
            Assert.True(r.ExitCode == 2, $"{string.Join(' ', args)}: exit {r.ExitCode}: {r.Stdout}{r.Stderr}");
            Assert.Contains(expected, r.Stderr);
        }
    }

    [Fact]
    public async Task LogsDoctor_WithS3Config_ClassifiesEachFailingPath()
    {
        var onS3 = new TestRegistry(_s3);
        await onS3.PushImageAsync("group/app", "good");
        await onS3.PushImageAsync("group/app", "bad");
        await _s3.PutContentAsync(StoragePaths.TagCurrentLink("group/app", "bad"), Array.Empty<byte>());
        var log = _dir.Combine("registry.log");
        await File.WriteAllTextAsync(log, string.Concat(Enumerable.Repeat(
            "{\"time\":\"2026-01-01T00:00:00Z\",\"level\":\"error\",\"http.request.method\":\"GET\",\"http.request.uri\":\"/v2/group/app/manifests/bad\",\"http.response.status\":500}\n", 3)));

        var r = await BerthCli.RunAsync("logs", log, "--doctor", "--config", Config, "--format", "json");

        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.Stderr}");
        Assert.Contains("tag-link-empty", r.Stdout);
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A <c>berth serve</c> process on 127.0.0.1, stopped with SIGTERM (so its heartbeat is removed).</summary>
    private sealed class BerthServe : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _log = new();

        private BerthServe(Process process, int port)
        {
            _process = process;
            Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
            _process.OutputDataReceived += (_, e) => Append(e.Data);
            _process.ErrorDataReceived += (_, e) => Append(e.Data);
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public HttpClient Http { get; }

        private string Log
        {
            get
            {
                lock (_log)
                {
                    return _log.ToString();
                }
            }
        }

        private void Append(string? line)
        {
            if (line is not null)
            {
                lock (_log)
                {
                    _log.AppendLine(line);
                }
            }
        }

        public static async Task<BerthServe> StartAsync(string? config, int port, string? data = null)
        {
            var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "berth.dll"));
            info.ArgumentList.Add("serve");
            if (config is not null)
            {
                info.ArgumentList.Add(config);
            }
            else
            {
                info.ArgumentList.Add("--data");
                info.ArgumentList.Add(data!);
                info.ArgumentList.Add("--listen");
                info.ArgumentList.Add($"127.0.0.1:{port}");
            }
            info.ArgumentList.Add("--log-level");
            info.ArgumentList.Add("warn");
            var serve = new BerthServe(Process.Start(info)!, port);
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (DateTime.UtcNow < deadline)
            {
                if (serve._process.HasExited)
                {
                    throw new InvalidOperationException($"berth serve exited with {serve._process.ExitCode}:\n{serve.Log}");
                }
                try
                {
                    using var response = await serve.Http.GetAsync("/v2/");
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        return serve;
                    }
                }
                catch (HttpRequestException)
                {
                }
                await Task.Delay(100);
            }
            await serve.DisposeAsync();
            throw new TimeoutException("berth serve did not answer:\n" + serve.Log);
        }

        /// <summary>Every "repository:tag" the registry lists.</summary>
        public async Task<List<string>> TagsAsync()
        {
            var result = new List<string>();
            using var catalog = JsonDocument.Parse(await Http.GetStringAsync("/v2/_catalog"));
            foreach (var repository in catalog.RootElement.GetProperty("repositories").EnumerateArray().Select(r => r.GetString()!))
            {
                using var tags = JsonDocument.Parse(await Http.GetStringAsync($"/v2/{repository}/tags/list"));
                if (tags.RootElement.GetProperty("tags") is { ValueKind: JsonValueKind.Array } list)
                {
                    result.AddRange(list.EnumerateArray().Select(t => $"{repository}:{t.GetString()}"));
                }
            }
            return result;
        }

        /// <summary>Pulls as a client does: the manifest by tag, then its config and every layer, each checked against its digest.</summary>
        public async Task PullAsync(string reference)
        {
            var (repository, tag) = (reference[..reference.LastIndexOf(':')], reference[(reference.LastIndexOf(':') + 1)..]);
            using var get = new HttpRequestMessage(HttpMethod.Get, $"/v2/{repository}/manifests/{tag}");
            get.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(Manifest));
            using var response = await Http.SendAsync(get);
            var body = await response.Content.ReadAsByteArrayAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"pull {reference}: manifest {(int)response.StatusCode} {Encoding.UTF8.GetString(body)}");
            using var manifest = JsonDocument.Parse(body);
            var descriptors = manifest.RootElement.GetProperty("layers").EnumerateArray().Prepend(manifest.RootElement.GetProperty("config"));
            foreach (var digest in descriptors.Select(d => d.GetProperty("digest").GetString()!))
            {
                using var blob = await Http.GetAsync($"/v2/{repository}/blobs/{digest}");
                Assert.True(blob.StatusCode == HttpStatusCode.OK, $"pull {reference}: blob {digest}: {(int)blob.StatusCode}");
                Assert.Equal(digest, "sha256:" + Convert.ToHexStringLower(SHA256.HashData(await blob.Content.ReadAsByteArrayAsync())));
            }
        }

        public async Task<HttpStatusCode> ManifestStatusAsync(string repository, string reference)
        {
            using var get = new HttpRequestMessage(HttpMethod.Get, $"/v2/{repository}/manifests/{reference}");
            get.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(Manifest));
            using var response = await Http.SendAsync(get);
            return response.StatusCode;
        }

        public async Task<HttpStatusCode> DeleteManifestAsync(string repository, string digest)
        {
            using var response = await Http.DeleteAsync($"/v2/{repository}/manifests/{digest}");
            return response.StatusCode;
        }

        /// <summary>SIGTERM and wait: a graceful stop removes the instance heartbeat from the storage.</summary>
        public async Task StopAsync()
        {
            if (_process.HasExited)
            {
                return;
            }
            using (var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })!)
            {
                await kill.WaitForExitAsync();
            }
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await _process.WaitForExitAsync(timeout.Token);
            Assert.True(_process.ExitCode == 0, $"berth serve exited with {_process.ExitCode}:\n{Log}");
        }

        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
            _process.Dispose();
        }
    }
}
