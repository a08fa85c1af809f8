using System.Reflection;
using Berth.Storage.Layout;

namespace Berth.Storage.Tests.Layout;

/// <summary>
/// Golden outputs of every <see cref="StoragePaths"/> member, after distribution's paths_test.go. These strings
/// are the on-disk format shared with Distribution: a change here breaks existing registries. Add entries,
/// never edit them.
/// </summary>
public sealed class StoragePathsTests
{
    private const string Name = "group/sub/project/image";
    private const string Repo = "/docker/registry/v2/repositories/group/sub/project/image";
    private const string Tag = "v1.2.3-rc.1_final";
    private const string Upload = "0f5c3b1e-2a7d-4c1b-9e8f-6d5a4b3c2d1e";
    private const string EmptyHex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    private const string AbcHex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    private const string EmptySha512Hex = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";

    private static readonly Digest Empty = Digest.Parse("sha256:" + EmptyHex);
    private static readonly Digest Abc = Digest.Parse("sha256:" + AbcHex);
    private static readonly Digest EmptySha512 = Digest.Parse("sha512:" + EmptySha512Hex);

    /// <summary>Member name → (its output for the fixtures above, the expected string).</summary>
    private static readonly Dictionary<string, (Func<string> Actual, string Expected)> Golden = new()
    {
        [nameof(StoragePaths.Root)] = (() => StoragePaths.Root, "/docker/registry/v2"),
        [nameof(StoragePaths.BlobsRoot)] = (() => StoragePaths.BlobsRoot, "/docker/registry/v2/blobs"),
        [nameof(StoragePaths.RepositoriesRoot)] = (() => StoragePaths.RepositoriesRoot, "/docker/registry/v2/repositories"),
        [nameof(StoragePaths.BerthRoot)] = (() => StoragePaths.BerthRoot, "/docker/registry/v2/berth"),
        [nameof(StoragePaths.QuarantineRoot)] = (() => StoragePaths.QuarantineRoot, "/docker/registry/v2/berth/quarantine"),
        [nameof(StoragePaths.GcRoot)] = (() => StoragePaths.GcRoot, "/docker/registry/v2/berth/gc"),
        [nameof(StoragePaths.GcTombstonesRoot)] = (() => StoragePaths.GcTombstonesRoot, "/docker/registry/v2/berth/gc/tombstones"),
        [nameof(StoragePaths.GcJournalRoot)] = (() => StoragePaths.GcJournalRoot, "/docker/registry/v2/berth/gc/journal"),
        [nameof(StoragePaths.GcRunsRoot)] = (() => StoragePaths.GcRunsRoot, "/docker/registry/v2/berth/gc/runs"),
        [nameof(StoragePaths.GcTombstonesDirectory)] = (() => StoragePaths.GcTombstonesDirectory("sha256"), "/docker/registry/v2/berth/gc/tombstones/sha256"),
        [nameof(StoragePaths.GcTombstone)] = (() => StoragePaths.GcTombstone(Abc), $"/docker/registry/v2/berth/gc/tombstones/sha256/{AbcHex}"),
        [nameof(StoragePaths.GcJournalBucket)] = (() => StoragePaths.GcJournalBucket("2026120421"), "/docker/registry/v2/berth/gc/journal/2026120421"),
        [nameof(StoragePaths.GcJournalEntry)] = (() => StoragePaths.GcJournalEntry("2026120421", "x1"), "/docker/registry/v2/berth/gc/journal/2026120421/x1"),
        [nameof(StoragePaths.GcRun)] = (() => StoragePaths.GcRun("r1"), "/docker/registry/v2/berth/gc/runs/r1"),
        [nameof(StoragePaths.CatalogRoot)] = (() => StoragePaths.CatalogRoot, "/docker/registry/v2/berth/catalog"),
        [nameof(StoragePaths.CatalogRepositoriesRoot)] = (() => StoragePaths.CatalogRepositoriesRoot, "/docker/registry/v2/berth/catalog/repositories"),
        [nameof(StoragePaths.CatalogReconciled)] = (() => StoragePaths.CatalogReconciled, "/docker/registry/v2/berth/catalog/reconciled"),
        [nameof(StoragePaths.CatalogRepositoryMarker)] = (() => StoragePaths.CatalogRepositoryMarker(Name), "/docker/registry/v2/berth/catalog/repositories/group:sub:project:image"),
        [nameof(StoragePaths.CatalogMarkerName)] = (() => StoragePaths.CatalogMarkerName("group:sub:project:image"), Name),
        [nameof(StoragePaths.InstancesRoot)] = (() => StoragePaths.InstancesRoot, "/docker/registry/v2/berth/instances"),
        [nameof(StoragePaths.Instance)] = (() => StoragePaths.Instance("host-1234-abcd"), "/docker/registry/v2/berth/instances/host-1234-abcd"),
        [nameof(StoragePaths.QuarantineItem)] = (() => StoragePaths.QuarantineItem("20261204T120000Z-0001"), "/docker/registry/v2/berth/quarantine/20261204T120000Z-0001"),
        [nameof(StoragePaths.QuarantineJournal)] = (() => StoragePaths.QuarantineJournal("20261204T120000Z-0001"), "/docker/registry/v2/berth/quarantine/20261204T120000Z-0001/journal.json"),
        [nameof(StoragePaths.QuarantineObject)] = (() => StoragePaths.QuarantineObject("20261204T120000Z-0001", StoragePaths.TagCurrentLink(Name, "v1")), $"/docker/registry/v2/berth/quarantine/20261204T120000Z-0001/objects{Repo}/_manifests/tags/v1/current/link"),
        [nameof(StoragePaths.LayersDirName)] = (() => StoragePaths.LayersDirName, "_layers"),
        [nameof(StoragePaths.ManifestsDirName)] = (() => StoragePaths.ManifestsDirName, "_manifests"),
        [nameof(StoragePaths.UploadsDirName)] = (() => StoragePaths.UploadsDirName, "_uploads"),
        [nameof(StoragePaths.ReferrersDirName)] = (() => StoragePaths.ReferrersDirName, "_referrers"),
        [nameof(StoragePaths.BlobAlgorithmDirectory)] = (() => StoragePaths.BlobAlgorithmDirectory("sha256"), "/docker/registry/v2/blobs/sha256"),
        [nameof(StoragePaths.BlobDirectory)] = (() => StoragePaths.BlobDirectory(Abc), $"/docker/registry/v2/blobs/sha256/ba/{AbcHex}"),
        [nameof(StoragePaths.BlobData)] = (() => StoragePaths.BlobData(Abc), $"/docker/registry/v2/blobs/sha256/ba/{AbcHex}/data"),
        [nameof(StoragePaths.Repository)] = (() => StoragePaths.Repository(Name), Repo),
        [nameof(StoragePaths.LayersDirectory)] = (() => StoragePaths.LayersDirectory(Name), $"{Repo}/_layers"),
        [nameof(StoragePaths.LayerLinkDirectory)] = (() => StoragePaths.LayerLinkDirectory(Name, Abc), $"{Repo}/_layers/sha256/{AbcHex}"),
        [nameof(StoragePaths.LayerLink)] = (() => StoragePaths.LayerLink(Name, Abc), $"{Repo}/_layers/sha256/{AbcHex}/link"),
        [nameof(StoragePaths.ManifestsDirectory)] = (() => StoragePaths.ManifestsDirectory(Name), $"{Repo}/_manifests"),
        [nameof(StoragePaths.RevisionsDirectory)] = (() => StoragePaths.RevisionsDirectory(Name), $"{Repo}/_manifests/revisions"),
        [nameof(StoragePaths.RevisionDirectory)] = (() => StoragePaths.RevisionDirectory(Name, Abc), $"{Repo}/_manifests/revisions/sha256/{AbcHex}"),
        [nameof(StoragePaths.RevisionLink)] = (() => StoragePaths.RevisionLink(Name, Abc), $"{Repo}/_manifests/revisions/sha256/{AbcHex}/link"),
        [nameof(StoragePaths.TagsDirectory)] = (() => StoragePaths.TagsDirectory(Name), $"{Repo}/_manifests/tags"),
        [nameof(StoragePaths.TagDirectory)] = (() => StoragePaths.TagDirectory(Name, Tag), $"{Repo}/_manifests/tags/{Tag}"),
        [nameof(StoragePaths.TagCurrentLink)] = (() => StoragePaths.TagCurrentLink(Name, Tag), $"{Repo}/_manifests/tags/{Tag}/current/link"),
        [nameof(StoragePaths.TagIndexDirectory)] = (() => StoragePaths.TagIndexDirectory(Name, Tag), $"{Repo}/_manifests/tags/{Tag}/index"),
        [nameof(StoragePaths.TagIndexLink)] = (() => StoragePaths.TagIndexLink(Name, Tag, Abc), $"{Repo}/_manifests/tags/{Tag}/index/sha256/{AbcHex}/link"),
        [nameof(StoragePaths.UploadsDirectory)] = (() => StoragePaths.UploadsDirectory(Name), $"{Repo}/_uploads"),
        [nameof(StoragePaths.UploadDirectory)] = (() => StoragePaths.UploadDirectory(Name, Upload), $"{Repo}/_uploads/{Upload}"),
        [nameof(StoragePaths.UploadData)] = (() => StoragePaths.UploadData(Name, Upload), $"{Repo}/_uploads/{Upload}/data"),
        [nameof(StoragePaths.UploadStartedAt)] = (() => StoragePaths.UploadStartedAt(Name, Upload), $"{Repo}/_uploads/{Upload}/startedat"),
        [nameof(StoragePaths.ReferrersDirectory)] = (() => StoragePaths.ReferrersDirectory(Name, Abc), $"{Repo}/_referrers/sha256/{AbcHex}"),
        [nameof(StoragePaths.ReferrerDirectory)] = (() => StoragePaths.ReferrerDirectory(Name, Abc, EmptySha512), $"{Repo}/_referrers/sha256/{AbcHex}/sha512/{EmptySha512Hex}"),
        [nameof(StoragePaths.ReferrerLink)] = (() => StoragePaths.ReferrerLink(Name, Abc, EmptySha512), $"{Repo}/_referrers/sha256/{AbcHex}/sha512/{EmptySha512Hex}/link"),
    };

    public static TheoryData<string> Members => [.. Golden.Keys];

    [Theory]
    [MemberData(nameof(Members))]
    public void Member_ProducesGoldenPath(string member)
    {
        var (actual, expected) = Golden[member];

        Assert.Equal(expected, actual());
    }

    [Fact]
    public void EveryPublicMember_HasAGoldenEntry()
    {
        var members = typeof(StoragePaths)
            .GetMembers(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly)
            .Where(m => m is FieldInfo { FieldType: var t } && t == typeof(string) || m is MethodInfo { ReturnType: var r, IsSpecialName: false } && r == typeof(string))
            .Select(m => m.Name)
            .ToHashSet();

        Assert.Equal(members.Order(StringComparer.Ordinal), Golden.Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Members))]
    public void Member_IsAValidDriverPathOrName(string member)
    {
        var value = Golden[member].Actual();

        Assert.True(value.StartsWith('/') ? StoragePath.IsValid(value) : StoragePath.IsValid("/" + value), value);
    }

    [Fact]
    public void BlobDirectory_Sha512_UsesFirstTwoHexCharacters()
    {
        Assert.Equal($"/docker/registry/v2/blobs/sha512/cf/{EmptySha512Hex}/data", StoragePaths.BlobData(EmptySha512));
    }

    [Fact]
    public void Repository_SingleSegmentName()
    {
        Assert.Equal("/docker/registry/v2/repositories/busybox/_manifests/tags/latest/current/link", StoragePaths.TagCurrentLink("busybox", "latest"));
    }

    [Fact]
    public void CatalogRepositoryMarker_OfALongestName_IsOneFileNameOfAtMost255Bytes()
    {
        var name = string.Join('/', Enumerable.Repeat(new string('a', 49), 5)) + "/bcdef"; // 255 characters
        var marker = StoragePaths.CatalogRepositoryMarker(name);

        Assert.Equal(255, name.Length);
        Assert.Equal(StoragePaths.CatalogRepositoriesRoot, StoragePath.Parent(marker));
        Assert.Equal(255, StoragePath.FileName(marker).Length);
        Assert.Equal(name, StoragePaths.CatalogMarkerName(StoragePath.FileName(marker)));
    }

    [Fact]
    public void TryParseDigestDirectory_RecoversDigestFromPathSegments()
    {
        Assert.True(StoragePaths.TryParseDigestDirectory("sha256", EmptyHex, out var digest));
        Assert.Equal(Empty, digest);
        Assert.Same(EmptyHex, digest.Hex); // the path's own string, not a copy
        Assert.False(StoragePaths.TryParseDigestDirectory("sha256", "e3", out _));
        Assert.False(StoragePaths.TryParseDigestDirectory("sha256:", EmptyHex, out _));
        Assert.False(StoragePaths.TryParseDigestDirectory("", EmptyHex, out _));
        Assert.False(StoragePaths.TryParseDigestDirectory("md5", EmptyHex, out _));
        Assert.False(StoragePaths.TryParseDigestDirectory("sha256", EmptyHex.ToUpperInvariant(), out _));
    }
}
