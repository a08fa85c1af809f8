using System.Text;
using Berth.Maintenance.Doctor;
using Berth.Maintenance.Tests.Support;
using Berth.Storage.InMemory;
using Berth.Storage.Layout;

namespace Berth.Maintenance.Tests.Doctor;

/// <summary>Breaks in-memory storage on purpose, one way per finding class, and checks that doctor reports exactly that.</summary>
public sealed class DoctorScanTests
{
    private const string Repo = "group/sub/project/image";
    private readonly TestRegistry _registry = new(new InMemoryDriver());

    private Task<DoctorReport> ScanAsync(DoctorScope? scope = null, bool verify = false, TimeProvider? time = null) =>
        Berth.Maintenance.Doctor.Doctor.ScanAsync(_registry.Driver, scope, new DoctorOptions { VerifyContent = verify, TimeProvider = time ?? TimeProvider.System });

    /// <summary>"class repository tag-or-digest" for every warning and error, sorted.</summary>
    private static string[] Problems(DoctorReport report) =>
        [.. report.Findings.Where(f => f.Severity >= FindingSeverity.Warning).Select(Describe).Order(StringComparer.Ordinal)];

    private static string Describe(Finding f) => $"{f.Name} {f.Repository ?? "-"} {f.Tag ?? f.Digest ?? "-"}";

    [Fact]
    public async Task HealthyStorage_NoFindings()
    {
        var shared = _registry.NewLayer();
        await _registry.PushImageAsync(Repo, "v1", [shared, _registry.NewLayer()]);
        await _registry.PushImageAsync(Repo, "v2", [shared]);
        await _registry.PushImageAsync("other", "latest");
        var a = await _registry.PushImageAsync("multi", null);
        var b = await _registry.PushImageAsync("multi", null);
        await _registry.PushIndexAsync("multi", "latest", [a, b]);

        var report = await ScanAsync(verify: true);

        Assert.Empty(report.Findings);
        Assert.Equal(3, report.Summary.RepositoriesScanned);
        Assert.Equal(4, report.Summary.TagsScanned);
        Assert.Equal(0, report.Summary.UnreferencedBlobs);
        Assert.False(report.HasErrors);
    }

    [Fact]
    public async Task CurrentLinkDeleted_TagLinkMissing()
    {
        await _registry.PushImageAsync(Repo, "v1");
        await _registry.Driver.DeleteAsync(StoragePaths.TagCurrentLink(Repo, "v1"));

        Assert.Equal([$"tag-link-missing {Repo} v1"], Problems(await ScanAsync()));
    }

    [Fact]
    public async Task CurrentLinkEmpty_TagLinkEmpty_RunbookMode2()
    {
        await _registry.PushImageAsync(Repo, "v1");
        await _registry.Driver.PutContentAsync(StoragePaths.TagCurrentLink(Repo, "v1"), Array.Empty<byte>());

        var report = await ScanAsync();

        Assert.Equal([$"tag-link-empty {Repo} v1"], Problems(report));
        var f = report.Findings.Single();
        Assert.Equal(FindingSeverity.Error, f.Severity);
        Assert.Equal(StoragePaths.TagCurrentLink(Repo, "v1"), f.Path);
        Assert.StartsWith("runbook 2", f.FailureMode);
        Assert.Contains("re-push", f.Fix);
        Assert.True(report.HasErrors);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("sha256:1234")]
    [InlineData("md5:d41d8cd98f00b204e9800998ecf8427e")]
    public async Task CurrentLinkGarbage_TagLinkInvalid(string content)
    {
        await _registry.PushImageAsync(Repo, "v1");
        await _registry.Driver.PutContentAsync(StoragePaths.TagCurrentLink(Repo, "v1"), Encoding.ASCII.GetBytes(content));

        Assert.Equal([$"tag-link-invalid {Repo} v1"], Problems(await ScanAsync()));
    }

    [Fact]
    public async Task RevisionLinkDeleted_TagRevisionMissing()
    {
        var image = await _registry.PushImageAsync(Repo, "v1");
        await _registry.Driver.DeleteAsync(StoragePaths.RevisionLink(Repo, image.Manifest));

        var report = await ScanAsync();

        Assert.Equal([$"tag-revision-missing {Repo} v1"], Problems(report));
        // Nothing references the manifest and its blobs any more: garbage collection would remove them.
        Assert.Equal(4, report.Summary.UnreferencedBlobs);
    }

    [Fact]
    public async Task ManifestDataDeleted_ManifestBlobMissing_AndDanglingLinks()
    {
        var image = await _registry.PushImageAsync(Repo, "v1");
        await _registry.Driver.DeleteAsync(StoragePaths.BlobData(image.Manifest));

        Assert.Equal(
            [$"manifest-blob-missing {Repo} v1", $"revision-link-dangling {Repo} {image.Manifest}", $"tag-index-dangling {Repo} v1"],
            Problems(await ScanAsync()));
    }

    [Fact]
    public async Task ManifestDataTruncatedToZero_ManifestSizeMismatch()
    {
        var image = await _registry.PushImageAsync(Repo, "v1");
        await _registry.Driver.PutContentAsync(StoragePaths.BlobData(image.Manifest), Array.Empty<byte>());

        Assert.Equal([$"manifest-size-mismatch {Repo} v1"], Problems(await ScanAsync()));
    }

    [Fact]
    public async Task ManifestDataChanged_ManifestCorrupt_AndBlobCorrupt()
    {
        var image = await _registry.PushImageAsync(Repo, "v1");
        var changed = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(image.ManifestBytes).Replace("amd64", "arm64") + " ");
        await _registry.Driver.PutContentAsync(StoragePaths.BlobData(image.Manifest), changed);

        var report = await ScanAsync();

        Assert.Equal([$"blob-corrupt - {image.Manifest}", $"manifest-corrupt {Repo} v1"], Problems(report));
        var corrupt = report.Findings.Single(f => f.Class == FindingClass.BlobCorrupt);
        Assert.Contains(StoragePaths.RevisionLink(Repo, image.Manifest), corrupt.RelatedPaths);
    }

    [Fact]
    public async Task ManifestNotJson_ManifestUnparseable()
    {
        await _registry.PushManifestBytesAsync(Repo, "v1", Encoding.UTF8.GetBytes("this is not a manifest"));

        Assert.Equal([$"manifest-unparseable {Repo} v1"], Problems(await ScanAsync()));
    }

    [Fact]
    public async Task ManifestUnknownMediaType_ManifestUnparseable()
    {
        await _registry.PushManifestBytesAsync(Repo, "v1", Encoding.UTF8.GetBytes("{\"schemaVersion\":2,\"mediaType\":\"application/x-what\",\"config\":{}}"));

        Assert.Equal([$"manifest-unparseable {Repo} v1"], Problems(await ScanAsync()));
    }

    [Fact]
    public async Task Schema1Manifest_ManifestUnsupported_Warning()
    {
        await _registry.PushManifestBytesAsync(Repo, "old", Encoding.UTF8.GetBytes("{\"schemaVersion\":1,\"name\":\"x\",\"tag\":\"old\",\"fsLayers\":[],\"signatures\":[]}"));

        var report = await ScanAsync();

        Assert.Equal([$"manifest-unsupported {Repo} old"], Problems(report));
        Assert.False(report.HasErrors);
    }

    [Fact]
    public async Task LayerDataDeleted_LayerMissing_AndLayerLinkDangling()
    {
        var image = await _registry.PushImageAsync(Repo, "v1");
        await _registry.Driver.DeleteAsync(StoragePaths.BlobData(image.Layers[1]));

        var report = await ScanAsync();

        Assert.Equal([$"layer-link-dangling {Repo} {image.Layers[1]}", $"layer-missing {Repo} v1"], Problems(report));
        Assert.StartsWith("runbook 1", report.Findings.Single(f => f.Class == FindingClass.LayerMissing).FailureMode);
    }

    [Fact]
    public async Task LayerLinkAndDataDeleted_LayerMissingOnly()
    {
        var image = await _registry.PushImageAsync(Repo, "v1");
        await _registry.Driver.DeleteAsync(StoragePaths.BlobData(image.Layers[0]));
        await _registry.Driver.DeleteAsync(StoragePaths.LayerLink(Repo, image.Layers[0]));

        Assert.Equal([$"layer-missing {Repo} v1"], Problems(await ScanAsync()));
    }

    [Fact]
    public async Task ConfigDataDeleted_LayerMissing()
    {
        var image = await _registry.PushImageAsync(Repo, "v1");
        await _registry.Driver.DeleteAsync(StoragePaths.BlobData(image.Config));
        await _registry.Driver.DeleteAsync(StoragePaths.LayerLink(Repo, image.Config));

        var report = await ScanAsync();

        Assert.Equal([$"layer-missing {Repo} v1"], Problems(report));
        Assert.Contains("config", report.Findings.Single().Explanation);
    }

    [Fact]
    public async Task LayerLinkDeleted_LayerUnlinked_RunbookMode1()
    {
        var image = await _registry.PushImageAsync(Repo, "v1");
        await _registry.Driver.DeleteAsync(StoragePaths.LayerLink(Repo, image.Layers[0]));

        var report = await ScanAsync();

        Assert.Equal([$"layer-unlinked {Repo} v1"], Problems(report));
        Assert.StartsWith("runbook 1", report.Findings.Single().FailureMode);
    }

    [Fact]
    public async Task LayerLinkGarbage_LayerLinkInvalid_AndTagLayerUnlinked()
    {
        var image = await _registry.PushImageAsync(Repo, "v1");
        await _registry.Driver.PutContentAsync(StoragePaths.LayerLink(Repo, image.Layers[0]), "\0\0\0"u8.ToArray());

        Assert.Equal([$"layer-link-invalid {Repo} {image.Layers[0]}", $"layer-unlinked {Repo} v1"], Problems(await ScanAsync()));
    }

    [Fact]
    public async Task DescriptorSizeWrong_LayerSizeMismatch()
    {
        var layer = _registry.NewLayer(100);
        await _registry.PushImageAsync(Repo, "v1", [layer], json => json.Replace("\"size\":100", "\"size\":99"));

        Assert.Equal([$"layer-size-mismatch {Repo} v1"], Problems(await ScanAsync()));
    }

    [Fact]
    public async Task LayerBytesFlipped_WithVerify_LayerCorrupt_AndBlobCorrupt()
    {
        var image = await _registry.PushImageAsync(Repo, "v1");
        var path = StoragePaths.BlobData(image.Layers[0]);
        var bytes = await _registry.Driver.GetContentAsync(path);
        bytes[0] ^= 0xff;
        await _registry.Driver.PutContentAsync(path, bytes);

        Assert.Empty(Problems(await ScanAsync(verify: false)));
        var report = await ScanAsync(verify: true);

        Assert.Equal([$"blob-corrupt - {image.Layers[0]}", $"layer-corrupt {Repo} v1"], Problems(report));
        Assert.Equal([StoragePaths.LayerLink(Repo, image.Layers[0])], report.Findings.Single(f => f.Class == FindingClass.BlobCorrupt).RelatedPaths);
        Assert.True(report.Summary.BytesVerified > 0);
    }

    [Fact]
    public async Task LayerTruncated_WithVerify_CorruptNotSizeMismatch()
    {
        var image = await _registry.PushImageAsync(Repo, "v1");
        var path = StoragePaths.BlobData(image.Layers[0]);
        await _registry.Driver.PutContentAsync(path, (await _registry.Driver.GetContentAsync(path))[..10]);

        Assert.Equal([$"layer-size-mismatch {Repo} v1"], Problems(await ScanAsync(verify: false)));
        Assert.Equal([$"blob-corrupt - {image.Layers[0]}", $"layer-corrupt {Repo} v1"], Problems(await ScanAsync(verify: true)));
    }

    [Fact]
    public async Task UnreferencedBlobCorrupt_WithVerify_BlobCorrupt()
    {
        var digest = await _registry.PutBlobAsync(_registry.NewLayer());
        await _registry.Driver.PutContentAsync(StoragePaths.BlobData(digest), "changed"u8.ToArray());

        var report = await ScanAsync(verify: true);

        Assert.Equal([$"blob-corrupt - {digest}"], Problems(report));
        Assert.Equal(1, report.Summary.UnreferencedBlobs);
    }

    [Fact]
    public async Task IndexChildDataDeleted_ChildManifestMissing()
    {
        var a = await _registry.PushImageAsync(Repo, null);
        var b = await _registry.PushImageAsync(Repo, null);
        await _registry.PushIndexAsync(Repo, "multi", [a, b]);
        await _registry.Driver.DeleteAsync(StoragePaths.BlobData(b.Manifest));

        Assert.Equal([$"child-manifest-missing {Repo} multi", $"revision-link-dangling {Repo} {b.Manifest}"], Problems(await ScanAsync()));
    }

    [Fact]
    public async Task IndexChildRevisionDeleted_ChildManifestUnlinked()
    {
        var a = await _registry.PushImageAsync(Repo, null);
        await _registry.PushIndexAsync(Repo, "multi", [a]);
        await _registry.Driver.DeleteAsync(StoragePaths.RevisionLink(Repo, a.Manifest));

        Assert.Equal([$"child-manifest-unlinked {Repo} multi"], Problems(await ScanAsync()));
    }

    [Fact]
    public async Task IndexChildLayerMissing_ReportedOnTheIndexTag()
    {
        var a = await _registry.PushImageAsync(Repo, null);
        await _registry.PushIndexAsync(Repo, "multi", [a]);
        await _registry.Driver.DeleteAsync(StoragePaths.LayerLink(Repo, a.Layers[0]));

        var report = await ScanAsync();

        Assert.Equal([$"layer-unlinked {Repo} multi"], Problems(report));
        Assert.Equal(a.Layers[0].ToString(), report.Findings.Single().Digest);
    }

    [Fact]
    public async Task IndexChildSizeWrong_ManifestSizeMismatch()
    {
        var a = await _registry.PushImageAsync(Repo, null);
        await _registry.PushIndexAsync(Repo, "multi", [a], json => json.Replace($"\"size\":{a.ManifestBytes.Length}", $"\"size\":{a.ManifestBytes.Length + 1}"));

        Assert.Equal([$"manifest-size-mismatch {Repo} multi"], Problems(await ScanAsync()));
    }

    [Fact]
    public async Task SubjectAbsent_SubjectMissing_WarningOnly()
    {
        var absent = Digest.Compute("not pushed yet"u8);
        await _registry.PushImageAsync(Repo, "sig", subject: absent);

        var report = await ScanAsync();

        Assert.Equal([$"subject-missing {Repo} sig"], Problems(report));
        Assert.False(report.HasErrors);
    }

    [Fact]
    public async Task SubjectPresent_NoFinding()
    {
        var subject = await _registry.PushImageAsync(Repo, "v1");
        await _registry.PushImageAsync(Repo, "sig", subject: subject.Manifest);

        Assert.Empty(Problems(await ScanAsync()));
    }

    [Fact]
    public async Task TagIndexLinkGarbage_TagIndexInvalid()
    {
        var image = await _registry.PushImageAsync(Repo, "v1");
        await _registry.Driver.PutContentAsync(StoragePaths.TagIndexLink(Repo, "v1", image.Manifest), "junk"u8.ToArray());

        var report = await ScanAsync();

        Assert.Equal([$"tag-index-invalid {Repo} v1"], Problems(report));
        Assert.False(report.HasErrors);
    }

    [Fact]
    public async Task TagIndexLinkToMissingBlob_TagIndexDangling()
    {
        await _registry.PushImageAsync(Repo, "v1");
        var gone = Digest.Compute("an old manifest, collected"u8);
        await LinkFile.WriteAsync(_registry.Driver, StoragePaths.TagIndexLink(Repo, "v1", gone), gone);

        Assert.Equal([$"tag-index-dangling {Repo} v1"], Problems(await ScanAsync()));
    }

    [Fact]
    public async Task RevisionLinkEmpty_RevisionLinkInvalid()
    {
        var image = await _registry.PushImageAsync(Repo, null);
        await _registry.Driver.PutContentAsync(StoragePaths.RevisionLink(Repo, image.Manifest), Array.Empty<byte>());

        Assert.Equal([$"revision-link-invalid {Repo} {image.Manifest}"], Problems(await ScanAsync()));
    }

    [Fact]
    public async Task RevisionLinkNamesOtherDigest_RevisionLinkInvalid()
    {
        var image = await _registry.PushImageAsync(Repo, null);
        var other = await _registry.PushImageAsync(Repo, null);
        await LinkFile.WriteAsync(_registry.Driver, StoragePaths.RevisionLink(Repo, image.Manifest), other.Manifest);

        Assert.Equal([$"revision-link-invalid {Repo} {image.Manifest}"], Problems(await ScanAsync()));
    }

    [Fact]
    public async Task RevisionFolderNotADigest_RevisionLinkInvalid()
    {
        await _registry.Driver.PutContentAsync(StoragePaths.RevisionsDirectory(Repo) + "/sha256/nothex/link", "sha256:00"u8.ToArray());

        Assert.Equal([$"revision-link-invalid {Repo} sha256:nothex"], Problems(await ScanAsync()));
    }

    [Fact]
    public async Task UntaggedRevisionToMissingBlob_RevisionLinkDangling()
    {
        var gone = Digest.Compute("gone"u8);
        await _registry.LinkRevisionAsync(Repo, gone);

        var report = await ScanAsync();

        Assert.Equal([$"revision-link-dangling {Repo} {gone}"], Problems(report));
        Assert.False(report.HasErrors);
    }

    [Fact]
    public async Task LayerLinkToMissingBlob_LayerLinkDangling()
    {
        await _registry.PushImageAsync(Repo, "v1");
        var gone = Digest.Compute("collected"u8);
        await _registry.LinkLayerAsync(Repo, gone);

        Assert.Equal([$"layer-link-dangling {Repo} {gone}"], Problems(await ScanAsync()));
    }

    [Fact]
    public async Task OldUpload_UploadStale_FromStartedAt()
    {
        var time = new ManualTimeProvider(DateTimeOffset.Parse("2026-12-04T12:00:00Z"));
        await _registry.PushImageAsync(Repo, "v1");
        await _registry.StartUploadAsync(Repo, "old-upload", time.GetUtcNow().AddHours(-25), size: 1000);
        await _registry.StartUploadAsync(Repo, "new-upload", time.GetUtcNow().AddHours(-1));

        var report = await ScanAsync(time: time);

        var stale = Assert.Single(report.Findings);
        Assert.Equal(FindingClass.UploadStale, stale.Class);
        Assert.Equal(FindingSeverity.Info, stale.Severity);
        Assert.Equal(StoragePaths.UploadDirectory(Repo, "old-upload"), stale.Path);
        Assert.Equal(1, report.Summary.StaleUploads);
        Assert.True(report.Summary.StaleUploadBytes >= 1000);
        Assert.False(report.HasErrors);
    }

    [Fact]
    public async Task UploadWithoutStartedAt_UsesModificationTime()
    {
        var time = new ManualTimeProvider(DateTimeOffset.Parse("2026-12-04T12:00:00Z"));
        var registry = new TestRegistry(new InMemoryDriver(time));
        await registry.StartUploadAsync("app", "abandoned", startedAt: null);
        time.Advance(TimeSpan.FromHours(3));

        var options = new DoctorOptions { TimeProvider = time, UploadMaxAge = TimeSpan.FromHours(2) };
        var report = await Berth.Maintenance.Doctor.Doctor.ScanAsync(registry.Driver, null, options);

        Assert.Equal(FindingClass.UploadStale, Assert.Single(report.Findings).Class);
        var notYet = await Berth.Maintenance.Doctor.Doctor.ScanAsync(registry.Driver, null, options with { UploadMaxAge = TimeSpan.FromHours(4) });
        Assert.Empty(notYet.Findings);
    }

    [Fact]
    public async Task BlobNobodyReferences_BlobUnreferenced_CountAndBytes()
    {
        await _registry.PushImageAsync(Repo, "v1");
        var orphan = await _registry.PutBlobAsync(new byte[1234]);
        await _registry.LinkLayerAsync(Repo, orphan); // linked but used by no manifest: garbage collection still removes it

        var report = await ScanAsync();

        var f = Assert.Single(report.Findings);
        Assert.Equal(FindingClass.BlobUnreferenced, f.Class);
        Assert.Equal(orphan.ToString(), f.Digest);
        Assert.Equal(1, report.Summary.UnreferencedBlobs);
        Assert.Equal(1234, report.Summary.UnreferencedBytes);
        Assert.Equal(1, report.Summary.ByClass["blob-unreferenced"]);
        Assert.False(report.HasErrors);
    }

    [Fact]
    public async Task UntaggedManifests_KeepTheirBlobsReferenced()
    {
        await _registry.PushImageAsync(Repo, null);

        var report = await ScanAsync();

        Assert.Empty(report.Findings);
        Assert.Equal(0, report.Summary.TagsScanned);
    }

    [Fact]
    public async Task NestedRepositories_AllFound()
    {
        await _registry.PushImageAsync("a", "v1");
        await _registry.PushImageAsync("a/b", "v1");
        await _registry.PushImageAsync("a/b/c/d/e", "v1");
        await _registry.StartUploadAsync("uploads/only", "u1", DateTimeOffset.UtcNow);

        var report = await ScanAsync();

        Assert.Equal(4, report.Summary.RepositoriesScanned);
        Assert.Equal(3, report.Summary.TagsScanned);
    }

    [Fact]
    public async Task RepositoryPrefix_MatchesWholeSegments_AndSkipsBlobStore()
    {
        await _registry.PushImageAsync("group/sub", "v1");
        await _registry.PushImageAsync("group/sub/app", "v1");
        await _registry.PushImageAsync("group/subway", "v1");
        foreach (var name in new[] { "group/sub", "group/sub/app", "group/subway" })
        {
            await _registry.Driver.PutContentAsync(StoragePaths.TagCurrentLink(name, "v1"), Array.Empty<byte>());
        }
        await _registry.PutBlobAsync(new byte[5]);

        var report = await ScanAsync(new DoctorScope { RepositoryPrefix = "group/sub" });

        Assert.Equal(["tag-link-empty group/sub v1", "tag-link-empty group/sub/app v1"], Problems(report));
        Assert.Equal(0, report.Summary.UnreferencedBlobs);
        Assert.Equal(0, report.Summary.BlobsScanned);
    }

    [Fact]
    public async Task TagScope_ChecksOnlyThatTag()
    {
        await _registry.PushImageAsync(Repo, "v1");
        await _registry.PushImageAsync(Repo, "v2");
        await _registry.PushImageAsync("other", "v2");
        await _registry.Driver.PutContentAsync(StoragePaths.TagCurrentLink(Repo, "v1"), Array.Empty<byte>());
        await _registry.Driver.PutContentAsync(StoragePaths.TagCurrentLink("other", "v2"), Array.Empty<byte>());

        var report = await ScanAsync(new DoctorScope { Tag = "v2" });

        Assert.Equal(["tag-link-empty other v2"], Problems(report));
        Assert.Equal(2, report.Summary.TagsScanned);
    }

    [Fact]
    public async Task Targets_ClassifyEachRequestPath()
    {
        var good = await _registry.PushImageAsync(Repo, "good");
        await _registry.PushImageAsync(Repo, "broken");
        await _registry.Driver.PutContentAsync(StoragePaths.TagCurrentLink(Repo, "broken"), Array.Empty<byte>());
        await _registry.Driver.PutContentAsync(StoragePaths.TagCurrentLink(Repo, "elsewhere"), Array.Empty<byte>());
        var targets = RequestPathList.Parse(
        [
            $"    3 /v2/{Repo}/manifests/good",
            $"  174 /v2/{Repo}/manifests/broken",
            $"/v2/{Repo}/manifests/never-pushed",
            $"/v2/{Repo}/manifests/{good.Manifest}",
            $"/v2/{Repo}/blobs/{good.Layers[0]}",
            $"/v2/nosuch/repo/manifests/latest",
        ]).Targets;

        var report = await ScanAsync(new DoctorScope { Targets = targets });

        Assert.Equal(
            [TargetStatus.Healthy, TargetStatus.Broken, TargetStatus.NotFound, TargetStatus.Healthy, TargetStatus.Healthy, TargetStatus.NotFound],
            report.Targets.Select(t => t.Status));
        Assert.Equal([$"tag-link-empty {Repo} broken"], Problems(report)); // "elsewhere" was not asked about
        Assert.Equal("tag-link-empty", Assert.Single(report.FindingsFor(Repo, "broken")).Name);
    }

    [Fact]
    public async Task Targets_ManifestByDigestWithMissingLayer_Broken()
    {
        var image = await _registry.PushImageAsync(Repo, null);
        await _registry.Driver.DeleteAsync(StoragePaths.BlobData(image.Layers[0]));
        await _registry.Driver.DeleteAsync(StoragePaths.LayerLink(Repo, image.Layers[0]));

        var report = await ScanAsync(new DoctorScope { Targets = [new DoctorTarget(Repo, DoctorTargetKind.ManifestDigest, image.Manifest.ToString())] });

        var result = Assert.Single(report.Targets);
        Assert.Equal(TargetStatus.Broken, result.Status);
        Assert.Equal(FindingClass.LayerMissing, Assert.Single(result.Findings).Class);
    }

    [Fact]
    public async Task Targets_BlobCorrupt_WithVerify()
    {
        var image = await _registry.PushImageAsync(Repo, "v1");
        await _registry.Driver.PutContentAsync(StoragePaths.BlobData(image.Layers[0]), "bad"u8.ToArray());

        var report = await ScanAsync(new DoctorScope { Targets = [new DoctorTarget(Repo, DoctorTargetKind.Blob, image.Layers[0].ToString())] }, verify: true);

        Assert.Equal(TargetStatus.Broken, Assert.Single(report.Targets).Status);
        Assert.Equal([$"blob-corrupt - {image.Layers[0]}"], Problems(report));
    }

    [Fact]
    public async Task EmptyStorage_NoFindings()
    {
        var report = await ScanAsync();

        Assert.Empty(report.Findings);
        Assert.Equal(0, report.Summary.RepositoriesScanned);
    }

    [Fact]
    public async Task ManyRepositories_ParallelScan_CountsAll()
    {
        var layer = _registry.NewLayer();
        for (var i = 0; i < 60; i++)
        {
            await _registry.PushImageAsync($"team{i % 7}/app{i}", "v1", [layer]);
            await _registry.PushImageAsync($"team{i % 7}/app{i}", "v2", [layer]);
        }
        await _registry.Driver.PutContentAsync(StoragePaths.TagCurrentLink("team3/app10", "v2"), Array.Empty<byte>());
        var progress = new DoctorProgress();

        var report = await Berth.Maintenance.Doctor.Doctor.ScanAsync(_registry.Driver, null, new DoctorOptions { MaxDegreeOfParallelism = 8, Progress = progress });

        Assert.Equal(60, report.Summary.RepositoriesScanned);
        Assert.Equal(120, report.Summary.TagsScanned);
        Assert.Equal(["tag-link-empty team3/app10 v2"], Problems(report));
        Assert.Equal(60, progress.RepositoriesScanned);
        Assert.Equal("done", progress.Phase);
    }
}
