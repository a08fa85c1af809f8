using Berth.GarbageCollection.Tests.Support;
using Berth.Storage;
using Berth.Storage.FileSystem;
using Berth.Storage.InMemory;
using Xunit.Abstractions;

namespace Berth.GarbageCollection.Tests;

/// <summary>Pushes that reuse blobs while collections run: every accepted tag stays fully pullable.</summary>
public abstract class ConcurrentGcTests(ITestOutputHelper output) : IDisposable
{
    protected abstract IStorageDriver CreateDriver();

    public virtual void Dispose() => GC.SuppressFinalize(this);

    [Fact]
    public async Task PushesReusingBlobs_WhileCollectionsDelete_EveryAcceptedTagIsPullable()
    {
        var storage = CreateDriver();
        var result = await new PushScenario(new JitterDriver(storage), new JitterDriver(storage), storage).RunAsync();
        output.WriteLine($"{storage.Name}: {result}");
        Assert.Empty(result.Problems);
        Assert.True(result.Accepted >= 100, "every push ends accepted");
        Assert.True(result.Collections > 1 && result.BlobsDeleted > 0 && result.ManifestsDeleted > 0,
            "the collections ran concurrently and deleted content the pushes kept reusing");
    }

    /// <summary>
    /// The same run against registries that ignore the protocol (as Distribution, or Berth before it, would) ends with
    /// broken tags: the test above has teeth.
    /// </summary>
    [Fact]
    public async Task WithoutTheProtocol_TheSameRunBreaksTags()
    {
        var problems = 0;
        for (var round = 0; round < 8 && problems == 0; round++)
        {
            var storage = CreateDriver();
            var result = await new PushScenario(new ProtocolBlindDriver(new JitterDriver(storage)), new JitterDriver(storage), storage).RunAsync();
            output.WriteLine($"round {round}: {result}");
            problems = result.Problems.Count;
        }
        Assert.True(problems > 0, "without the protocol some accepted tag should point at deleted content");
    }
}

public sealed class InMemoryConcurrentGcTests(ITestOutputHelper output) : ConcurrentGcTests(output)
{
    protected override IStorageDriver CreateDriver() => new InMemoryDriver();
}

public sealed class FileSystemConcurrentGcTests(ITestOutputHelper output) : ConcurrentGcTests(output)
{
    private readonly List<string> _roots = [];

    protected override IStorageDriver CreateDriver()
    {
        var root = Path.Combine(Path.GetTempPath(), "berth-gc-" + Guid.NewGuid().ToString("N"));
        _roots.Add(root);
        return new FileSystemDriver(root, syncToDisk: false);
    }

    public override void Dispose()
    {
        foreach (var root in _roots)
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (DirectoryNotFoundException)
            {
            }
        }
        base.Dispose();
    }
}
