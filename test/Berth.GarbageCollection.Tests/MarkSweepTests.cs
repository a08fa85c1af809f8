using System.Text;
using Berth.Core.Gc;
using Berth.GarbageCollection.Tests.Support;
using Berth.Maintenance.GarbageCollection;
using Berth.Storage;
using Berth.Storage.InMemory;
using Berth.Storage.Layout;

namespace Berth.GarbageCollection.Tests;

/// <summary>What is marked and swept, on in-memory storage written through Berth's Core services (and broken on purpose).</summary>
public sealed class MarkSweepTests
{
    private readonly ShiftedTimeProvider _time = new();
    private readonly InMemoryDriver _driver;
    private readonly CoreRegistry _registry;

    public MarkSweepTests()
    {
        _driver = new InMemoryDriver(_time);
        _registry = new CoreRegistry(_driver, _time);
    }

    private Task<GcReport> GcAsync(bool delete = false, bool untagged = false, TimeSpan? grace = null, IStorageDriver? driver = null) =>
        new GarbageCollector(driver ?? _driver, new GcOptions { DryRun = !delete, DeleteUntagged = untagged, Grace = grace ?? TimeSpan.FromHours(1) }, _time).RunAsync();

    /// <summary>Past the grace period and the journal window of everything pushed so far.</summary>
    private void Later() => _time.Advance(TimeSpan.FromHours(2));

    private static HashSet<Digest> Deleted(GcReport report) => [.. report.Blobs.Select(b => b.Digest)];

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

    private async Task<List<string>> AllObjectsAsync()
    {
        var all = new List<string>();
        await foreach (var e in _driver.WalkAsync("/"))
        {
            all.Add(e.Path + " " + e.Size);
        }
        all.Sort(StringComparer.Ordinal);
        return all;
    }

    [Fact]
    public async Task UnreferencedBlob_IsDeletedWithItsLayerLink_TaggedImageStays()
    {
        var layer = Blob.Random();
        var config = Manifests.Config("a");
        await _registry.PushImageAsync("team/app", "v1", config, [layer]);
        var orphan = Blob.Random();
        await _registry.EnsureBlobAsync("team/app", orphan);
        Later();

        var dry = await GcAsync();
        Assert.Equal([orphan.Digest], Deleted(dry));
        Assert.Equal(orphan.Size, dry.Summary.BlobBytes);
        var link = Assert.Single(dry.Links);
        Assert.Equal(("layer", StoragePaths.LayerLink("team/app", orphan.Digest)), (link.Kind, link.Path));
        Assert.True(await ExistsAsync(StoragePaths.BlobData(orphan.Digest)));

        var real = await GcAsync(delete: true);
        Assert.Equal([orphan.Digest], Deleted(real));
        Assert.False(await ExistsAsync(StoragePaths.BlobData(orphan.Digest)));
        Assert.False(await ExistsAsync(StoragePaths.LayerLink("team/app", orphan.Digest)));
        Assert.Null(await _registry.PullProblemAsync("team/app", "v1"));
        Assert.False(real.HasErrors);
    }

    [Fact]
    public async Task DryRun_WritesNothing()
    {
        await _registry.PushImageAsync("a", "v1", Manifests.Config("1"), [Blob.Random()]);
        await _registry.PushImageAsync("a", "v1", Manifests.Config("2"), [Blob.Random()]);
        await _registry.EnsureBlobAsync("a", Blob.Random());
        Later();
        var before = await AllObjectsAsync();
        var report = await GcAsync(untagged: true);
        Assert.NotEmpty(report.Blobs);
        Assert.Equal(before, await AllObjectsAsync());
    }

    [Fact]
    public async Task RetaggedManifest_IsKept_UnlessDeleteUntagged()
    {
        var oldLayer = Blob.Random();
        var shared = Blob.Random();
        var oldConfig = Manifests.Config("old");
        var old = await _registry.PushImageAsync("app", "latest", oldConfig, [shared, oldLayer]);
        await _registry.PushImageAsync("app", "latest", Manifests.Config("new"), [shared, Blob.Random()]);
        Later();

        Assert.Empty((await GcAsync()).Blobs);

        var report = await GcAsync(untagged: true);
        Assert.Equal(new HashSet<Digest> { old.Digest, oldConfig.Digest, oldLayer.Digest }, Deleted(report));
        Assert.Equal(new GcManifest("app", old.Digest), Assert.Single(report.Manifests));
        Assert.Equal(
            ["layer", "layer", "revision", "tag-index"],
            report.Links.Select(l => l.Kind).Order(StringComparer.Ordinal));

        await GcAsync(delete: true, untagged: true);
        Assert.False(await ExistsAsync(StoragePaths.RevisionLink("app", old.Digest)));
        Assert.False(await ExistsAsync(StoragePaths.TagIndexLink("app", "latest", old.Digest)));
        Assert.True(await ExistsAsync(StoragePaths.BlobData(shared.Digest)));
        Assert.Null(await _registry.PullProblemAsync("app", "latest"));
    }

    [Fact]
    public async Task IndexChildren_AreKept_WithDeleteUntagged()
    {
        var amd = await _registry.PushImageAsync("multi", null, Manifests.Config("amd64"), [Blob.Random()]);
        var arm = await _registry.PushImageAsync("multi", null, Manifests.Config("arm64"), [Blob.Random()]);
        await _registry.PutManifestAsync("multi", "v1", Manifests.Index([amd, arm]));
        Later();

        var report = await GcAsync(untagged: true);
        Assert.Empty(report.Blobs);
        Assert.Empty(report.Manifests);

        await GcAsync(delete: true, untagged: true);
        Assert.Null(await _registry.PullProblemAsync("multi", "v1"));
    }

    [Fact]
    public async Task UntaggedIndex_GoesWithItsChildren()
    {
        var layer = Blob.Random();
        var config = Manifests.Config("amd64");
        var child = await _registry.PushImageAsync("multi", null, config, [layer]);
        var index = Manifests.Index([child]);
        await _registry.PutManifestAsync("multi", null, index);
        Later();

        var report = await GcAsync(untagged: true);
        Assert.Equal(new HashSet<Digest> { layer.Digest, config.Digest, child.Digest, index.Digest }, Deleted(report));
        Assert.Equal(2, report.Manifests.Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ReferrersOfReachableSubject_AreKept(bool writtenByOthers)
    {
        var subject = await _registry.PushImageAsync("app", "v1", Manifests.Config("s"), [Blob.Random()]);
        var signature = Blob.Random();
        var sigConfig = Manifests.Config("sig");
        await _registry.EnsureBlobAsync("app", signature);
        await _registry.EnsureBlobAsync("app", sigConfig);
        var referrer = Manifests.Image(sigConfig, [signature], subject, "application/vnd.example.sig");
        await _registry.PutManifestAsync("app", null, referrer);
        if (writtenByOthers)
        {
            await _driver.DeleteAsync(StoragePaths.Repository("app") + "/" + StoragePaths.ReferrersDirName);
        }
        Later();

        var report = await GcAsync(untagged: true);
        Assert.Empty(report.Blobs);

        // Once the subject is gone, the referrer is garbage too.
        await _registry.Manifests.DeleteAsync("app", new Berth.Core.Naming.Reference("v1", null));
        report = await GcAsync(untagged: true);
        Assert.Contains(referrer.Digest, Deleted(report));
        Assert.Contains(signature.Digest, Deleted(report));
        Assert.Contains(subject.Digest, Deleted(report));
        if (!writtenByOthers)
        {
            Assert.Contains(report.Links, l => l.Kind == "referrer" && l.Digest == referrer.Digest);
        }
    }

    [Fact]
    public async Task YoungBlobs_AreKeptByGrace()
    {
        await _registry.EnsureBlobAsync("app", Blob.Random());
        _time.Advance(TimeSpan.FromMinutes(30));
        var report = await GcAsync();
        Assert.Empty(report.Blobs);
        Assert.Equal(1, report.Summary.KeptByGrace);

        _time.Advance(TimeSpan.FromMinutes(31));
        Assert.Single((await GcAsync()).Blobs);
        Assert.Empty((await GcAsync(grace: TimeSpan.FromHours(2))).Blobs);
    }

    [Fact]
    public async Task YoungUntaggedManifest_IsKeptWithItsLayers()
    {
        var layer = Blob.Random();
        await _registry.PushImageAsync("app", null, Manifests.Config("c"), [layer]);
        _time.Advance(TimeSpan.FromMinutes(10));
        var report = await GcAsync(untagged: true);
        Assert.Empty(report.Blobs);
        Assert.Empty(report.Manifests);
    }

    [Fact]
    public async Task StaleUploadSessions_AreDeleted_RecentOnesKept()
    {
        var stale = await _registry.Uploads.StartAsync("app");
        await _registry.Uploads.AppendAsync("app", stale, new MemoryStream(new byte[100]), null);
        _time.Advance(TimeSpan.FromHours(25));
        var fresh = await _registry.Uploads.StartAsync("app");

        var report = await GcAsync(delete: true);
        var upload = Assert.Single(report.Uploads);
        Assert.Equal(stale, upload.Id);
        Assert.NotNull(upload.StartedAt);
        Assert.False(await ExistsAsync(StoragePaths.UploadDirectory("app", stale)));
        Assert.True(await ExistsAsync(StoragePaths.UploadStartedAt("app", fresh)));
    }

    [Theory]
    [InlineData("", "tag-link-empty")]
    [InlineData("sha256:nothex", "tag-link-invalid")]
    public async Task BrokenTagLink_KeepsEverythingTheRepositoryLinks(string content, string failureClass)
    {
        await _registry.PushImageAsync("broken", "good", Manifests.Config("g"), [Blob.Random()]);
        await _registry.PushImageAsync("broken", null, Manifests.Config("untagged"), [Blob.Random()]);
        await _registry.EnsureBlobAsync("broken", Blob.Random());
        await _driver.PutContentAsync(StoragePaths.TagCurrentLink("broken", "bad"), Encoding.ASCII.GetBytes(content));
        var elsewhere = Blob.Random();
        await _registry.EnsureBlobAsync("other", elsewhere);
        Later();

        var report = await GcAsync(delete: true, untagged: true);
        Assert.Equal([elsewhere.Digest], Deleted(report));
        Assert.Empty(report.Manifests);
        var finding = Assert.Single(report.Findings);
        Assert.Equal((failureClass, GcSeverity.Error, "broken", "bad"), (finding.Class, finding.Severity, finding.Repository, finding.Reference));
        Assert.True(report.HasErrors);
        Assert.Equal(1, report.Summary.RepositoriesKeptWhole);
    }

    [Fact]
    public async Task UnreadableTag_IsAFinding_NotAnAbort()
    {
        await _registry.PushImageAsync("flaky", "v1", Manifests.Config("f"), [Blob.Random()]);
        await _registry.EnsureBlobAsync("flaky", Blob.Random());
        var elsewhere = Blob.Random();
        await _registry.EnsureBlobAsync("other", elsewhere);
        Later();
        var faulty = new FaultyDriver(_driver, p => p == StoragePaths.TagCurrentLink("flaky", "v1"));

        var report = await GcAsync(untagged: true, driver: faulty);
        Assert.Equal([elsewhere.Digest], Deleted(report));
        Assert.Equal("storage-unreadable", Assert.Single(report.Findings).Class);
    }

    [Fact]
    public async Task UnparseableUntaggedManifest_KeepsTheRepository()
    {
        var junk = Blob.Text("this is not a manifest");
        await _driver.PutContentAsync(StoragePaths.BlobData(junk.Digest), junk.Content);
        await LinkFile.WriteAsync(_driver, StoragePaths.RevisionLink("app", junk.Digest), junk.Digest);
        var orphan = Blob.Random();
        await _registry.EnsureBlobAsync("app", orphan);
        Later();

        var report = await GcAsync(untagged: true);
        Assert.Empty(report.Blobs);
        var finding = Assert.Single(report.Findings);
        Assert.Equal(("manifest-unparseable", GcSeverity.Warning), (finding.Class, finding.Severity));
    }

    [Fact]
    public async Task TaggedManifestWithoutData_IsAnError_AndKeepsTheRepository()
    {
        var image = await _registry.PushImageAsync("app", "v1", Manifests.Config("c"), [Blob.Random()]);
        await _driver.DeleteAsync(StoragePaths.BlobDirectory(image.Digest));
        Later();

        var report = await GcAsync(untagged: true);
        Assert.Empty(report.Blobs);
        var finding = Assert.Single(report.Findings);
        Assert.Equal(("manifest-blob-missing", GcSeverity.Error), (finding.Class, finding.Severity));
    }

    [Fact]
    public async Task TagWithoutRevision_IsReported_AndItsContentKept()
    {
        var image = await _registry.PushImageAsync("app", "v1", Manifests.Config("c"), [Blob.Random()]);
        await _driver.DeleteAsync(StoragePaths.RevisionDirectory("app", image.Digest));
        Later();

        var report = await GcAsync(untagged: true);
        Assert.Empty(report.Blobs);
        Assert.Equal("tag-revision-missing", Assert.Single(report.Findings).Class);
    }

    [Fact]
    public async Task MissingLayerAndDanglingLink_AreReported()
    {
        var layer = Blob.Random();
        await _registry.PushImageAsync("app", "v1", Manifests.Config("c"), [layer]);
        await _driver.DeleteAsync(StoragePaths.BlobDirectory(layer.Digest));
        Later();

        var report = await GcAsync();
        Assert.Equal(
            [("layer-link-dangling", GcSeverity.Warning), ("layer-missing", GcSeverity.Error)],
            report.Findings.Select(f => (f.Class, f.Severity)));
    }

    [Fact]
    public async Task BlobLinkedOnlyInOneRepository_IsKept_WhenAnotherRepositoryReferencesIt()
    {
        var shared = Blob.Random();
        await _registry.EnsureBlobAsync("unused", shared);
        await _registry.PushImageAsync("used", "v1", Manifests.Config("c"), [shared]);
        Later();
        var report = await GcAsync(delete: true, untagged: true);
        Assert.Empty(report.Blobs);
        Assert.True(await ExistsAsync(StoragePaths.LayerLink("unused", shared.Digest)));
    }

    [Fact]
    public async Task Schema1Manifest_KeepsItsLayers()
    {
        var layer = Blob.Random();
        await _registry.EnsureBlobAsync("old", layer);
        var manifest = Blob.Text($"{{\"schemaVersion\":1,\"name\":\"old\",\"tag\":\"v1\",\"fsLayers\":[{{\"blobSum\":\"{layer.Digest}\"}}],\"history\":[]}}");
        await _driver.PutContentAsync(StoragePaths.BlobData(manifest.Digest), manifest.Content);
        await LinkFile.WriteAsync(_driver, StoragePaths.RevisionLink("old", manifest.Digest), manifest.Digest);
        await LinkFile.WriteAsync(_driver, StoragePaths.TagCurrentLink("old", "v1"), manifest.Digest);
        Later();

        var report = await GcAsync(untagged: true);
        Assert.Empty(report.Blobs);
        Assert.Empty(report.Findings);
    }

    [Fact]
    public async Task DigestsAnnouncedInTheJournal_AreKept_WithWhatTheyReference()
    {
        var layer = Blob.Random();
        var config = Manifests.Config("c");
        var untagged = await _registry.PushImageAsync("app", null, config, [layer]);
        var orphan = Blob.Random();
        await _registry.EnsureBlobAsync("app", orphan);
        Later();
        Assert.Equal(4, (await GcAsync(untagged: true)).Blobs.Count);

        // An index PUT in progress names the untagged manifest; an upload names the orphan.
        await GcJournal.AppendAsync(_driver, _time.GetUtcNow(), new GcJournalEntry("app", GcJournalEntry.ManifestKind, [untagged.Digest]));
        await GcJournal.AppendAsync(_driver, _time.GetUtcNow() - TimeSpan.FromMinutes(4), new GcJournalEntry("app", GcJournalEntry.UploadKind, [orphan.Digest]));
        var report = await GcAsync(delete: true, untagged: true);
        Assert.Empty(report.Blobs);
        Assert.Empty(report.Manifests);
        Assert.Equal(4, report.Summary.KeptByJournal);
        Assert.False(await ExistsAsync(StoragePaths.GcTombstonesRoot));

        // Older than the journal window: no longer protected; the real run pruned the old hours.
        _time.Advance(TimeSpan.FromHours(2));
        Assert.Equal(4, (await GcAsync(delete: true, untagged: true)).Blobs.Count);
        Assert.False(await ExistsAsync(StoragePaths.GcJournalRoot));
    }

    [Fact]
    public async Task UnparseableJournalEntry_KeepsEverything()
    {
        await _registry.EnsureBlobAsync("app", Blob.Random());
        Later();
        var now = _time.GetUtcNow();
        await _driver.PutContentAsync(StoragePaths.GcJournalEntry(GcJournal.Bucket(now), GcJournal.NewId(now)), "{broken"u8.ToArray());

        var report = await GcAsync(delete: true);
        Assert.Empty(report.Blobs);
        Assert.Equal("gc-journal-unreadable", Assert.Single(report.Findings).Class);
        Assert.True(report.HasErrors);
    }

    [Fact]
    public async Task RealRun_LeavesNoTombstonesNorRunRecord()
    {
        await _registry.EnsureBlobAsync("app", Blob.Random());
        await _registry.PushImageAsync("app", "v1", Manifests.Config("1"), [Blob.Random()]);
        await _registry.PushImageAsync("app", "v1", Manifests.Config("2"), [Blob.Random()]);
        Later();
        var report = await GcAsync(delete: true, untagged: true);
        Assert.Equal(4, report.Blobs.Count);
        Assert.False(await ExistsAsync(StoragePaths.GcTombstonesRoot));
        Assert.False(await ExistsAsync(StoragePaths.GcRunsRoot));
    }

    [Fact]
    public async Task TombstonesOfAnInterruptedRun_AreRemovedByTheNext()
    {
        var layer = Blob.Random();
        var config = Manifests.Config("x");
        await _registry.EnsureBlobAsync("app", layer);
        await _registry.EnsureBlobAsync("app", config);
        var manifest = Manifests.Image(config, [layer]);
        await GcTombstones.WriteAsync(_driver, layer.Digest, "dead-run");
        var refused = await Assert.ThrowsAsync<Berth.Core.RegistryException>(() => _registry.PutManifestAsync("app", "v1", manifest));
        Assert.Equal(Berth.Core.RegistryErrorCode.ManifestBlobUnknown, refused.Code);

        var report = await GcAsync(delete: true);
        Assert.Equal("gc-interrupted", Assert.Single(report.Findings).Class);
        Assert.False(report.HasErrors);
        await _registry.PutManifestAsync("app", "v1", manifest);
        Assert.Null(await _registry.PullProblemAsync("app", "v1"));
    }

    [Fact]
    public async Task SecondDeletingCollection_BacksOff_UntilTheFirstRecordGoesStale()
    {
        await _registry.EnsureBlobAsync("app", Blob.Random());
        Later();
        await _driver.PutContentAsync(StoragePaths.GcRun("other-run"), "{}"u8.ToArray());

        var e = await Assert.ThrowsAsync<GcAbortedException>(() => GcAsync(delete: true));
        Assert.Contains("another collection", e.Message);
        Assert.Single((await GcAsync()).Blobs);

        _time.Advance(TimeSpan.FromMinutes(6));
        Assert.Single((await GcAsync(delete: true)).Blobs);
    }

    [Fact]
    public async Task EmptyStorage_CannotRun()
    {
        await Assert.ThrowsAsync<GcAbortedException>(() => GcAsync());
    }
}

/// <summary>The listing scan (local filesystems) and the walking scan (object stores) see the same storage alike.</summary>
public sealed class ScanStrategyTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("berth-gc-scan-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task ListingAndWalking_GiveTheSameReport()
    {
        var past = new ShiftedTimeProvider();
        past.Advance(TimeSpan.FromHours(-2));
        var fs = new Berth.Storage.FileSystem.FileSystemDriver(_root, syncToDisk: false);
        var registry = new CoreRegistry(fs, past);
        var shared = Blob.Random();
        var old = await registry.PushImageAsync("g/sub/app", "v1", Manifests.Config("old"), [shared, Blob.Random()]);
        await registry.PushImageAsync("g/sub/app", "v1", Manifests.Config("new"), [shared, Blob.Random()]);
        var amd = await registry.PushImageAsync("g/multi", null, Manifests.Config("amd"), [Blob.Random()]);
        await registry.PutManifestAsync("g/multi", "1", Manifests.Index([amd]));
        var sigConfig = Manifests.Config("sig");
        var sig = Blob.Random();
        await registry.EnsureBlobAsync("g/sub/app", sigConfig);
        await registry.EnsureBlobAsync("g/sub/app", sig);
        await registry.PutManifestAsync("g/sub/app", null, Manifests.Image(sigConfig, [sig], old));
        await registry.EnsureBlobAsync("top", Blob.Random());
        var upload = await registry.Uploads.StartAsync("top");
        await registry.Uploads.AppendAsync("top", upload, new MemoryStream(new byte[10]), null);
        await fs.PutContentAsync(StoragePaths.TagCurrentLink("broken", "x"), "nonsense"u8.ToArray());
        await fs.PutContentAsync(StoragePaths.RevisionDirectory("g/sub/app", Blob.Random().Digest) + "/leftover", Array.Empty<byte>());
        // Distribution's DELETEs remove link files and leave their directories.
        var deleted = await registry.PushImageAsync("g/sub/app", "gone", Manifests.Config("gone"), [Blob.Random()]);
        await fs.DeleteAsync(StoragePaths.TagDirectory("g/sub/app", "gone"));
        await fs.DeleteAsync(StoragePaths.RevisionLink("g/sub/app", deleted.Digest));
        var unlinked = Blob.Random();
        await registry.EnsureBlobAsync("top", unlinked);
        await fs.DeleteAsync(StoragePaths.LayerLink("top", unlinked.Digest));
        var vanished = Blob.Random();
        await registry.EnsureBlobAsync("top", vanished);
        await fs.DeleteAsync(StoragePaths.LayerLink("top", vanished.Digest));
        await fs.DeleteAsync(StoragePaths.BlobDirectory(vanished.Digest));

        foreach (var untagged in new[] { false, true })
        {
            var options = new GcOptions { DeleteUntagged = untagged, Grace = TimeSpan.Zero, UploadAge = TimeSpan.Zero };
            var listing = await new GarbageCollector(fs, options).RunAsync();
            var walking = await new GarbageCollector(new DelegatingDriver(fs), options).RunAsync();
            var walkingLocal = await new GarbageCollector(fs, options with { ListDirectories = false }).RunAsync();
            Assert.Equal(walking.Blobs, walkingLocal.Blobs);
            Assert.Equal(walking.Blobs, listing.Blobs);
            Assert.Equal(walking.Manifests, listing.Manifests);
            Assert.Equal(walking.Links.Select(l => (l.Kind, l.Path)), listing.Links.Select(l => (l.Kind, l.Path)));
            Assert.Equal(walking.Uploads.Select(u => (u.Repository, u.Id)), listing.Uploads.Select(u => (u.Repository, u.Id)));
            Assert.Equal(walking.Findings, listing.Findings);
            Assert.Contains(deleted.Digest, listing.Blobs.Select(b => b.Digest));
            Assert.Contains(unlinked.Digest, listing.Blobs.Select(b => b.Digest));
            Assert.DoesNotContain(listing.Links, l => l.Digest == unlinked.Digest);
            Assert.Single(listing.Uploads);
            Assert.Equal("tag-link-invalid", Assert.Single(listing.Findings).Class);
        }
    }
}
