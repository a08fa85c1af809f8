using System.Text.Json;
using Berth.Core.Gc;
using Berth.GarbageCollection.Tests.Support;
using Berth.Storage.FileSystem;
using Berth.Storage.Layout;

namespace Berth.GarbageCollection.Tests;

/// <summary>The berth gc command: arguments, output formats, exit statuses (0 clean, 1 error findings, 2 could not run).</summary>
public sealed class GcCommandTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("berth-gc-cli-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>An image and an unreferenced blob, pushed "two hours ago" (so the journal no longer protects them).</summary>
    private async Task<CoreRegistry> StorageAsync()
    {
        var past = new ShiftedTimeProvider();
        past.Advance(TimeSpan.FromHours(-2));
        var registry = new CoreRegistry(new FileSystemDriver(_root, syncToDisk: false), past);
        await registry.PushImageAsync("app", "v1", Manifests.Config("c"), [Blob.Random()]);
        await registry.EnsureBlobAsync("app", Blob.Random());
        return registry;
    }

    [Fact]
    public async Task CleanStorage_DryRun_ExitsZero()
    {
        await StorageAsync();
        var r = await Tools.BerthAsync("gc", "--data", _root, "--grace", "0s", "--dry-run");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("dry run: nothing was deleted", r.Stdout);
        Assert.Contains("would delete 1 blob", r.Stdout);
        Assert.Matches(@"(?m)^blob      sha256:[0-9a-f]{64}  64 B$", r.Stdout);
        Assert.Equal("", r.Stderr);
    }

    [Fact]
    public async Task ErrorFinding_ExitsOne_AndJsonCarriesIt()
    {
        var registry = await StorageAsync();
        await registry.Driver.PutContentAsync(StoragePaths.TagCurrentLink("app", "broken"), Array.Empty<byte>());
        var r = await Tools.BerthAsync("gc", "--data", _root, "--format", "json", "--delete-untagged", "--dry-run");
        Assert.True(r.ExitCode == 1, r.ToString());
        using var json = JsonDocument.Parse(r.Stdout);
        var finding = json.RootElement.GetProperty("findings").EnumerateArray().Single();
        Assert.Equal("tag-link-empty", finding.GetProperty("class").GetString());
        Assert.Equal("error", finding.GetProperty("severity").GetString());
        var summary = json.RootElement.GetProperty("summary");
        Assert.Equal(1, summary.GetProperty("errors").GetInt32());
        Assert.True(summary.GetProperty("dryRun").GetBoolean());
        foreach (var field in new[] { "blobs", "manifests", "links", "uploads" })
        {
            Assert.Equal(JsonValueKind.Array, json.RootElement.GetProperty(field).ValueKind);
        }
    }

    [Fact]
    public async Task RealRun_PrintsASummary()
    {
        await StorageAsync();
        var r = await Tools.BerthAsync("gc", "--data", _root, "--grace", "0s", "--delete");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.StartsWith("deleted 1 blob", r.Stdout);
        Assert.DoesNotContain("sha256:", r.Stdout);
    }

    [Theory]
    [InlineData("--dry-run", "--delete")]
    [InlineData("--grace", "soon")]
    [InlineData("--format", "yaml")]
    [InlineData("--bogus", "x")]
    public async Task BadArguments_ExitTwo(string flag, string value)
    {
        await StorageAsync();
        var r = await Tools.BerthAsync("gc", "--data", _root, flag, value);
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.StartsWith("berth gc: ", r.Stderr);
    }

    [Fact]
    public async Task MissingStorage_ExitsTwo()
    {
        var r = await Tools.BerthAsync("gc", "--data", Path.Combine(_root, "nothing-here"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("does not exist", r.Stderr);
        Assert.False(Directory.Exists(Path.Combine(_root, "nothing-here")));

        r = await Tools.BerthAsync("gc");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--data", r.Stderr);
    }

    [Fact]
    public async Task AnotherDeletingCollection_ExitsTwo()
    {
        var registry = await StorageAsync();
        await registry.Driver.PutContentAsync(StoragePaths.GcRun("someone-else"), "{}"u8.ToArray());
        var r = await Tools.BerthAsync("gc", "--data", _root, "--delete");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("another collection", r.Stderr);
        Assert.False(File.Exists(Path.Combine(_root, "docker/registry/v2/berth/gc/tombstones")));
    }

    [Fact]
    public async Task Config_NamesTheStorage()
    {
        await StorageAsync();
        var config = Path.Combine(_root, "config.yml");
        await File.WriteAllTextAsync(config, $"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {_root}\n  maintenance:\n    readonly:\n      enabled: true\nauth:\n  htpasswd:\n    realm: x\n    path: /nowhere\n");
        var r = await Tools.BerthAsync("gc", "--config", config, "--grace", "0s", "--format", "json", "--dry-run");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Single(JsonDocument.Parse(r.Stdout).RootElement.GetProperty("blobs").EnumerateArray());

        await File.WriteAllTextAsync(config, "version: 0.1\nstorage:\n  s3:\n    bucket: x\n");
        r = await Tools.BerthAsync("gc", "--config", config);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("storage.s3", r.Stderr);
    }

    [Fact]
    public void JournalWindow_CoversTheWriteLimitAndClockSkew()
    {
        var t = GcProtocol.Timings;
        Assert.Equal(t.MaxWriteDuration + t.ClockSkewAllowance, t.JournalWindow);
        Assert.True(t.RunSelfExpiry < t.RunStaleAfter);
    }
}
