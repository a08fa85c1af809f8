using Xunit.Abstractions;

namespace Berth.ScaleOut.Tests;

/// <summary>One of three instances is killed with SIGKILL while images are being pushed through HAProxy. HAProxy
/// takes it out (health checks on /readyz) and sends new connections elsewhere (redispatch, retries); the requests
/// it was serving fail and the clients retry. Afterwards every pushed tag pulls, and no tag in the bucket points at
/// missing content.</summary>
public sealed class KillDuringPushTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int MiB = 1024 * 1024;
    private const int Images = 6;
    private const int Attempts = 4;
    private readonly string _work = Path.Combine(Path.GetTempPath(), "berth-scaleout-kill-" + Guid.NewGuid().ToString("N"));
    private ScaleOutCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_work);
        _cluster = await ScaleOutCluster.StartAsync("kill-during-push", 3);
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        output.WriteLine($"HAProxy log: {_cluster.HaproxyLogPath}");
        Directory.Delete(_work, recursive: true);
    }

    [Fact]
    public async Task KillOneInstanceDuringPushes_ClientsRetry_AndEveryTagIsWhole()
    {
        var images = Enumerable.Range(0, Images)
            .Select(i => OciLayout.Create(Path.Combine(_work, $"image{i}"), $"t{i}", [5 * MiB + (i * 4099), 3 * MiB, 2 * MiB + 5], seed: 100 + i))
            .ToList();
        var victim = _cluster.Instances[1];

        var pushes = images.Select(PushWithRetriesAsync).ToList();
        // Kill once uploads are under way on every instance: a few blob PATCHes have completed.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (_cluster.ReadHaproxyLog().Count(l => l.Method == "PATCH") < 3 && DateTime.UtcNow < deadline && !pushes.All(p => p.IsCompleted))
        {
            await Task.Delay(20);
        }
        var before = _cluster.ReadHaproxyLog().Count;
        _cluster.Kill(victim);
        output.WriteLine($"killed {victim.ServerName} (pid {victim.Process.Id}) after {before} requests");
        var results = await Task.WhenAll(pushes);

        foreach (var (attempts, result) in results)
        {
            output.WriteLine($"push took {attempts} attempt(s), last {result.Elapsed.TotalSeconds:F1} s");
            Assert.True(result.Succeeded, result.Output);
        }
        Assert.True(pushes.All(p => p.IsCompletedSuccessfully));
        var log = _cluster.ReadHaproxyLog();
        Assert.Contains(log.Take(before), l => l.Server == victim.ServerName);
        output.WriteLine($"{log.Count} requests; {log.Count(l => l.Status >= 500 || l.Status < 0)} failed at HAProxy; "
            + $"{log.Count(l => l.Retries > 0)} retried; after the kill {victim.ServerName} served {log.Skip(before).Count(l => l.Server == victim.ServerName && l.Status is > 0 and < 500)}");

        // Every tag reported pushed pulls whole through HAProxy (skopeo checks each blob's digest).
        foreach (var image in images)
        {
            var back = Path.Combine(_work, "pulled-" + image.Tag);
            var pull = await Skopeo.PullAsync(_cluster.Registry, "group/sub/killed", image.Tag, back);
            Assert.True(pull.Succeeded, pull.Output);
            Assert.Equal(image.ManifestDigest, OciLayout.ManifestDigestOf(back, image.Tag));
        }

        // No tag in the bucket points at missing content.
        using var driver = _cluster.CreateDriver();
        var report = await StorageConsistency.CheckAsync(driver);
        Assert.Empty(report.Problems);
        Assert.Equal(
            images.Select(i => ($"group/sub/killed:{i.Tag}", i.ManifestDigest)).Order(),
            report.Tags.Select(kv => (kv.Key, kv.Value)).Order());
    }

    /// <summary>skopeo copy (with its own --retry-times), run again when it still fails: a request cut by the kill
    /// is answered 502 by HAProxy, which skopeo 1.9 does not retry itself. Blobs already stored are skipped on the
    /// next attempt.</summary>
    private async Task<(int Attempts, Skopeo.Result Result)> PushWithRetriesAsync(OciLayout image)
    {
        Skopeo.Result result = null!;
        for (var attempt = 1; attempt <= Attempts; attempt++)
        {
            result = await Skopeo.PushAsync(image, _cluster.Registry, "group/sub/killed");
            if (result.Succeeded)
            {
                return (attempt, result);
            }
            output.WriteLine($"{image.Tag}: attempt {attempt} failed: {result.Output.Split('\n').LastOrDefault(l => l.Length > 0)}");
            await Task.Delay(500);
        }
        return (Attempts, result);
    }
}
