using Berth.Maintenance.Doctor;
using Berth.Maintenance.Tests.Support;
using Berth.Storage;
using Berth.Storage.FileSystem;
using Berth.Storage.Layout;
using DoctorApi = Berth.Maintenance.Doctor.Doctor;

namespace Berth.Maintenance.Tests.Doctor;

/// <summary>On a local filesystem doctor lists tag folders instead of walking them; these cases cover that path.</summary>
public sealed class FileSystemScanTests : IDisposable
{
    private const string Repo = "group/app";
    private readonly TempDirectory _dir = new();
    private readonly TestRegistry _registry;

    public FileSystemScanTests() => _registry = new TestRegistry(new FileSystemDriver(_dir.Path, syncToDisk: false));

    public void Dispose() => _dir.Dispose();

    private async Task<string[]> ProblemsAsync()
    {
        var report = await DoctorApi.ScanAsync(_registry.Driver);
        return [.. report.Findings.Where(f => f.Severity >= FindingSeverity.Warning).Select(f => $"{f.Name} {f.Repository} {f.Tag ?? f.Digest}").Order(StringComparer.Ordinal)];
    }

    [Fact]
    public async Task EmptyTagFolder_TagLinkMissing_AndRepairRemovesTheFolder()
    {
        await _registry.PushImageAsync(Repo, "v1");
        Directory.CreateDirectory(Path.Combine(_dir.Path, "docker/registry/v2/repositories/group/app/_manifests/tags/ghost/current"));

        Assert.Equal([$"tag-link-missing {Repo} ghost"], await ProblemsAsync());

        var result = await DoctorApi.RepairAsync(_registry.Driver, await DoctorApi.ScanAsync(_registry.Driver), new RepairOptions { DryRun = false });
        Assert.Single(result.Outcomes);
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "docker/registry/v2/repositories/group/app/_manifests/tags/ghost")));
        Assert.Empty(await ProblemsAsync());
    }

    [Fact]
    public async Task IndexLinkGarbage_AndEmptyDigestFolders()
    {
        var image = await _registry.PushImageAsync(Repo, "v1");
        await _registry.Driver.PutContentAsync(StoragePaths.TagIndexLink(Repo, "v1", image.Manifest), "junk"u8.ToArray());
        Directory.CreateDirectory(Path.Combine(_dir.Path, "docker/registry/v2/repositories/group/app/_layers/sha256/" + new string('a', 64)));
        Directory.CreateDirectory(Path.Combine(_dir.Path, "docker/registry/v2/repositories/group/app/_manifests/revisions/sha256/not-a-digest"));

        Assert.Equal([$"tag-index-invalid {Repo} v1"], await ProblemsAsync());
    }

    [Fact]
    public async Task LayerDeleted_SameFindingsAsInMemory()
    {
        var image = await _registry.PushImageAsync(Repo, "v1");
        await _registry.Driver.DeleteAsync(StoragePaths.BlobData(image.Layers[0]));

        Assert.Equal([$"layer-link-dangling {Repo} {image.Layers[0]}", $"layer-missing {Repo} v1"], await ProblemsAsync());
    }

    /// <summary>The driver reads links and stats blob data while listing (<see cref="IChildObjectReader"/>); a driver
    /// that cannot (here: the same files behind a decorator) takes the usual calls. Both must find the same things,
    /// with the same texts, on storage broken in every way a listing can meet.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ChildObjectReads_SameReportAsPlainCalls(bool verifyContent)
    {
        var images = new List<TestRegistry.Image>();
        foreach (var (repo, tag) in new[] { (Repo, "v1"), (Repo, "v2"), (Repo, "v3"), ("solo", "latest"), ("solo", "old"), ("group/app/sub", "x") })
        {
            images.Add(await _registry.PushImageAsync(repo, tag, [System.Text.Encoding.UTF8.GetBytes($"layer {repo} {tag}"), "shared"u8.ToArray()]));
        }
        var v2 = Path.Combine(_dir.Path, "docker/registry/v2");
        var app = Path.Combine(v2, "repositories/group/app");
        void Write(string path, string content)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, content);
        }
        string Blob(Digest d) => Path.Combine(v2, "blobs", d.Algorithm, d.Hex[..2], d.Hex, "data");
        // Revision links: empty, garbage, missing, a folder that names no digest, an unknown algorithm.
        Write(Path.Combine(app, "_manifests/revisions/sha256", images[0].Manifest.Hex, "link"), "");
        Write(Path.Combine(app, "_manifests/revisions/sha256", images[1].Manifest.Hex, "link"), "sha256:zz");
        File.Delete(Path.Combine(v2, "repositories/solo/_manifests/revisions/sha256", images[3].Manifest.Hex, "link"));
        Write(Path.Combine(app, "_manifests/revisions/sha256/not-a-digest/link"), "x");
        Write(Path.Combine(app, "_manifests/revisions/md5/abc/link"), "x");
        // _layers links: whitespace, another digest, a link that is a folder, a symbolic link to a good link.
        Write(Path.Combine(app, "_layers/sha256", images[0].Layers[0].Hex, "link"), " \n");
        Write(Path.Combine(app, "_layers/sha256", images[1].Layers[0].Hex, "link"), "sha256:" + new string('0', 64));
        Directory.CreateDirectory(Path.Combine(app, "_layers/sha256", new string('b', 64), "link"));
        var solo = Path.Combine(v2, "repositories/solo/_layers/sha256", images[3].Layers[0].Hex, "link");
        File.Delete(solo);
        File.CreateSymbolicLink(solo, Path.Combine(v2, "repositories/solo/_layers/sha256", images[4].Layers[0].Hex, "link"));
        // Tags: current link empty, garbage, missing; an empty tag folder; a file among the tags; index garbage.
        Write(Path.Combine(app, "_manifests/tags/v1/current/link"), "");
        Write(Path.Combine(app, "_manifests/tags/v2/current/link"), "garbage\u0001 that is long enough to be cut in the preview of the finding");
        File.Delete(Path.Combine(v2, "repositories/solo/_manifests/tags/old/current/link"));
        Directory.CreateDirectory(Path.Combine(app, "_manifests/tags/ghost"));
        Write(Path.Combine(app, "_manifests/tags/afile"), "x");
        Write(Path.Combine(app, "_manifests/tags/v3/index/sha256", images[2].Manifest.Hex, "link"), "sha512:abc");
        Write(Path.Combine(app, "_manifests/tags/v3/index/sha256/nothex/link"), "x");
        // Blobs: missing, changed, a data folder, a folder that names no digest.
        File.Delete(Blob(images[5].Layers[0]));
        File.Delete(Blob(images[4].Manifest));
        File.AppendAllText(Blob(images[5].Config), "x");
        Directory.CreateDirectory(Path.Combine(v2, "blobs/sha256/ab", "ab" + new string('c', 62), "data"));
        Write(Path.Combine(v2, "blobs/sha256/zz/notadigest/data"), "x");

        var driver = (FileSystemDriver)_registry.Driver;
        var options = new DoctorOptions { VerifyContent = verifyContent };
        var fast = await DoctorApi.ScanAsync(driver, options: options);
        var plain = await DoctorApi.ScanAsync(new InstrumentedStorageDriver(driver), options: options);

        Assert.True(fast.Findings.Count > 20);
        Assert.Equal(plain.Findings.Select(Describe), fast.Findings.Select(Describe));
        Assert.Equal(plain.Summary with { ByClass = fast.Summary.ByClass }, fast.Summary);
        Assert.Equal(plain.Summary.ByClass.OrderBy(kv => kv.Key), fast.Summary.ByClass.OrderBy(kv => kv.Key));
    }

    private static string Describe(Finding f) =>
        $"{f.Name} {f.Repository} {f.Tag} {f.Digest} {f.Path} {f.Size} {f.Explanation} [{string.Join(", ", f.RelatedPaths ?? [])}]";
}
