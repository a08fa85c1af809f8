using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Berth.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Berth.EndToEnd.Tests;

/// <summary>
/// A real kill -9 of berth serve in the middle of a stream of skopeo pushes, several times over one
/// data directory. After each restart every push skopeo reported as done must pull with its digest,
/// the interrupted pushes must succeed when retried, and no tag in storage may lead to missing,
/// empty or wrong content. BERTH_E2E_SEED=&lt;n&gt; replays a run.
/// </summary>
public sealed class CrashSafetyTests(ITestOutputHelper output)
{
    private const int Rounds = 6;
    private static readonly TimeSpan KillPhaseBudget = TimeSpan.FromSeconds(35);

    private sealed record Pushed(string Repository, string Tag, string Digest, WrittenImage Source, OciLayoutWriter Layout, int Round);

    /// <summary>One push loop: its repository, its own source layout and random source.</summary>
    private sealed class Pusher(string repository, OciLayoutWriter layout, int seed)
    {
        public string Repository { get; } = repository;
        public OciLayoutWriter Layout { get; } = layout;
        public Random Random { get; } = new(seed);
        public (OciDescriptor Layer, string DiffId)? BaseLayer { get; set; }
        public List<(string Tag, WrittenImage Image)> Interrupted { get; } = [];
    }

    [Fact]
    public async Task KillDashNine_DuringPushes_NoTagEverPointsAtMissingContent()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("BERTH_E2E_SEED"), NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : Random.Shared.Next();
        Log($"seed {seed} (BERTH_E2E_SEED={seed} replays the same kill moments, give or take timing)");
        var random = new Random(seed);
        using var temp = new TempDirectory("crash");
        var data = temp.Sub("data");
        var skopeo = new Skopeo(output) { Timeout = TimeSpan.FromSeconds(30) };
        Pusher[] pushers =
        [
            new("crash/app", new OciLayoutWriter(temp.Sub("source-0"), seed + 1), seed + 1),
            new("crash/deep/nested/team/app", new OciLayoutWriter(temp.Sub("source-1"), seed + 2), seed + 2),
            new("crash/other", new OciLayoutWriter(temp.Sub("source-2"), seed + 3), seed + 3),
        ];
        var pushed = new ConcurrentQueue<Pushed>();
        var errors = new ConcurrentQueue<string>();
        var nextTag = -1;
        var watch = Stopwatch.StartNew();
        var kills = 0;

        var berth = await BerthProcess.StartAsync(data);
        try
        {
            for (var round = 0; round < Rounds && watch.Elapsed < KillPhaseBudget; round++)
            {
                var killAfter = random.Next(2, 5);
                var delay = TimeSpan.FromMilliseconds(random.Next(0, 150) + (100 * (round % 4)));
                var successes = 0;
                var killed = 0;
                var pushesDone = pushed.Count;
                var server = berth;
                var loops = pushers.Select(p => Task.Run(() => PushLoopAsync(p, server, round))).ToArray();

                // Let a few pushes succeed, wait a random moment more, then kill -9.
                var wait = Stopwatch.StartNew();
                while (Volatile.Read(ref successes) < killAfter && errors.IsEmpty && loops.Any(l => !l.IsCompleted))
                {
                    Assert.True(wait.Elapsed < TimeSpan.FromSeconds(20), $"round {round}: only {successes} pushes succeeded in 20 s");
                    await Task.Delay(5);
                }
                await Task.Delay(delay);
                Volatile.Write(ref killed, 1);
                berth.KillHard();
                kills++;
                Log($"round {round}: kill -9 {berth.Pid} at {watch.Elapsed.TotalSeconds:0.00} s, {delay.TotalMilliseconds:0} ms after push {killAfter} of the round succeeded ({Volatile.Read(ref successes)} succeeded by then)");
                await Task.WhenAll(loops);
                await berth.DisposeAsync();
                Assert.True(errors.IsEmpty, string.Join("\n\n", errors));

                berth = await BerthProcess.StartAsync(data);
                Log($"round {round}: restarted as pid {berth.Pid} on {berth.Address}");
                AssertStorageHealthy(data, pushed);
                await PullAsync(skopeo, berth, pushed.Skip(pushesDone), temp, $"round{round}");
                await AssertListedTagsResolveAsync(berth);
                await RetryInterruptedAsync(berth, round);
                AssertStorageHealthy(data, pushed);

                async Task PushLoopAsync(Pusher pusher, BerthProcess target, int r)
                {
                    while (Volatile.Read(ref killed) == 0)
                    {
                        var tag = $"t{Interlocked.Increment(ref nextTag)}";
                        var image = WriteImage(pusher);
                        pusher.Layout.Tag(image, tag);
                        var result = await skopeo.TryCopyAsync(pusher.Layout.Reference(tag), $"docker://{target.Address}/{pusher.Repository}:{tag}",
                            "--digestfile", temp.NewPath($"{tag}.digest"));
                        if (result.Succeeded)
                        {
                            var digest = (await File.ReadAllTextAsync(temp.NewPath($"{tag}.digest"))).Trim();
                            if (digest != image.Digest)
                            {
                                errors.Enqueue($"{pusher.Repository}:{tag}: skopeo pushed {digest}, the source is {image.Digest}");
                            }
                            pushed.Enqueue(new Pushed(pusher.Repository, tag, digest, image, pusher.Layout, r));
                            Interlocked.Increment(ref successes);
                        }
                        else if (Volatile.Read(ref killed) == 0)
                        {
                            errors.Enqueue($"a push failed before the kill:\n{result.Describe()}\nberth output:\n{target.RecentOutput}");
                            return;
                        }
                        else
                        {
                            pusher.Interrupted.Add((tag, image));
                            return;
                        }
                    }
                }
            }

            // Last: every push that ever succeeded still pulls, after all the kills.
            Log($"{pushed.Count} pushes succeeded over the rounds; final pull of all of them");
            await PullAsync(skopeo, berth, pushed, temp, "final");
            AssertStorageHealthy(data, pushed);
            Assert.True(kills >= 2, $"only {kills} kill rounds fitted in {KillPhaseBudget.TotalSeconds} s");
            Assert.Equal(0, await berth.StopAsync());
            Assert.True(berth.ErrorLines.Count == 0, "berth logged errors:\n" + string.Join("\n", berth.ErrorLines));
            Log($"done in {watch.Elapsed.TotalSeconds:0.0} s");
        }
        finally
        {
            await berth.DisposeAsync();
        }

        // A tag listed after the crash is one skopeo pushed, or one whose push the kill interrupted: that
        // one answers like a complete tag (the kill came after the tag was written) or 404 MANIFEST_UNKNOWN.
        async Task AssertListedTagsResolveAsync(BerthProcess server)
        {
            foreach (var pusher in pushers)
            {
                foreach (var tag in await skopeo.ListTagsAsync($"docker://{server.Address}/{pusher.Repository}"))
                {
                    if (pushed.Any(p => p.Repository == pusher.Repository && p.Tag == tag))
                    {
                        continue;
                    }
                    Assert.True(pusher.Interrupted.Any(i => i.Tag == tag), $"{pusher.Repository}:{tag} is listed, but was never pushed");
                    using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(server.BaseUri, $"v2/{pusher.Repository}/manifests/{tag}"));
                    request.Headers.TryAddWithoutValidation("Accept", Http.AcceptManifests);
                    using var response = await Http.Client.SendAsync(request);
                    var body = await response.Content.ReadAsStringAsync();
                    Log($"interrupted {pusher.Repository}:{tag} is listed; GET answers {(int)response.StatusCode} {body.Trim()}");
                    if (response.StatusCode == System.Net.HttpStatusCode.OK)
                    {
                        var image = pusher.Interrupted.Single(i => i.Tag == tag).Image;
                        Assert.Equal(image.Digest, response.Headers.GetValues("Docker-Content-Digest").Single());
                    }
                    else
                    {
                        Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
                        Assert.Contains("MANIFEST_UNKNOWN", body, StringComparison.Ordinal);
                    }
                }
            }
        }

        // Pushes interrupted by the kill: skopeo pushes them again into the restarted server.
        async Task RetryInterruptedAsync(BerthProcess server, int round)
        {
            foreach (var pusher in pushers)
            {
                foreach (var (tag, image) in pusher.Interrupted)
                {
                    var digest = await skopeo.CopyForDigestAsync(pusher.Layout.Reference(tag), $"docker://{server.Address}/{pusher.Repository}:{tag}", temp.NewPath($"{tag}.retry.digest"));
                    Assert.Equal(image.Digest, digest);
                    pushed.Enqueue(new Pushed(pusher.Repository, tag, digest, image, pusher.Layout, round));
                }
                pusher.Interrupted.Clear();
            }
        }
    }

    /// <summary>A distinct small image: a base layer shared by the loop's images and 2–3 own layers,
    /// now and then a larger one (so that some kills land in the middle of an upload).</summary>
    private static WrittenImage WriteImage(Pusher pusher)
    {
        var r = pusher.Random;
        pusher.BaseLayer ??= pusher.Layout.WriteRandomLayer(64_000);
        var sizes = new List<int> { r.Next(1_000, 200_000), r.Next(100, 20_000) };
        if (r.Next(4) == 0)
        {
            sizes.Add(r.Next(1_000_000, 3_000_000));
        }
        return pusher.Layout.WriteImage(sizes, pusher.BaseLayer.Value);
    }

    /// <summary>skopeo copy of each tag into its own OCI layout: the digest skopeo reported, the source's bytes.</summary>
    private static async Task PullAsync(Skopeo skopeo, BerthProcess berth, IEnumerable<Pushed> which, TempDirectory temp, string label)
    {
        var list = which.ToList();
        var tagsByRepository = list.GroupBy(p => p.Repository);
        using var gate = new SemaphoreSlim(2);
        await Task.WhenAll(list.Select(async p =>
        {
            await gate.WaitAsync();
            try
            {
                var destination = temp.NewPath($"pulled-{label}-{p.Tag}");
                await skopeo.CopyAsync($"docker://{berth.Address}/{p.Repository}:{p.Tag}", $"oci:{destination}:{p.Tag}");
                ImageAssert.SameImage(p.Layout.Directory, destination, p.Tag, p.Source);
                Assert.Equal(p.Digest, OciLayout.Find(destination, p.Tag)!.Digest);
            }
            finally
            {
                gate.Release();
            }
        }));
        foreach (var repository in tagsByRepository)
        {
            var listed = await skopeo.ListTagsAsync($"docker://{berth.Address}/{repository.Key}");
            foreach (var p in repository)
            {
                Assert.Contains(p.Tag, listed);
            }
        }
    }

    private void AssertStorageHealthy(string data, IEnumerable<Pushed> pushed)
    {
        var report = DistributionStorage.Check(data);
        Log("storage: " + report.Describe());
        Assert.True(report.Problems.Count == 0, report.Describe());
        foreach (var p in pushed)
        {
            Assert.Contains(new StoredTag(p.Repository, p.Tag, p.Digest), report.Tags);
        }
    }

    private void Log(string line)
    {
        try
        {
            output.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
        }
    }
}
