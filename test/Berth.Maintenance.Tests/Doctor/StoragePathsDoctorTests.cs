using Berth.Storage.Layout;

namespace Berth.Maintenance.Tests.Doctor;

/// <summary>Pins the paths doctor and the heartbeat add to the layout (outside repositories/, so no registry reads them).</summary>
public sealed class StoragePathsDoctorTests
{
    private static readonly Digest D = Digest.Parse("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

    [Fact]
    public void BerthPaths_AreGolden()
    {
        Assert.Equal("/docker/registry/v2/berth/instances/host-1-abc", StoragePaths.Instance("host-1-abc"));
        Assert.Equal("/docker/registry/v2/berth/quarantine/20261204-1", StoragePaths.QuarantineItem("20261204-1"));
        Assert.Equal("/docker/registry/v2/berth/quarantine/20261204-1/journal.json", StoragePaths.QuarantineJournal("20261204-1"));
        Assert.Equal("/docker/registry/v2/berth/quarantine/20261204-1/objects/docker/registry/v2/repositories/a/_manifests/tags/v1/current/link",
            StoragePaths.QuarantineObject("20261204-1", StoragePaths.TagCurrentLink("a", "v1")));
        Assert.DoesNotContain(StoragePaths.RepositoriesRoot, StoragePaths.QuarantineRoot);
    }

    [Theory]
    [InlineData("_layers/sha256/HEX/link", "LayerLink", null)]
    [InlineData("_manifests/revisions/sha256/HEX/link", "RevisionLink", null)]
    [InlineData("_manifests/tags/v1.0/current/link", "TagCurrentLink", "v1.0")]
    [InlineData("_manifests/tags/latest/index/sha256/HEX/link", "TagIndexLink", "latest")]
    [InlineData("_manifests/tags/latest/current/link.tmp", "OtherInTag", "latest")]
    [InlineData("_uploads/abc/data", "Other", null)]
    public void ParseRepositoryObject_ReadsTheLayoutBack(string tail, string kind, string? tag)
    {
        var o = StoragePaths.ParseRepositoryObject("g/app", $"{StoragePaths.Repository("g/app")}/{tail.Replace("HEX", D.Hex)}");

        Assert.Equal(kind, o.Kind.ToString());
        Assert.Equal(tag, o.Tag);
        if (tail.Contains("HEX"))
        {
            Assert.Equal(D, o.PathDigest);
        }
    }

    [Fact]
    public void ParseRepositoryObject_BadDigestFolder_KeepsTheText()
    {
        var o = StoragePaths.ParseRepositoryObject("a", StoragePaths.RevisionsDirectory("a") + "/sha256/xyz/link");

        Assert.Equal(RepositoryObjectKind.RevisionLink, o.Kind);
        Assert.Null(o.PathDigest);
        Assert.Equal("sha256:xyz", o.PathDigestText);
    }

    [Fact]
    public void TryParseBlobData_RoundTrips_AndRejectsOthers()
    {
        Assert.True(StoragePaths.TryParseBlobData(StoragePaths.BlobData(D), out var d));
        Assert.Equal(D, d);
        Assert.False(StoragePaths.TryParseBlobData(StoragePaths.BlobDirectory(D) + "/other", out _));
        Assert.False(StoragePaths.TryParseBlobData($"{StoragePaths.BlobsRoot}/sha256/ff/{D.Hex}/data", out _));
    }
}
