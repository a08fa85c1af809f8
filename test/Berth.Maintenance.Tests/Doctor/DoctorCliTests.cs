using System.Text.Json;
using Berth.Core.Instances;
using Berth.Maintenance.Tests.Support;
using Berth.Storage.FileSystem;
using Berth.Storage.Layout;

namespace Berth.Maintenance.Tests.Doctor;

/// <summary>The real <c>berth doctor</c> executable on filesystem storage: flags, formats and exit codes.</summary>
public sealed class DoctorCliTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly TestRegistry _registry;

    public DoctorCliTests()
    {
        _registry = new TestRegistry(new FileSystemDriver(Data, syncToDisk: false));
    }

    private string Data => _dir.Combine("data");

    public void Dispose() => _dir.Dispose();

    private async Task BreakOneTagAsync()
    {
        await _registry.PushImageAsync("group/app", "good");
        await _registry.PushImageAsync("group/app", "bad");
        await _registry.Driver.PutContentAsync(StoragePaths.TagCurrentLink("group/app", "bad"), Array.Empty<byte>());
    }

    [Fact]
    public async Task Healthy_Exit0()
    {
        await _registry.PushImageAsync("group/app", "good");

        var r = await BerthCli.RunAsync("doctor", "--data", Data);

        Assert.Equal(0, r.ExitCode);
        Assert.Contains("no problems found", r.Stdout);
        Assert.Equal("", r.Stderr); // no progress display when stderr is not a terminal
    }

    [Fact]
    public async Task Broken_Exit1_JsonNamesTheFinding()
    {
        await BreakOneTagAsync();

        var r = await BerthCli.RunAsync("doctor", "--data", Data, "--format", "json");

        Assert.Equal(1, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        var f = Assert.Single(doc.RootElement.GetProperty("findings").EnumerateArray());
        Assert.Equal("tag-link-empty", f.GetProperty("class").GetString());
        Assert.Equal("bad", f.GetProperty("tag").GetString());
    }

    [Fact]
    public async Task CouldNotRun_Exit2()
    {
        Assert.Equal(2, (await BerthCli.RunAsync("doctor", "--data", _dir.Combine("missing"))).ExitCode);
        Directory.CreateDirectory(_dir.Combine("empty"));
        var notARegistry = await BerthCli.RunAsync("doctor", "--data", _dir.Combine("empty"));
        Assert.Equal(2, notARegistry.ExitCode);
        Assert.Contains("docker/registry/v2", notARegistry.Stderr);
        await BreakOneTagAsync();
        Assert.Equal(2, (await BerthCli.RunAsync("doctor", "--data", Data, "--format", "xml")).ExitCode);
        Assert.Equal(2, (await BerthCli.RunAsync("doctor", "--data", Data, "--no-such-flag")).ExitCode);
        Assert.Equal(2, (await BerthCli.RunAsync("doctor", "--data", Data, "--upload-age", "soon")).ExitCode);
        Assert.Equal(2, (await BerthCli.RunAsync("doctor", "--data", Data, "--yes")).ExitCode);
        Assert.Equal(2, (await BerthCli.RunAsync("doctor", "restore", "nope", "--data", Data)).ExitCode);
    }

    [Fact]
    public async Task Config_UsesItsFilesystemRoot()
    {
        await BreakOneTagAsync();
        var config = _dir.Combine("config.yml");
        await File.WriteAllTextAsync(config, $"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {Data}\nhttp:\n  addr: 127.0.0.1:5000\n");

        var r = await BerthCli.RunAsync("doctor", "--config", config);

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("tag-link-empty", r.Stdout);
    }

    [Fact]
    public async Task Output_PrometheusToFile()
    {
        await BreakOneTagAsync();
        var file = _dir.Combine("berth_doctor.prom");

        var r = await BerthCli.RunAsync("doctor", "--data", Data, "--format", "prometheus", "--output", file);

        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.Contains("berth_doctor_findings{class=\"tag-link-empty\",severity=\"error\"} 1", await File.ReadAllTextAsync(file));
        Assert.Single(Directory.GetFiles(_dir.Path)); // no temporary file left behind
    }

    [Fact]
    public async Task Paths_ChecksOnlyTheListedRequests()
    {
        await BreakOneTagAsync();
        var list = _dir.Combine("paths.txt");
        await File.WriteAllTextAsync(list, "    174 /v2/group/app/manifests/bad\n\n     12 /v2/group/app/manifests/good\n");

        var r = await BerthCli.RunAsync("doctor", "--data", Data, "--paths", list, "--format", "json");

        Assert.Equal(1, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal(["broken", "healthy"], doc.RootElement.GetProperty("targets").EnumerateArray().Select(t => t.GetProperty("status").GetString()));
    }

    [Fact]
    public async Task RepairDryRun_ThenYes_ThenListAndRestore()
    {
        await BreakOneTagAsync();
        var before = await _registry.SnapshotAsync();

        var plan = await BerthCli.RunAsync("doctor", "--data", Data, "--repair");
        Assert.Equal(1, plan.ExitCode);
        Assert.Contains("dry run", plan.Stdout);
        Assert.Equal(before, await _registry.SnapshotAsync());

        var repair = await BerthCli.RunAsync("doctor", "--data", Data, "--repair", "--yes", "--format", "json");
        Assert.Equal(0, repair.ExitCode);
        string id;
        using (var doc = JsonDocument.Parse(repair.Stdout))
        {
            id = doc.RootElement.GetProperty("findings")[0].GetProperty("quarantineId").GetString()!;
            Assert.Equal(id, doc.RootElement.GetProperty("repair").GetProperty("items")[0].GetProperty("quarantineId").GetString());
        }
        Assert.False(Directory.Exists(Path.Combine(Data, "docker/registry/v2/repositories/group/app/_manifests/tags/bad")));
        Assert.Equal(0, (await BerthCli.RunAsync("doctor", "--data", Data)).ExitCode);

        var list = await BerthCli.RunAsync("doctor", "quarantine", "list", "--data", Data);
        Assert.Equal(0, list.ExitCode);
        Assert.Contains(id, list.Stdout);
        Assert.Contains("group/app:bad", list.Stdout);

        var restore = await BerthCli.RunAsync("doctor", "restore", id, "--data", Data);
        Assert.Equal(0, restore.ExitCode);
        Assert.Equal(before, await _registry.SnapshotAsync());
        Assert.Contains("the quarantine is empty", (await BerthCli.RunAsync("doctor", "quarantine", "list", "--data", Data)).Stdout);
    }

    [Fact]
    public async Task Repair_RefusedWhileLive_Exit2_UnlessForce()
    {
        await BreakOneTagAsync();
        await using (await InstanceHeartbeat.StartAsync(_registry.Driver, "127.0.0.1:5000", TimeProvider.System))
        {
            var refused = await BerthCli.RunAsync("doctor", "--data", Data, "--repair", "--yes");
            Assert.Equal(2, refused.ExitCode);
            Assert.Contains("storage is live", refused.Stderr);
            Assert.True(File.Exists(Path.Combine(Data, "docker/registry/v2/repositories/group/app/_manifests/tags/bad/current/link")));

            Assert.Equal(0, (await BerthCli.RunAsync("doctor", "--data", Data, "--repair", "--yes", "--force")).ExitCode);
        }
    }
}
