using Berth.Core.Gc;
using Berth.Storage.Layout;

namespace Berth.GarbageCollection.Tests;

/// <summary>Pins the stored formats GC adds: paths, journal names, and how walked paths are read back.</summary>
public sealed class GcPathsTests
{
    private static readonly Digest D = Digest.Parse("sha256:" + new string('a', 62) + "bc");
    private static readonly Digest S = Digest.Parse("sha256:" + new string('5', 64));

    [Fact]
    public void GcPaths_AreUnderBerthRoot()
    {
        Assert.Equal("/docker/registry/v2/berth/gc/tombstones/sha256/" + D.Hex, StoragePaths.GcTombstone(D));
        Assert.Equal("/docker/registry/v2/berth/gc/tombstones/sha256", StoragePaths.GcTombstonesDirectory("sha256"));
        Assert.Equal("/docker/registry/v2/berth/gc/journal/2026120413/x", StoragePaths.GcJournalEntry("2026120413", "x"));
        Assert.Equal("/docker/registry/v2/berth/gc/runs/r1", StoragePaths.GcRun("r1"));
    }

    [Fact]
    public void JournalIds_SortByTime_AndParseBack()
    {
        var t = new DateTimeOffset(2026, 12, 4, 13, 15, 2, TimeSpan.Zero).AddTicks(1234567);
        var id = GcJournal.NewId(t);
        Assert.StartsWith("20261204T131502.1234567Z-", id);
        Assert.Equal("2026120413", GcJournal.Bucket(t));
        Assert.True(GcJournal.TryParseIdTime(id, out var parsed));
        Assert.Equal(t, parsed);
        Assert.True(string.CompareOrdinal(id, GcJournal.NewId(t.AddTicks(1))) < 0);
        Assert.False(GcJournal.TryParseIdTime(".DS_Store", out _));
    }

    [Fact]
    public void JournalEntry_RoundTrips()
    {
        var entry = new GcJournalEntry("a/b", GcJournalEntry.ManifestKind, [D, S]);
        var decoded = GcJournal.Decode(GcJournal.Encode(entry));
        Assert.NotNull(decoded);
        Assert.Equal(("a/b", "manifest"), (decoded.Repository, decoded.Kind));
        Assert.Equal([D, S], decoded.Digests);
        Assert.Null(GcJournal.Decode("{\"repository\":\"a\",\"digests\":[\"md5:x\"]}"u8));
    }

    [Fact]
    public void BlobDataPaths_AreRecognised()
    {
        Assert.True(StoragePaths.TryParseBlobData(StoragePaths.BlobData(D), out var d));
        Assert.Equal(D, d);
        Assert.False(StoragePaths.TryParseBlobData($"/docker/registry/v2/blobs/sha256/zz/{D.Hex}/data", out _));
        Assert.False(StoragePaths.TryParseBlobData($"/docker/registry/v2/blobs/sha256/aa/{D.Hex}/other", out _));
    }

    [Fact]
    public void RepositoryObjects_AreRecognised_WithNestedNames()
    {
        var cases = new (string Path, WalkedObjectKind Kind, string? Tag, string? Upload)[]
        {
            (StoragePaths.LayerLink("g/sub/img", D), WalkedObjectKind.LayerLink, null, null),
            (StoragePaths.RevisionLink("g/sub/img", D), WalkedObjectKind.RevisionLink, null, null),
            (StoragePaths.TagCurrentLink("g/sub/img", "v1.0"), WalkedObjectKind.TagCurrentLink, "v1.0", null),
            (StoragePaths.TagIndexLink("g/sub/img", "v1.0", D), WalkedObjectKind.TagIndexLink, "v1.0", null),
            (StoragePaths.ReferrerLink("g/sub/img", S, D), WalkedObjectKind.ReferrerLink, null, null),
            (StoragePaths.UploadData("g/sub/img", "u1"), WalkedObjectKind.UploadObject, null, "u1"),
            (StoragePaths.UploadDirectory("g/sub/img", "u1") + "/hashstates/sha256/0", WalkedObjectKind.UploadObject, null, "u1"),
        };
        foreach (var (path, kind, tag, upload) in cases)
        {
            Assert.True(StoragePaths.TryParseRepositoryObject(path, out var o), path);
            Assert.Equal((kind, "g/sub/img", tag, upload), (o.Kind, o.Repository, o.Tag, o.UploadId));
            if (kind is not (WalkedObjectKind.TagCurrentLink or WalkedObjectKind.UploadObject))
            {
                Assert.Equal(D, o.Digest);
            }
        }
        Assert.Equal(S, StoragePaths.TryParseRepositoryObject(StoragePaths.ReferrerLink("r", S, D), out var referrer) ? referrer.Subject : default);
        Assert.False(StoragePaths.TryParseRepositoryObject(StoragePaths.RevisionDirectory("r", D) + "/signatures/sha256/" + S.Hex + "/link", out _));
        Assert.False(StoragePaths.TryParseRepositoryObject(StoragePaths.Repository("r") + "/_unknown/x", out _));
        Assert.False(StoragePaths.TryParseRepositoryObject(StoragePaths.RepositoriesRoot + "/_layers/sha256/" + D.Hex + "/link", out _));
    }
}
