using Berth.Core;
using Berth.Core.Gc;
using Berth.Maintenance.GarbageCollection;
using Berth.Storage;

namespace Berth.GarbageCollection.Tests.Support;

/// <summary>What a concurrent run produced.</summary>
public sealed record ScenarioResult(int Accepted, int Refused, int Collections, int BlobsDeleted, int ManifestsDeleted, IReadOnlyList<string> Problems)
{
    public override string ToString() =>
        $"{Accepted} tags accepted, {Refused} pushes refused and retried, {Collections} collections deleted {BlobsDeleted} blobs and {ManifestsDeleted} manifests; "
        + $"{Problems.Count} tags not pullable{(Problems.Count > 0 ? ", e.g. " + Problems[0] : "")}";
}

/// <summary>
/// Clients push images and indexes that reuse a small pool of blobs (found by HEAD, mounted or uploaded
/// again) into a few repositories through several registry instances, while tags are deleted and
/// collections with --delete-untagged and no grace period run back to back. At the end every tag that
/// was accepted and not deleted is pulled completely.
/// </summary>
public sealed class PushScenario(IStorageDriver registryStorage, IStorageDriver collectorStorage, IStorageDriver checkStorage)
{
    public int Pushers { get; init; } = 4;
    public int PushesPerPusher { get; init; } = 30;
    public int Instances { get; init; } = 2;

    /// <summary>Short limits on both sides, so that the journal window covers only the last moments of the run and the
    /// collections really delete what earlier pushes left behind while later pushes reuse it.</summary>
    public static GcTimings Timings { get; } = new()
    {
        MaxWriteDuration = TimeSpan.FromMilliseconds(150),
        ClockSkewAllowance = TimeSpan.FromMilliseconds(100),
        UploadWait = TimeSpan.FromSeconds(2),
        TombstoneCacheTtl = TimeSpan.FromMilliseconds(50),
    };

    public async Task<ScenarioResult> RunAsync()
    {
        var repositories = new[] { "team/a", "team/b", "c" };
        var layers = Enumerable.Range(0, 10).Select(_ => Blob.Random(48)).ToArray();
        var configs = Enumerable.Range(0, 4).Select(i => Manifests.Config("pool" + i)).ToArray();
        var instances = Enumerable.Range(0, Instances).Select(_ => new CoreRegistry(registryStorage, timings: Timings)).ToArray();
        var accepted = new List<(string Repository, string Tag)>();
        var deleted = new HashSet<(string, string)>();
        var refused = 0;
        var pushersDone = 0;

        async Task PushAsync(int pusher)
        {
            var random = new Random(pusher * 7919 + Environment.TickCount);
            for (var i = 0; i < PushesPerPusher; i++)
            {
                var repository = repositories[random.Next(repositories.Length)];
                var tag = $"p{pusher}-{i}";
                for (var attempt = 0; ; attempt++)
                {
                    var registry = instances[random.Next(instances.Length)];
                    string? mountFrom = random.Next(3) == 0 ? repositories[random.Next(repositories.Length)] : null;
                    try
                    {
                        if (random.Next(4) == 0)
                        {
                            var children = new List<Blob>();
                            for (var c = 0; c < 2; c++)
                            {
                                children.Add(await registry.PushImageAsync(repository, null, configs[random.Next(configs.Length)],
                                    [layers[random.Next(layers.Length)], layers[random.Next(layers.Length)]], mountFrom));
                            }
                            await registry.PutManifestAsync(repository, tag, Manifests.Index(children));
                        }
                        else
                        {
                            await registry.PushImageAsync(repository, tag, configs[random.Next(configs.Length)],
                                [layers[random.Next(layers.Length)], layers[random.Next(layers.Length)]], mountFrom);
                        }
                        lock (accepted)
                        {
                            accepted.Add((repository, tag));
                        }
                        break;
                    }
                    catch (RegistryException e) when (e.Code is RegistryErrorCode.ManifestBlobUnknown or RegistryErrorCode.TooManyRequests or RegistryErrorCode.BlobUnknown && attempt < 100)
                    {
                        Interlocked.Increment(ref refused);
                    }
                }
            }
        }

        async Task DeleteTagsAsync()
        {
            var random = new Random(42);
            var deleter = new CoreRegistry(registryStorage);
            while (Volatile.Read(ref pushersDone) < Pushers)
            {
                await Task.Delay(random.Next(1, 5));
                (string Repository, string Tag) victim;
                lock (accepted)
                {
                    if (accepted.Count == 0 || random.Next(3) != 0)
                    {
                        continue;
                    }
                    victim = accepted[random.Next(accepted.Count)];
                    if (!deleted.Add(victim))
                    {
                        continue;
                    }
                }
                await deleter.Manifests.DeleteAsync(victim.Repository, new Core.Naming.Reference(victim.Tag, null));
            }
        }

        var collections = 0;
        var blobsDeleted = 0;
        var manifestsDeleted = 0;
        async Task CollectAsync(int seed)
        {
            var random = new Random(seed);
            while (Volatile.Read(ref pushersDone) < Pushers)
            {
                var options = new GcOptions { DryRun = false, DeleteUntagged = random.Next(4) != 0, Grace = TimeSpan.Zero, Concurrency = 8, Timings = Timings };
                try
                {
                    var report = await new GarbageCollector(collectorStorage, options).RunAsync();
                    Interlocked.Increment(ref collections);
                    Interlocked.Add(ref blobsDeleted, report.Blobs.Count);
                    Interlocked.Add(ref manifestsDeleted, report.Manifests.Count);
                }
                catch (GcAbortedException)
                {
                    // The other collector is running: the run lock at work.
                    await Task.Delay(1);
                }
            }
        }

        var pushers = Enumerable.Range(0, Pushers).Select(async p =>
        {
            try
            {
                await PushAsync(p);
            }
            finally
            {
                Interlocked.Increment(ref pushersDone);
            }
        }).ToList();
        await Task.WhenAll([.. pushers, DeleteTagsAsync(), CollectAsync(1), CollectAsync(2)]);
        var last = await new GarbageCollector(collectorStorage, new GcOptions { DryRun = false, DeleteUntagged = true, Grace = TimeSpan.Zero, Timings = Timings }).RunAsync();
        blobsDeleted += last.Blobs.Count;

        var checker = new CoreRegistry(checkStorage);
        var problems = new List<string>();
        foreach (var (repository, tag) in accepted.Where(a => !deleted.Contains(a)))
        {
            if (await checker.PullProblemAsync(repository, tag) is { } problem)
            {
                problems.Add(problem);
            }
        }
        return new ScenarioResult(accepted.Count, refused, collections + 1, blobsDeleted, manifestsDeleted, problems);
    }
}
