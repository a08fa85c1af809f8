using System.Net;
using System.Text.Json;
using Berth.Maintenance.Doctor;
using Berth.Maintenance.Tests.Support;
using Berth.Storage.FileSystem;
using Berth.Storage.Layout;
using DoctorApi = Berth.Maintenance.Doctor.Doctor;

namespace Berth.Maintenance.Tests.EndToEnd;

/// <summary>
/// Proof on real foreign storage: images pushed by skopeo into CNCF Distribution's registry, the storage then
/// broken in each way the runbook describes, and doctor run on it: it must report exactly those findings, repair
/// must quarantine them so that the registry serves every remaining tag and answers 404 (not 500) for the removed
/// ones, and restore must bring them back byte for byte.
/// </summary>
public sealed class DistributionStorageTests : IAsyncLifetime
{
    private const string Good = "group/sub/project/image";
    private DistributionRegistry _registry = null!;
    private readonly TempDirectory _layouts = new();

    public async Task InitializeAsync() => _registry = await DistributionRegistry.StartAsync();

    public async Task DisposeAsync()
    {
        await _registry.DisposeAsync();
        _layouts.Dispose();
    }

    private string Layout(string name)
    {
        var dir = _layouts.Combine(name);
        Directory.CreateDirectory(dir);
        return dir;
    }

    private string V2(string relative) => Path.Combine(_registry.DataDirectory, "docker/registry/v2", relative);

    private static string Hex(string digest) => digest["sha256:".Length..];

    /// <summary>Every file under the storage root with its bytes (the quarantine area excluded).</summary>
    private SortedDictionary<string, string> Snapshot()
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(_registry.DataDirectory, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(_registry.DataDirectory, file);
            if (!relative.StartsWith("docker/registry/v2/berth/", StringComparison.Ordinal))
            {
                result[relative] = Convert.ToHexString(File.ReadAllBytes(file));
            }
        }
        return result;
    }

    private static string[] Describe(DoctorReport report) =>
        [.. report.Findings.Select(f => $"{f.Name} {f.Repository ?? "-"} {f.Tag ?? f.Digest ?? "-"}").Order(StringComparer.Ordinal)];

    [Fact]
    public async Task RunbookBreakages_FoundExactly_Repaired_Served_Restored()
    {
        // Healthy images: two tags sharing a base layer, a Docker v2s2 copy, a two-platform index.
        var good = Layout("good");
        OciLayout.WriteImage(good, "v1", [1, 2]);
        OciLayout.WriteImage(good, "v2", [1, 3]);
        OciLayout.WriteIndex(good, "multi", [1, 4], [5, 6]);
        await _registry.PushAsync(good, "v1", Good);
        await _registry.PushAsync(good, "v2", Good);
        await _registry.PushAsync(good, "v1", Good + "-docker", format: "v2s2");
        await _registry.PushAsync(good, "multi", Good, all: true);

        // One repository per breakage, each image with a layer of its own.
        var broken = Layout("broken");
        OciLayout.WriteImage(broken, "latest", [1, 10]);
        await _registry.PushAsync(broken, "latest", "broken/empty-link");
        OciLayout.WriteImage(broken, "stable", [1, 11]);
        await _registry.PushAsync(broken, "stable", "broken/empty-link");
        OciLayout.WriteImage(broken, "latest", [1, 12]);
        await _registry.PushAsync(broken, "latest", "broken/missing-layers");
        OciLayout.WriteImage(broken, "latest", [1, 13]);
        await _registry.PushAsync(broken, "latest", "broken/deleted-blob");
        OciLayout.WriteImage(broken, "latest", [1, 14]);
        await _registry.PushAsync(broken, "latest", "broken/truncated");
        OciLayout.WriteImage(broken, "latest", [1, 15]);
        await _registry.PushAsync(broken, "latest", "broken/garbage-link");

        var driver = new FileSystemDriver(_registry.DataDirectory);
        var clean = await DoctorApi.ScanAsync(driver, null, new DoctorOptions { VerifyContent = true });
        Assert.Empty(clean.Findings);
        Assert.Equal(7, clean.Summary.RepositoriesScanned);
        Assert.Equal(10, clean.Summary.TagsScanned);

        // Runbook failure mode 2: current/link empty.
        await File.WriteAllBytesAsync(V2("repositories/broken/empty-link/_manifests/tags/latest/current/link"), []);
        // Runbook failure mode 1: the tag's links reference a layer missing from _layers and from the bucket.
        var layer12 = OciLayout.DigestOf(OciLayout.Layer(12, out _));
        Directory.Delete(V2($"repositories/broken/missing-layers/_layers/sha256/{Hex(layer12)}"), recursive: true);
        Directory.Delete(V2($"blobs/sha256/{Hex(layer12)[..2]}/{Hex(layer12)}"), recursive: true);
        // Blob data deleted (the _layers link stays).
        var layer13 = OciLayout.DigestOf(OciLayout.Layer(13, out _));
        File.Delete(V2($"blobs/sha256/{Hex(layer13)[..2]}/{Hex(layer13)}/data"));
        // A truncated blob.
        var layer14 = OciLayout.DigestOf(OciLayout.Layer(14, out _));
        var truncated = V2($"blobs/sha256/{Hex(layer14)[..2]}/{Hex(layer14)}/data");
        await File.WriteAllBytesAsync(truncated, (await File.ReadAllBytesAsync(truncated))[..100]);
        // Garbage in a link ("invalid checksum digest format").
        await File.WriteAllTextAsync(V2("repositories/broken/garbage-link/_manifests/tags/latest/current/link"), "\0\0\0\0garbage");

        // Distribution answers the runbook's 500 for the broken links.
        Assert.Equal(HttpStatusCode.InternalServerError, await _registry.ManifestStatusAsync("broken/empty-link", "latest"));
        Assert.Equal(HttpStatusCode.InternalServerError, await _registry.ManifestStatusAsync("broken/garbage-link", "latest"));

        var report = await DoctorApi.ScanAsync(driver, null, new DoctorOptions { VerifyContent = true });
        string[] expected =
        [
            $"blob-corrupt - {layer14}",
            $"layer-corrupt broken/truncated latest",
            $"layer-link-dangling broken/deleted-blob {layer13}",
            $"layer-missing broken/deleted-blob latest",
            $"layer-missing broken/missing-layers latest",
            $"tag-link-empty broken/empty-link latest",
            $"tag-link-invalid broken/garbage-link latest",
        ];
        Assert.Equal(expected, Describe(report));
        Assert.Equal(6, report.Summary.Errors);
        Assert.Equal(1, report.Summary.Warnings);
        Assert.StartsWith("runbook 2", report.Findings.Single(f => f.Class == FindingClass.TagLinkEmpty).FailureMode);
        Assert.StartsWith("runbook 1", report.Findings.Single(f => f.Repository == "broken/missing-layers").FailureMode);

        // Without --verify-content the truncated blob still shows, by its size.
        Assert.Contains("layer-size-mismatch broken/truncated latest", Describe(await DoctorApi.ScanAsync(driver)));

        // Dry run: a plan, nothing changed.
        var beforeRepair = Snapshot();
        var plan = await BerthCli.RunAsync("doctor", "--data", _registry.DataDirectory, "--verify-content", "--repair");
        Assert.Equal(1, plan.ExitCode);
        Assert.Contains("dry run", plan.Stdout);
        Assert.Equal(beforeRepair, Snapshot());

        // Repair through the real command.
        var repair = await BerthCli.RunAsync("doctor", "--data", _registry.DataDirectory, "--verify-content", "--repair", "--yes", "--format", "json");
        Assert.True(repair.ExitCode == 0, repair.Stdout + repair.Stderr);
        var ids = new List<string>();
        using (var doc = JsonDocument.Parse(repair.Stdout))
        {
            foreach (var f in doc.RootElement.GetProperty("findings").EnumerateArray())
            {
                Assert.Equal(JsonValueKind.String, f.GetProperty("quarantineId").ValueKind);
            }
            foreach (var item in doc.RootElement.GetProperty("repair").GetProperty("items").EnumerateArray())
            {
                Assert.Equal("quarantined", item.GetProperty("status").GetString());
                ids.Add(item.GetProperty("quarantineId").GetString()!);
            }
        }
        Assert.Equal(7, ids.Count); // five tag folders, one dangling link, one corrupt blob (with its link)

        // A second scan finds nothing; a second repair does nothing.
        Assert.Empty((await DoctorApi.ScanAsync(driver, null, new DoctorOptions { VerifyContent = true })).Findings);
        var afterRepair = Snapshot();
        var again = await BerthCli.RunAsync("doctor", "--data", _registry.DataDirectory, "--verify-content", "--repair", "--yes");
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("nothing to repair", again.Stdout);
        Assert.Equal(afterRepair, Snapshot());

        // Distribution serves every remaining tag, blobs and all, and answers 404 (not 500) for the removed ones.
        foreach (var (name, tag, all) in new[] { (Good, "v1", false), (Good, "v2", false), (Good + "-docker", "v1", false), (Good, "multi", true), ("broken/empty-link", "stable", false) })
        {
            var pull = await _registry.PullAsync(name, tag, all);
            Assert.True(pull.ExitCode == 0, $"{name}:{tag}: {pull.Output}");
        }
        foreach (var name in new[] { "broken/empty-link", "broken/missing-layers", "broken/deleted-blob", "broken/truncated", "broken/garbage-link" })
        {
            Assert.Equal(HttpStatusCode.NotFound, await _registry.ManifestStatusAsync(name, "latest"));
        }

        // The quarantine lists every item; restoring them all gives back the storage byte for byte.
        var list = await BerthCli.RunAsync("doctor", "quarantine", "list", "--data", _registry.DataDirectory, "--format", "json");
        Assert.Equal(0, list.ExitCode);
        using (var doc = JsonDocument.Parse(list.Stdout))
        {
            Assert.Equal(ids.Order(), doc.RootElement.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()!).Order());
        }
        foreach (var id in ids)
        {
            var restore = await BerthCli.RunAsync("doctor", "restore", id, "--data", _registry.DataDirectory);
            Assert.True(restore.ExitCode == 0, restore.Stdout + restore.Stderr);
        }
        Assert.Equal(beforeRepair, Snapshot());
        Assert.Equal(expected, Describe(await DoctorApi.ScanAsync(driver, null, new DoctorOptions { VerifyContent = true })));
        Assert.Empty(await DoctorApi.ListQuarantineAsync(driver));
    }

    [Fact]
    public async Task RequestPathsFromLogs_ClassifiedOnDistributionStorage()
    {
        var layout = Layout("img");
        OciLayout.WriteImage(layout, "latest", [21]);
        await _registry.PushAsync(layout, "latest", "someuser/really-awesome-project");
        await _registry.PushAsync(layout, "latest", "otheruser/backend/backup");
        await File.WriteAllBytesAsync(V2("repositories/someuser/really-awesome-project/_manifests/tags/latest/current/link"), []);
        var paths = _layouts.Combine("paths.txt");
        await File.WriteAllTextAsync(paths, """
                174 /v2/someuser/really-awesome-project/manifests/latest
                141 /v2/otheruser/backend/backup/manifests/latest
                 67 /v2/anotheruser/dev/image/manifests/ecec8e83437ef4bf5a161eb47cce4cdfe285b87e

            """);

        var r = await BerthCli.RunAsync("doctor", "--data", _registry.DataDirectory, "--paths", paths, "--format", "json");

        Assert.Equal(1, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal(["broken", "healthy", "not-found"], doc.RootElement.GetProperty("targets").EnumerateArray().Select(t => t.GetProperty("status").GetString()));
        Assert.Equal("tag-link-empty", doc.RootElement.GetProperty("findings")[0].GetProperty("class").GetString());
    }
}
