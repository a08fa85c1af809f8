using Berth.Core.Instances;
using Berth.Maintenance.Doctor;
using Berth.Maintenance.Doctor.Repair;
using Berth.Maintenance.Tests.Support;
using Berth.Storage.InMemory;
using Berth.Storage.Layout;
using DoctorApi = Berth.Maintenance.Doctor.Doctor;

namespace Berth.Maintenance.Tests.Doctor;

public sealed class RepairTests
{
    private const string Repo = "group/app";
    private readonly TestRegistry _registry = new(new InMemoryDriver());
    private static readonly RepairOptions Execute = new() { DryRun = false };

    private async Task<(TestRegistry.Image Healthy, TestRegistry.Image Broken)> BrokenTagAndHealthyTagAsync()
    {
        var shared = _registry.NewLayer();
        var healthy = await _registry.PushImageAsync(Repo, "good", [shared]);
        var broken = await _registry.PushImageAsync(Repo, "bad", [shared, _registry.NewLayer()]);
        await _registry.Driver.DeleteAsync(StoragePaths.LayerLink(Repo, broken.Layers[1]));
        await _registry.Driver.DeleteAsync(StoragePaths.BlobData(broken.Layers[1]));
        await _registry.PutBlobAsync(new byte[10]); // unreferenced: left for GC
        return (healthy, broken);
    }

    [Fact]
    public async Task DryRun_PlansAndChangesNothing()
    {
        await BrokenTagAndHealthyTagAsync();
        var before = await _registry.SnapshotAsync();
        var report = await DoctorApi.ScanAsync(_registry.Driver);

        var result = await DoctorApi.RepairAsync(_registry.Driver, report, new RepairOptions());

        Assert.True(result.DryRun);
        Assert.Equal(1, result.UnresolvedErrors);
        var planned = Assert.Single(result.Outcomes);
        Assert.Equal(RepairStatus.Planned, planned.Status);
        Assert.Equal(RepairAction.QuarantineTag, planned.Item.Action);
        Assert.Equal(StoragePaths.TagDirectory(Repo, "bad"), planned.Item.Root);
        Assert.Equal(before, await _registry.SnapshotAsync());
    }

    [Fact]
    public async Task Repair_QuarantinesBrokenTag_KeepsSharedBlobs_SecondScanHealthy_RestoreIsExact()
    {
        var (healthy, _) = await BrokenTagAndHealthyTagAsync();
        var before = await _registry.SnapshotAsync(StoragePaths.RepositoriesRoot);
        var blobsBefore = await _registry.SnapshotAsync(StoragePaths.BlobsRoot);
        var report = await DoctorApi.ScanAsync(_registry.Driver);

        var result = await DoctorApi.RepairAsync(_registry.Driver, report, Execute);

        var outcome = Assert.Single(result.Outcomes);
        Assert.Equal(RepairStatus.Quarantined, outcome.Status);
        Assert.NotNull(outcome.QuarantineId);
        Assert.Equal(0, result.UnresolvedErrors);
        Assert.Equal(outcome.QuarantineId, result.Report.Findings.Single(f => f.Class == FindingClass.LayerMissing).QuarantineId);
        Assert.Equal(blobsBefore, await _registry.SnapshotAsync(StoragePaths.BlobsRoot)); // no blob data moved
        var after = await DoctorApi.ScanAsync(_registry.Driver);
        Assert.DoesNotContain(after.Findings, f => f.Severity >= FindingSeverity.Warning);
        Assert.Equal(1, after.Summary.TagsScanned);
        Assert.Equal(healthy.Manifest, (await LinkFile.ReadAsync(_registry.Driver, StoragePaths.TagCurrentLink(Repo, "good"))).Digest);

        var journal = Assert.Single(await DoctorApi.ListQuarantineAsync(_registry.Driver));
        Assert.Equal(outcome.QuarantineId, journal.Id);
        Assert.Equal("layer-missing", journal.Class);
        Assert.Equal(Repo, journal.Repository);
        Assert.Equal("bad", journal.Tag);
        Assert.Equal(QuarantineJournal.StateQuarantined, journal.State);
        Assert.Contains(journal.Objects, o => o.Path == StoragePaths.TagCurrentLink(Repo, "bad") && o.Size == 71 && o.Removed);

        await DoctorApi.RestoreAsync(_registry.Driver, journal.Id);

        Assert.Equal(before, await _registry.SnapshotAsync(StoragePaths.RepositoriesRoot));
        Assert.Empty(await DoctorApi.ListQuarantineAsync(_registry.Driver));
    }

    [Fact]
    public async Task Repair_IsIdempotent()
    {
        await BrokenTagAndHealthyTagAsync();
        await DoctorApi.RepairAsync(_registry.Driver, await DoctorApi.ScanAsync(_registry.Driver), Execute);
        var afterFirst = await _registry.SnapshotAsync();

        var second = await DoctorApi.RepairAsync(_registry.Driver, await DoctorApi.ScanAsync(_registry.Driver), Execute);

        Assert.Empty(second.Outcomes);
        Assert.Equal(afterFirst, await _registry.SnapshotAsync());
    }

    [Fact]
    public async Task Repair_SkipsTagRepushedAfterTheScan()
    {
        await BrokenTagAndHealthyTagAsync();
        var report = await DoctorApi.ScanAsync(_registry.Driver);
        await _registry.PushImageAsync(Repo, "bad"); // the CI job ran again

        var result = await DoctorApi.RepairAsync(_registry.Driver, report, Execute);

        var outcome = Assert.Single(result.Outcomes);
        Assert.Equal(RepairStatus.Skipped, outcome.Status);
        Assert.Contains("healthy now", outcome.Message);
        Assert.Equal(0, result.UnresolvedErrors);
        Assert.Empty(await DoctorApi.ListQuarantineAsync(_registry.Driver));
    }

    [Fact]
    public async Task Repair_MovesDanglingLinksAndStaleUploads()
    {
        var time = new ManualTimeProvider(DateTimeOffset.Parse("2026-12-04T12:00:00Z"));
        await _registry.PushImageAsync(Repo, "v1");
        var gone = Digest.Compute("collected"u8);
        await _registry.LinkLayerAsync(Repo, gone);
        await _registry.LinkRevisionAsync(Repo, gone);
        await _registry.StartUploadAsync(Repo, "u1", time.GetUtcNow().AddDays(-3));
        var before = await _registry.SnapshotAsync();
        var report = await DoctorApi.ScanAsync(_registry.Driver, null, new DoctorOptions { TimeProvider = time });
        Assert.Equal(3, report.Findings.Count);

        var result = await DoctorApi.RepairAsync(_registry.Driver, report, Execute with { TimeProvider = time });

        Assert.Equal(3, result.Outcomes.Count(o => o.Status == RepairStatus.Quarantined));
        Assert.Empty((await DoctorApi.ScanAsync(_registry.Driver, null, new DoctorOptions { TimeProvider = time })).Findings);
        foreach (var item in await DoctorApi.ListQuarantineAsync(_registry.Driver))
        {
            await DoctorApi.RestoreAsync(_registry.Driver, item.Id);
        }
        Assert.Equal(before, await _registry.SnapshotAsync());
    }

    [Fact]
    public async Task Repair_CorruptBlob_MovesDataAndLinks_TagToo_ThenCleanScan()
    {
        var shared = _registry.NewLayer();
        await _registry.PushImageAsync(Repo, "good", [shared]);
        var bad = await _registry.PushImageAsync(Repo, "bad", [shared, _registry.NewLayer()]);
        var path = StoragePaths.BlobData(bad.Layers[1]);
        var bytes = await _registry.Driver.GetContentAsync(path);
        await _registry.PushImageAsync("other", "uses-it", [bytes]); // the same layer in a second repository
        bytes[^1] ^= 1;
        await _registry.Driver.PutContentAsync(path, bytes);
        var sharedBefore = await _registry.Driver.GetContentAsync(StoragePaths.BlobData(Digest.Compute(shared)));
        var before = await _registry.SnapshotAsync();
        var report = await DoctorApi.ScanAsync(_registry.Driver, null, new DoctorOptions { VerifyContent = true });

        var result = await DoctorApi.RepairAsync(_registry.Driver, report, Execute);

        Assert.Equal(3, result.Outcomes.Count);
        Assert.All(result.Outcomes, o => Assert.Equal(RepairStatus.Quarantined, o.Status));
        var blobItem = result.Outcomes.Single(o => o.Item.Action == RepairAction.QuarantineBlob).Item;
        Assert.Equal(2, blobItem.ExtraPaths.Count); // the _layers links of both repositories
        Assert.Equal(sharedBefore, await _registry.Driver.GetContentAsync(StoragePaths.BlobData(Digest.Compute(shared))));
        var after = await DoctorApi.ScanAsync(_registry.Driver, null, new DoctorOptions { VerifyContent = true });
        Assert.DoesNotContain(after.Findings, f => f.Severity >= FindingSeverity.Warning);

        foreach (var item in await DoctorApi.ListQuarantineAsync(_registry.Driver))
        {
            await DoctorApi.RestoreAsync(_registry.Driver, item.Id);
        }
        Assert.Equal(before, await _registry.SnapshotAsync());
    }

    [Fact]
    public async Task Repair_NeverMovesBlobThatBecameIntact()
    {
        var image = await _registry.PushImageAsync(Repo, "v1");
        var path = StoragePaths.BlobData(image.Layers[0]);
        var good = await _registry.Driver.GetContentAsync(path);
        await _registry.Driver.PutContentAsync(path, "bad"u8.ToArray());
        var report = await DoctorApi.ScanAsync(_registry.Driver, null, new DoctorOptions { VerifyContent = true });
        await _registry.Driver.PutContentAsync(path, good); // someone re-uploaded it

        var result = await DoctorApi.RepairAsync(_registry.Driver, report, Execute);

        Assert.All(result.Outcomes, o => Assert.Equal(RepairStatus.Skipped, o.Status));
        Assert.Equal(good, await _registry.Driver.GetContentAsync(path));
    }

    [Fact]
    public async Task Repair_RefusesWhileABerthInstanceIsLive_UnlessForced()
    {
        await BrokenTagAndHealthyTagAsync();
        var report = await DoctorApi.ScanAsync(_registry.Driver);
        var before = await _registry.SnapshotAsync(StoragePaths.RepositoriesRoot);
        await using (await InstanceHeartbeat.StartAsync(_registry.Driver, "127.0.0.1:5000", TimeProvider.System))
        {
            var e = await Assert.ThrowsAsync<StorageLiveException>(() => DoctorApi.RepairAsync(_registry.Driver, report, Execute));
            Assert.Contains("127.0.0.1:5000", e.Message);
            Assert.Equal(before, await _registry.SnapshotAsync(StoragePaths.RepositoriesRoot));

            var forced = await DoctorApi.RepairAsync(_registry.Driver, report, Execute with { Force = true });
            Assert.Equal(RepairStatus.Quarantined, Assert.Single(forced.Outcomes).Status);
        }
        var journal = Assert.Single(await DoctorApi.ListQuarantineAsync(_registry.Driver));
        await DoctorApi.RestoreAsync(_registry.Driver, journal.Id); // the server stopped: no longer live
        Assert.Equal(before, await _registry.SnapshotAsync(StoragePaths.RepositoriesRoot));
    }

    [Fact]
    public async Task Restore_RefusesToOverwriteNewerContent()
    {
        await BrokenTagAndHealthyTagAsync();
        await DoctorApi.RepairAsync(_registry.Driver, await DoctorApi.ScanAsync(_registry.Driver), Execute);
        var id = Assert.Single(await DoctorApi.ListQuarantineAsync(_registry.Driver)).Id;
        var repushed = await _registry.PushImageAsync(Repo, "bad");

        var e = await Assert.ThrowsAsync<QuarantineException>(() => DoctorApi.RestoreAsync(_registry.Driver, id));

        Assert.Contains("other content", e.Message);
        Assert.Equal(repushed.Manifest, (await LinkFile.ReadAsync(_registry.Driver, StoragePaths.TagCurrentLink(Repo, "bad"))).Digest);
        Assert.Single(await DoctorApi.ListQuarantineAsync(_registry.Driver));
    }

    [Fact]
    public async Task Restore_UnknownId_Throws()
    {
        await Assert.ThrowsAsync<QuarantineException>(() => DoctorApi.RestoreAsync(_registry.Driver, "20260101-000000-deadbeef"));
    }

    [Fact]
    public async Task Plan_IndexLinkInsideQuarantinedTag_IsCoveredByTheTagMove()
    {
        var image = await _registry.PushImageAsync(Repo, "v1");
        await _registry.Driver.DeleteAsync(StoragePaths.BlobData(image.Manifest));
        var report = await DoctorApi.ScanAsync(_registry.Driver);

        var plan = DoctorApi.PlanRepair(report);

        Assert.Equal([RepairAction.QuarantineTag, RepairAction.QuarantineLink], plan.Items.Select(i => i.Action));
        var danglingIndex = report.Findings.ToList().FindIndex(f => f.Class == FindingClass.TagIndexDangling);
        Assert.Equal(RepairAction.QuarantineTag, plan.ItemByFinding[danglingIndex].Action);
    }
}
