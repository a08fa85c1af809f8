using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Xunit.Abstractions;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Berth.ScaleOut.Tests;

/// <summary>The three instances and HAProxy of <see cref="ScaleOutTests"/>, started once for the class.</summary>
public sealed class ThreeInstances : IAsyncLifetime
{
    public ScaleOutCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await ScaleOutCluster.StartAsync("three-instances", 3);

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>Three instances on one bucket behind HAProxy (round robin, no stickiness): pushes and pulls whose
/// requests land on different instances, and deletes seen everywhere at once.</summary>
public sealed class ScaleOutTests(ThreeInstances instances, ITestOutputHelper output) : IClassFixture<ThreeInstances>, IDisposable
{
    private const int MiB = 1024 * 1024;
    private readonly string _work = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "berth-scaleout-" + Guid.NewGuid().ToString("N"))).FullName;
    private readonly ScaleOutCluster _cluster = instances.Cluster;

    public void Dispose()
    {
        output.WriteLine($"HAProxy log: {_cluster.HaproxyLogPath}");
        Directory.Delete(_work, recursive: true);
    }

    [Fact]
    public async Task Skopeo_PushesAndPullsThroughHaproxy_WithUploadsSpreadOverInstances()
    {
        var images = Enumerable.Range(0, 2)
            .Select(i => OciLayout.Create(Path.Combine(_work, $"image{i}"), $"v{i}", [6 * MiB + 1234, 3 * MiB, 700], seed: 10 + i))
            .ToList();

        var pushes = await Task.WhenAll(images.Select(image => Skopeo.PushAsync(image, _cluster.Registry, "group/sub/image")));

        foreach (var push in pushes)
        {
            Assert.True(push.Succeeded, push.Output);
        }
        foreach (var image in images)
        {
            var back = Path.Combine(_work, "pulled-" + image.Tag);
            var pull = await Skopeo.PullAsync(_cluster.Registry, "group/sub/image", image.Tag, back);
            Assert.True(pull.Succeeded, pull.Output);
            Assert.Equal(image.ManifestDigest, OciLayout.ManifestDigestOf(back, image.Tag));
        }

        // Every upload session is a PATCH and a PUT on /blobs/uploads/<id>: some of them went to two instances
        // (the PUT then re-hashes the data from the bucket), and every instance took part.
        var log = _cluster.ReadHaproxyLog();
        var sessions = log.Where(l => l.Uri.Contains("/blobs/uploads/", StringComparison.Ordinal) && l.Method is "PATCH" or "PUT")
            .GroupBy(l => l.Uri.Split('?')[0])
            .ToList();
        Assert.True(sessions.Count >= 6, $"{sessions.Count} upload sessions in the log");
        Assert.Contains(sessions, s => s.Select(l => l.Server).Distinct().Count() > 1);
        Assert.Equal(3, log.Select(l => l.Server).Distinct().Count());
        Assert.All(log, l => Assert.True(l.Status < 500, $"{l.Method} {l.Uri} -> {l.Status} on {l.Server}"));
    }

    [Fact]
    public async Task ChunkedUpload_PatchesOnDifferentInstances_MakeOneBlob()
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://{_cluster.Registry}") };
        var blob = RandomNumberGenerator.GetBytes((17 * MiB) + 321);
        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(blob));
        const int chunk = (3 * MiB) + 77;

        using var start = await http.PostAsync("/v2/group/sub/chunked/blobs/uploads/", null);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var location = start.Headers.Location!.ToString();
        var uploadPath = location.Split('?')[0];
        for (var offset = 0; offset < blob.Length; offset += chunk)
        {
            var length = Math.Min(chunk, blob.Length - offset);
            using var content = new ByteArrayContent(blob, offset, length);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            using var patch = new HttpRequestMessage(HttpMethod.Patch, location) { Content = content };
            patch.Headers.TryAddWithoutValidation("Content-Range", $"{offset}-{offset + length - 1}");
            using var response = await http.SendAsync(patch);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            Assert.Equal($"0-{offset + length - 1}", response.Headers.GetValues("Range").Single());
            location = response.Headers.Location!.ToString();
        }
        // The size is learnt from the bucket by whichever instance answers.
        using (var status = await http.GetAsync(location))
        {
            Assert.Equal(HttpStatusCode.NoContent, status.StatusCode);
            Assert.Equal($"0-{blob.Length - 1}", status.Headers.GetValues("Range").Single());
        }
        using (var put = await http.PutAsync($"{location}{(location.Contains('?', StringComparison.Ordinal) ? '&' : '?')}digest={digest}", null))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        foreach (var instance in _cluster.Instances)
        {
            using var direct = new HttpClient();
            Assert.Equal(blob, await direct.GetByteArrayAsync($"http://127.0.0.1:{instance.Port}/v2/group/sub/chunked/blobs/{digest}"));
        }
        var patches = _cluster.ReadHaproxyLog().Where(l => l.Method == "PATCH" && l.Uri.StartsWith(uploadPath, StringComparison.Ordinal)).ToList();
        Assert.Equal(6, patches.Count);
        Assert.Equal(3, patches.Select(p => p.Server).Distinct().Count());
    }

    [Fact]
    public async Task Delete_ThroughOneInstance_IsSeenByTheOthersAtOnce()
    {
        var image = OciLayout.Create(Path.Combine(_work, "deleted"), "gone", [MiB, 1000], seed: 3);
        var push = await Skopeo.PushAsync(image, _cluster.Registry, "group/sub/deleted");
        Assert.True(push.Succeeded, push.Output);
        var instances = _cluster.Instances;
        using var http = new HttpClient();
        var accept = "application/vnd.oci.image.manifest.v1+json";
        foreach (var instance in instances)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{instance.Port}/v2/group/sub/deleted/manifests/gone");
            request.Headers.Accept.ParseAdd(accept);
            using var response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using (var delete = await http.DeleteAsync($"http://127.0.0.1:{instances[0].Port}/v2/group/sub/deleted/manifests/{image.ManifestDigest}"))
        {
            Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        }
        using (var deleteBlob = await http.DeleteAsync($"http://127.0.0.1:{instances[1].Port}/v2/group/sub/deleted/blobs/{image.BlobDigests[1]}"))
        {
            Assert.Equal(HttpStatusCode.Accepted, deleteBlob.StatusCode);
        }

        foreach (var instance in instances)
        {
            foreach (var reference in new[] { "gone", image.ManifestDigest })
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{instance.Port}/v2/group/sub/deleted/manifests/{reference}");
                request.Headers.Accept.ParseAdd(accept);
                using var response = await http.SendAsync(request);
                Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            }
            using var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"http://127.0.0.1:{instance.Port}/v2/group/sub/deleted/blobs/{image.BlobDigests[1]}"));
            Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
            using var kept = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"http://127.0.0.1:{instance.Port}/v2/group/sub/deleted/blobs/{image.BlobDigests[2]}"));
            Assert.Equal(HttpStatusCode.OK, kept.StatusCode);
        }
    }

    [Fact]
    public async Task CatalogAndTags_WrittenThroughOneInstance_AreListedByTheOthers()
    {
        var instances = _cluster.Instances;
        using var http = new HttpClient();
        string Base(int i) => $"http://127.0.0.1:{instances[i % instances.Count].Port}";
        // Every instance reconciles the index at start-up: wait until one has, so that the catalog answers from it.
        var storage = _cluster.CreateDriver();
        for (var i = 0; i < 300 && !await ExistsAsync(storage, Berth.Storage.Layout.StoragePaths.CatalogReconciled); i++)
        {
            await Task.Delay(100);
        }
        Assert.True(await ExistsAsync(storage, Berth.Storage.Layout.StoragePaths.CatalogReconciled), "no instance reconciled the catalog index in 30 s");

        string[] repositories = ["scale/catalog/one", "scale/catalog/three", "scale/catalog/two"];
        for (var i = 0; i < repositories.Length; i++)
        {
            await PushSmallImageAsync(http, Base(i), repositories[i], "v1");
        }
        await PushSmallImageAsync(http, Base(0), repositories[0], "v2");
        for (var i = 0; i < instances.Count; i++)
        {
            Assert.Equal(repositories, (await CatalogAsync(http, Base(i))).Where(r => r.StartsWith("scale/catalog/", StringComparison.Ordinal)));
            Assert.Equal(["v1", "v2"], await TagsAsync(http, Base(i), repositories[0]));
        }

        // A tag deleted through one instance is gone from every instance's next list.
        using (var delete = await http.DeleteAsync($"{Base(1)}/v2/{repositories[0]}/manifests/v2"))
        {
            Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        }
        // A repository removed from the bucket behind Berth's back is gone from every instance's next catalog.
        await storage.DeleteAsync(Berth.Storage.Layout.StoragePaths.Repository(repositories[2]));
        for (var i = 0; i < instances.Count; i++)
        {
            Assert.Equal(["v1"], await TagsAsync(http, Base(i), repositories[0]));
            Assert.Equal(repositories[..2], (await CatalogAsync(http, Base(i))).Where(r => r.StartsWith("scale/catalog/", StringComparison.Ordinal)));
        }
    }

    private static async Task<bool> ExistsAsync(Berth.Storage.S3.S3Driver storage, string path)
    {
        try
        {
            await storage.StatAsync(path);
            return true;
        }
        catch (Berth.Storage.PathNotFoundException)
        {
            return false;
        }
    }

    private static async Task<string[]> CatalogAsync(HttpClient http, string baseUrl)
    {
        var all = new List<string>();
        string? url = $"{baseUrl}/v2/_catalog?n=2";
        while (url is not null)
        {
            using var response = await http.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync());
            all.AddRange(json.RootElement.GetProperty("repositories").EnumerateArray().Select(r => r.GetString()!));
            url = response.Headers.TryGetValues("Link", out var links) ? baseUrl + links.Single().Split('<', '>')[1] : null;
        }
        return [.. all];
    }

    private static async Task<string[]> TagsAsync(HttpClient http, string baseUrl, string repository)
    {
        using var response = await http.GetAsync($"{baseUrl}/v2/{repository}/tags/list");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync());
        return [.. json.RootElement.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!)];
    }

    /// <summary>A config blob and a one-byte "layer", each in one POST, and an OCI manifest naming them.</summary>
    private static async Task PushSmallImageAsync(HttpClient http, string baseUrl, string repository, string tag)
    {
        var config = System.Text.Encoding.ASCII.GetBytes("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}");
        var layer = System.Text.Encoding.ASCII.GetBytes(repository);
        foreach (var blob in new[] { config, layer })
        {
            using var content = new ByteArrayContent(blob);
            using var post = await http.PostAsync($"{baseUrl}/v2/{repository}/blobs/uploads/?digest=sha256:{Convert.ToHexStringLower(SHA256.HashData(blob))}", content);
            Assert.Equal(HttpStatusCode.Created, post.StatusCode);
        }
        var manifest = System.Text.Encoding.ASCII.GetBytes(
            "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"," +
            $"\"config\":{{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:{Convert.ToHexStringLower(SHA256.HashData(config))}\",\"size\":{config.Length}}}," +
            $"\"layers\":[{{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:{Convert.ToHexStringLower(SHA256.HashData(layer))}\",\"size\":{layer.Length}}}]}}");
        using var body = new ByteArrayContent(manifest);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/vnd.oci.image.manifest.v1+json");
        using var put = await http.PutAsync($"{baseUrl}/v2/{repository}/manifests/{tag}", body);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
    }
}
