using Berth.Core;
using Berth.Core.Gc;
using Berth.GarbageCollection.Tests.Support;
using Berth.Maintenance.GarbageCollection;
using Berth.Storage;
using Berth.Storage.InMemory;
using Berth.Storage.Layout;

namespace Berth.GarbageCollection.Tests;

/// <summary>The registry's side of the online protocol, and both orders of the collector/push race forced one at a time.</summary>
public sealed class GcProtocolTests
{
    private readonly ShiftedTimeProvider _time = new();
    private readonly InMemoryDriver _driver;
    private readonly CoreRegistry _registry;

    public GcProtocolTests()
    {
        _driver = new InMemoryDriver(_time);
        _registry = new CoreRegistry(_driver, _time);
    }

    private async Task<List<GcJournalEntry>> JournalAsync() =>
        [.. (await GcJournal.ReadSinceAsync(_driver, DateTimeOffset.MinValue, 4)).Entries];

    private async Task<bool> ExistsAsync(string path)
    {
        try
        {
            await _driver.StatAsync(path);
            return true;
        }
        catch (PathNotFoundException)
        {
            return false;
        }
    }

    private async Task<(Blob Manifest, Blob Layer)> StageImageAsync(string repository)
    {
        var layer = Blob.Random();
        var config = Manifests.Config(Guid.NewGuid().ToString());
        await _registry.EnsureBlobAsync(repository, layer);
        await _registry.EnsureBlobAsync(repository, config);
        return (Manifests.Image(config, [layer]), layer);
    }

    [Fact]
    public async Task ManifestPut_NamingATombstonedBlob_IsRefused_AfterItJournaled()
    {
        var (manifest, layer) = await StageImageAsync("app");
        await GcTombstones.WriteAsync(_driver, layer.Digest, "run");

        var e = await Assert.ThrowsAsync<RegistryException>(() => _registry.PutManifestAsync("app", "v1", manifest));
        Assert.Equal(RegistryErrorCode.ManifestBlobUnknown, e.Code);
        Assert.Contains("garbage-collected", System.Text.Json.JsonSerializer.Serialize(e.Detail));
        Assert.False(await ExistsAsync(StoragePaths.TagCurrentLink("app", "v1")));
        var entry = (await JournalAsync()).Single(j => j.Kind == GcJournalEntry.ManifestKind);
        Assert.Equal("app", entry.Repository);
        Assert.Equal(manifest.Digest, entry.Digests[0]);
        Assert.Contains(layer.Digest, entry.Digests);
    }

    [Fact]
    public async Task BlobHead_OfATombstonedBlob_IsUnknown()
    {
        var (_, layer) = await StageImageAsync("app");
        await GcTombstones.WriteAsync(_driver, layer.Digest, "run");
        var fresh = new CoreRegistry(_driver, _time);
        var e = await Assert.ThrowsAsync<RegistryException>(() => fresh.Blobs.StatAsync("app", layer.Digest));
        Assert.Equal(RegistryErrorCode.BlobUnknown, e.Code);
    }

    [Fact]
    public async Task Mount_OfATombstonedBlob_FallsBackToUpload()
    {
        var (_, layer) = await StageImageAsync("source");
        await GcTombstones.WriteAsync(_driver, layer.Digest, "run");
        Assert.Null(await _registry.Blobs.TryMountAsync("target", "source", layer.Digest));
        Assert.Contains(await JournalAsync(), j => j.Kind == GcJournalEntry.MountKind && j.Repository == "target");

        await GcTombstones.RemoveAsync(_driver, layer.Digest);
        Assert.NotNull(await _registry.Blobs.TryMountAsync("target", "source", layer.Digest));
    }

    [Fact]
    public async Task UploadOntoATombstonedBlob_WaitsForTheCollector_ThenPublishesItsOwnBytes()
    {
        var (_, layer) = await StageImageAsync("app");
        await GcTombstones.WriteAsync(_driver, layer.Digest, "run");
        var upload = _registry.Uploads.UploadAsync("other", layer.Digest, new MemoryStream(layer.Content));
        await Task.Delay(300);
        Assert.False(upload.IsCompleted);

        // The collector deletes the old data, then its tombstone.
        await _driver.DeleteAsync(StoragePaths.BlobDirectory(layer.Digest));
        await GcTombstones.RemoveAsync(_driver, layer.Digest);
        await upload;
        Assert.Equal(layer.Content, await _driver.GetContentAsync(StoragePaths.BlobData(layer.Digest)));
        Assert.True(await ExistsAsync(StoragePaths.LayerLink("other", layer.Digest)));
    }

    [Fact]
    public async Task UploadOntoATombstoneThatStays_Answers429_AndDropsTheSession()
    {
        var (_, layer) = await StageImageAsync("app");
        await GcTombstones.WriteAsync(_driver, layer.Digest, "run");
        var upload = _registry.Uploads.UploadAsync("other", layer.Digest, new MemoryStream(layer.Content));
        await Task.Delay(200);
        _time.Advance(GcProtocol.Timings.UploadWait + TimeSpan.FromSeconds(1));
        var e = await Assert.ThrowsAsync<RegistryException>(() => upload);
        Assert.Equal(RegistryErrorCode.TooManyRequests, e.Code);
        Assert.False(await ExistsAsync(StoragePaths.UploadsDirectory("other")));
        Assert.False(await ExistsAsync(StoragePaths.LayerLink("other", layer.Digest)));
    }

    /// <summary>The manifest's data and revision link start together, inside the window; the tag, which makes the
    /// manifest reachable by name, is checked again once they are durable, and refused when the window has passed.</summary>
    [Fact]
    public async Task ManifestPut_OutlivingTheWindow_RefusesItselfBeforeLinking()
    {
        var (manifest, _) = await StageImageAsync("app");
        var slow = new HookDriver(_driver)
        {
            Before = (op, path) =>
            {
                if (op == "put" && path == StoragePaths.BlobData(manifest.Digest))
                {
                    _time.Advance(GcProtocol.Timings.MaxWriteDuration + TimeSpan.FromSeconds(1));
                }
                return Task.CompletedTask;
            },
        };
        var registry = new CoreRegistry(slow, _time);
        var e = await Assert.ThrowsAsync<RegistryException>(() => registry.PutManifestAsync("app", "v1", manifest));
        Assert.Equal(RegistryErrorCode.TooManyRequests, e.Code);
        Assert.False(await ExistsAsync(StoragePaths.TagCurrentLink("app", "v1")));
        Assert.False(await ExistsAsync(StoragePaths.TagDirectory("app", "v1")));
    }

    /// <summary>The push journals before the collector's tombstones, so the collector's journal read sees it and keeps the blob.</summary>
    [Fact]
    public async Task PushBetweenMarkAndTombstones_IsAccepted_AndTheCollectorKeepsItsBlobs()
    {
        var (manifest, layer) = await StageImageAsync("app");
        _time.Advance(TimeSpan.FromHours(2));
        // Tombstones are written in parallel: hold them all until the push is done.
        var pushed = 0;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var collectorView = new HookDriver(_driver)
        {
            Before = async (op, path) =>
            {
                if (op == "put" && path.StartsWith(StoragePaths.GcTombstonesRoot, StringComparison.Ordinal))
                {
                    if (Interlocked.Exchange(ref pushed, 1) == 0)
                    {
                        try
                        {
                            await _registry.PutManifestAsync("app", "v1", manifest);
                        }
                        finally
                        {
                            gate.SetResult();
                        }
                    }
                    await gate.Task;
                }
            },
        };
        var report = await new GarbageCollector(collectorView, new GcOptions { DryRun = false, Grace = TimeSpan.Zero }, _time).RunAsync();
        Assert.Equal(1, pushed);
        Assert.Empty(report.Blobs);
        Assert.Equal(2, report.Summary.KeptByJournal);
        Assert.Null(await _registry.PullProblemAsync("app", "v1"));
        Assert.False(await ExistsAsync(StoragePaths.GcTombstonesRoot));
    }

    /// <summary>The push journals after the collector read the journal, so it sees the tombstone and is refused; the client uploads again.</summary>
    [Fact]
    public async Task PushWhileTheCollectorDeletes_IsRefused_AndTheRetryUploadsAgain()
    {
        var (manifest, layer) = await StageImageAsync("app");
        _time.Advance(TimeSpan.FromHours(2));
        RegistryException? refused = null;
        var collectorView = new HookDriver(_driver)
        {
            Before = async (op, path) =>
            {
                if (op == "delete" && path == StoragePaths.BlobDirectory(layer.Digest) && refused is null)
                {
                    refused = await Assert.ThrowsAsync<RegistryException>(() => _registry.PutManifestAsync("app", "v1", manifest));
                }
            },
        };
        var report = await new GarbageCollector(collectorView, new GcOptions { DryRun = false, Grace = TimeSpan.Zero }, _time).RunAsync();
        Assert.Equal(RegistryErrorCode.ManifestBlobUnknown, refused?.Code);
        Assert.Contains(layer.Digest, report.Blobs.Select(b => b.Digest));

        // The client's retry: HEAD says unknown, so it uploads again, then the manifest goes in.
        await _registry.PushImageAsync("app", "v1", Manifests.Config("again"), [layer]);
        Assert.Null(await _registry.PullProblemAsync("app", "v1"));
    }

    /// <summary>An index whose untagged child a collection is about to delete is refused, never left dangling.</summary>
    [Fact]
    public async Task IndexPushAfterItsChildWasTombstoned_IsRefused()
    {
        var child = await _registry.PushImageAsync("multi", null, Manifests.Config("amd64"), [Blob.Random()]);
        var index = Manifests.Index([child]);
        _time.Advance(TimeSpan.FromHours(2));
        Exception? outcome = null;
        var attempted = false;
        var collectorView = new HookDriver(_driver)
        {
            After = async (op, path) =>
            {
                if (op == "put" && path == StoragePaths.GcTombstone(child.Digest) && !attempted)
                {
                    attempted = true;
                    outcome = await Record.ExceptionAsync(() => _registry.PutManifestAsync("multi", "v1", index));
                }
            },
        };
        await new GarbageCollector(collectorView, new GcOptions { DryRun = false, DeleteUntagged = true, Grace = TimeSpan.Zero }, _time).RunAsync();
        Assert.True(attempted);
        Assert.Equal(RegistryErrorCode.ManifestBlobUnknown, Assert.IsType<RegistryException>(outcome).Code);
        Assert.False(await ExistsAsync(StoragePaths.TagCurrentLink("multi", "v1")));
    }
}
