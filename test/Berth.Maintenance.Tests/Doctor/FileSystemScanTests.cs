using Berth.Maintenance.Doctor;
using Berth.Maintenance.Tests.Support;
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
}
