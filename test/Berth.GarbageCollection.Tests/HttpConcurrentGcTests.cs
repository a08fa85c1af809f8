using System.Net;
using System.Net.Http.Headers;
using Berth.Api;
using Berth.Core.Gc;
using Berth.Core.Manifests;
using Berth.GarbageCollection.Tests.Support;
using Berth.Maintenance.GarbageCollection;
using Berth.Storage;
using Berth.Storage.InMemory;
using Berth.Storage.Layout;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Berth.GarbageCollection.Tests;

/// <summary>The same race through the HTTP API of two registry instances (ASP.NET test host) sharing one storage.</summary>
public sealed class HttpConcurrentGcTests(ITestOutputHelper output)
{
    private static WebApplication Instance(IStorageDriver driver, GcTimings? timings)
    {
        var app = RegistryServer.Build(new ServerOptions { LogLevel = LogLevel.Warning, MetricsEnabled = false }, driver, b =>
        {
            b.WebHost.UseTestServer();
            if (timings is not null)
            {
                b.Services.AddSingleton(new GcFence(driver, null, timings));
            }
        });
        return app;
    }

    [Fact]
    public async Task HttpPushesReusingBlobs_WhileCollectionsDelete_EveryAcceptedTagIsPullable()
    {
        var storage = new InMemoryDriver();
        var timings = PushScenario.Timings;
        await using var a = Instance(new JitterDriver(storage), timings);
        await using var b = Instance(new JitterDriver(storage), timings);
        await a.StartAsync();
        await b.StartAsync();
        HttpClient[] clients = [a.GetTestClient(), b.GetTestClient()];

        var layers = Enumerable.Range(0, 8).Select(_ => Blob.Random(40)).ToArray();
        var configs = Enumerable.Range(0, 3).Select(i => Manifests.Config("http" + i)).ToArray();
        var accepted = new List<(string Repository, string Tag)>();
        var refused = 0;
        var running = 3;

        async Task PushAsync(int pusher)
        {
            var random = new Random(pusher);
            for (var i = 0; i < 25; i++)
            {
                var repository = pusher % 2 == 0 ? "http/a" : "http/b";
                var tag = $"t{pusher}-{i}";
                while (true)
                {
                    var client = clients[random.Next(clients.Length)];
                    var config = configs[random.Next(configs.Length)];
                    Blob[] image = [layers[random.Next(layers.Length)], layers[random.Next(layers.Length)]];
                    var ok = true;
                    foreach (var blob in image.Append(config))
                    {
                        using var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/{repository}/blobs/{blob.Digest}"));
                        if (head.StatusCode == HttpStatusCode.OK)
                        {
                            continue;
                        }
                        using var upload = await client.PostAsync($"/v2/{repository}/blobs/uploads/?digest={blob.Digest}", new ByteArrayContent(blob.Content));
                        ok &= upload.StatusCode == HttpStatusCode.Created;
                    }
                    if (ok)
                    {
                        var manifest = Manifests.Image(config, image);
                        var content = new ByteArrayContent(manifest.Content);
                        content.Headers.ContentType = new MediaTypeHeaderValue(MediaTypes.OciManifest);
                        using var put = await client.PutAsync($"/v2/{repository}/manifests/{tag}", content);
                        if (put.StatusCode == HttpStatusCode.Created)
                        {
                            lock (accepted)
                            {
                                accepted.Add((repository, tag));
                            }
                            break;
                        }
                        var body = await put.Content.ReadAsStringAsync();
                        Assert.True(body.Contains("MANIFEST_BLOB_UNKNOWN") || body.Contains("TOOMANYREQUESTS"), body);
                    }
                    Interlocked.Increment(ref refused);
                }
                if (random.Next(3) == 0)
                {
                    using var delete = await clients[0].DeleteAsync($"/v2/{repository}/manifests/{tag}");
                    lock (accepted)
                    {
                        accepted.Remove((repository, tag));
                    }
                }
            }
            Interlocked.Decrement(ref running);
        }

        var collections = 0;
        var deleted = 0;
        async Task CollectAsync()
        {
            while (Volatile.Read(ref running) > 1)
            {
                try
                {
                    var report = await new GarbageCollector(new JitterDriver(storage),
                        new GcOptions { DryRun = false, DeleteUntagged = true, Grace = TimeSpan.Zero, Timings = timings }).RunAsync();
                    collections++;
                    deleted += report.Blobs.Count;
                }
                catch (GcAbortedException)
                {
                    await Task.Delay(5); // nothing pushed yet
                }
            }
        }

        await Task.WhenAll(PushAsync(0), PushAsync(1), CollectAsync());
        output.WriteLine($"{accepted.Count} tags accepted, {refused} pushes retried, {collections} collections deleted {deleted} blobs");

        foreach (var (repository, tag) in accepted)
        {
            var client = clients[0];
            using var get = new HttpRequestMessage(HttpMethod.Get, $"/v2/{repository}/manifests/{tag}");
            get.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(MediaTypes.OciManifest));
            using var response = await client.SendAsync(get);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var manifest = ManifestParser.Parse(await response.Content.ReadAsByteArrayAsync());
            foreach (var blob in manifest.RequiredBlobs)
            {
                var bytes = await client.GetByteArrayAsync($"/v2/{repository}/blobs/{blob.Digest}");
                Assert.Equal(blob.Digest, Digest.Compute(bytes));
            }
        }
        Assert.True(collections > 0 && deleted > 0);
    }

    [Fact]
    public async Task ServedRegistry_UsesTheFence_TombstonedBlobIsUnknownAndRefused()
    {
        var storage = new InMemoryDriver();
        await using var app = Instance(storage, null);
        await app.StartAsync();
        var client = app.GetTestClient();
        var layer = Blob.Random();
        var config = Manifests.Config("served");
        foreach (var blob in new[] { layer, config })
        {
            using var upload = await client.PostAsync($"/v2/app/blobs/uploads/?digest={blob.Digest}", new ByteArrayContent(blob.Content));
            Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        }
        await GcTombstones.WriteAsync(storage, layer.Digest, "run");
        await Task.Delay(GcProtocol.Timings.TombstoneCacheTtl + TimeSpan.FromMilliseconds(100));

        using var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/app/blobs/{layer.Digest}"));
        Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
        var content = new ByteArrayContent(Manifests.Image(config, [layer]).Content);
        content.Headers.ContentType = new MediaTypeHeaderValue(MediaTypes.OciManifest);
        using var put = await client.PutAsync("/v2/app/manifests/v1", content);
        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        var body = await put.Content.ReadAsStringAsync();
        Assert.Contains("MANIFEST_BLOB_UNKNOWN", body);
        Assert.Contains("garbage-collected", body);
    }
}
