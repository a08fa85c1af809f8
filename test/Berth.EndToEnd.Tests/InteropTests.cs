using System.Text.Json;
using Berth.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Berth.EndToEnd.Tests;

/// <summary>
/// Berth and CNCF Distribution (docker-registry) on the same storage directory, both ways: what one
/// wrote with skopeo pushes, the other serves, tag for tag and digest for digest.
/// </summary>
public sealed class InteropTests(ITestOutputHelper output)
{
    private sealed record Pushed(string Repository, string Tag, string Digest, WrittenImage Source, bool DockerFormat);

    [Fact]
    public async Task StorageWrittenByDistribution_IsServedByBerth()
    {
        using var temp = new TempDirectory("interop-d2b");
        var data = temp.Sub("data");
        var skopeo = new Skopeo(output);
        var layout = new OciLayoutWriter(temp.Sub("source"), seed: 31);
        List<Pushed> pushed;
        await using (var distribution = await DistributionRegistryProcess.StartAsync(data, temp.Path))
        {
            pushed = await PushAllAsync(skopeo, layout, distribution, temp);
            Assert.Equal(0, await distribution.StopAsync());
        }
        AssertStorageHealthy(data, pushed);

        await using var berth = await BerthProcess.StartAsync(data);
        await PullAllAsync(skopeo, layout, berth, pushed, temp.Sub("pulled"));
        await AssertSameCatalogAsync(berth, pushed);
        // The start-up reconcile indexes what Distribution wrote; from then on the catalog answers from the index.
        var reconciled = Path.Combine(data, "docker/registry/v2/berth/catalog/reconciled");
        for (var i = 0; i < 300 && !File.Exists(reconciled); i++)
        {
            await Task.Delay(100);
        }
        Assert.True(File.Exists(reconciled), "berth serve did not reconcile its catalog index within 30 s");
        foreach (var repository in pushed.Select(p => p.Repository).Distinct())
        {
            Assert.True(File.Exists(Path.Combine(data, "docker/registry/v2/berth/catalog/repositories", repository.Replace('/', ':'))), repository);
        }
        await AssertSameCatalogAsync(berth, pushed);

        // Berth keeps writing into the storage Distribution made: a new tag over existing blobs.
        var again = pushed[0];
        Assert.Equal(again.Digest, await skopeo.CopyForDigestAsync(layout.Reference("image"), $"docker://{berth.Address}/{again.Repository}:written-by-berth", temp.NewPath("again.digest")));
        pushed.Add(again with { Tag = "written-by-berth" });
        AssertStorageHealthy(data, pushed);
        Assert.Equal(0, await berth.StopAsync());
        Assert.True(berth.ErrorLines.Count == 0, "berth logged errors:\n" + string.Join("\n", berth.ErrorLines));
    }

    [Fact]
    public async Task StorageWrittenByBerth_IsServedByDistribution()
    {
        using var temp = new TempDirectory("interop-b2d");
        var data = temp.Sub("data");
        var skopeo = new Skopeo(output);
        var layout = new OciLayoutWriter(temp.Sub("source"), seed: 32);
        List<Pushed> pushed;
        await using (var berth = await BerthProcess.StartAsync(data))
        {
            pushed = await PushAllAsync(skopeo, layout, berth, temp);
            Assert.Equal(0, await berth.StopAsync());
            Assert.True(berth.ErrorLines.Count == 0, "berth logged errors:\n" + string.Join("\n", berth.ErrorLines));
        }
        AssertStorageHealthy(data, pushed);

        await using var distribution = await DistributionRegistryProcess.StartAsync(data, temp.Path);
        await PullAllAsync(skopeo, layout, distribution, pushed, temp.Sub("pulled"));
        await AssertSameCatalogAsync(distribution, pushed);
        Assert.Equal(0, await distribution.StopAsync());

        // Distribution's own garbage collector walks berth's storage and finds every manifest it marks complete.
        var gc = await ProcessRunner.RunAsync(ExternalTools.DockerRegistry, ["garbage-collect", "--dry-run", distribution.ConfigPath], TimeSpan.FromSeconds(60));
        Assert.True(gc.Succeeded, gc.Describe());
        AssertStorageHealthy(data, pushed);
    }

    /// <summary>OCI and Docker images and indexes, nested names, two tags on one digest, a moved tag, one image in two repositories.</summary>
    private static async Task<List<Pushed>> PushAllAsync(Skopeo skopeo, OciLayoutWriter layout, ServerProcess server, TempDirectory temp)
    {
        var image = layout.WriteImage([250_000, 30_000, 700]);
        var older = layout.WriteImage([5_000, 6_000]);
        var index = layout.WriteIndex([100_000, 8_000]);
        var deep = layout.WriteImage([40_000, 2_000, 300, 50]);
        layout.Tag(image, "image");
        layout.Tag(older, "older");
        layout.Tag(index, "index");
        layout.Tag(deep, "deep");
        (string Repository, string Tag, WrittenImage Source, string SourceTag, string[] Options)[] pushes =
        [
            ("group/subgroup/project/image", "v1", image, "image", []),
            ("group/subgroup/project/image", "stable", image, "image", []),
            ("group/subgroup/project/image", "moved", older, "older", []),
            ("group/subgroup/project/image", "moved", image, "image", []),
            ("group/subgroup/project/image", "v1-docker", image, "image", ["--format", "v2s2"]),
            ("group/subgroup/project/multi", "v1", index, "index", ["--all"]),
            ("group/subgroup/project/multi", "v1-docker", index, "index", ["--all", "--format", "v2s2"]),
            ("org/team-a/sub.group/project_x/service/image", "latest", deep, "deep", []),
            ("other/copy", "v1", image, "image", []),
        ];
        var result = new List<Pushed>();
        var n = 0;
        foreach (var (repository, tag, source, sourceTag, options) in pushes)
        {
            var digest = await skopeo.CopyForDigestAsync(layout.Reference(sourceTag), $"docker://{server.Address}/{repository}:{tag}", temp.NewPath($"push-{n++}.digest"), options);
            var dockerFormat = options.Contains("v2s2");
            if (!dockerFormat)
            {
                Assert.Equal(source.Digest, digest);
            }
            result.RemoveAll(p => p.Repository == repository && p.Tag == tag);
            result.Add(new Pushed(repository, tag, digest, source, dockerFormat));
        }
        return result;
    }

    /// <summary>Every tag pulls with skopeo from <paramref name="server"/>: the same manifest digest and blob bytes.</summary>
    private static async Task PullAllAsync(Skopeo skopeo, OciLayoutWriter layout, ServerProcess server, List<Pushed> pushed, string pulledDir)
    {
        var n = 0;
        foreach (var p in pushed)
        {
            var source = $"docker://{server.Address}/{p.Repository}:{p.Tag}";
            var destination = Path.Combine(pulledDir, $"{n++}");
            string[] options = p.Source.IsIndex ? ["--all"] : [];
            if (!p.DockerFormat)
            {
                // OCI stays OCI: the layout gets the same manifest digest and the same blobs.
                await skopeo.CopyAsync(source, $"oci:{destination}:{p.Tag}", options);
                ImageAssert.SameImage(layout.Directory, destination, p.Tag, p.Source);
            }
            else
            {
                // A Docker manifest would be converted on its way into an OCI layout; dir: keeps it as served.
                await skopeo.CopyAsync(source, $"dir:{destination}", options);
                Assert.Equal(p.Digest, ImageAssert.Sha256(await File.ReadAllBytesAsync(Path.Combine(destination, "manifest.json"))));
            }
            Assert.Equal(p.Digest, ImageAssert.Sha256(await skopeo.InspectRawAsync(source)));
        }
        foreach (var repository in pushed.GroupBy(p => p.Repository))
        {
            Assert.Equal(repository.Select(p => p.Tag).Order(StringComparer.Ordinal), (await skopeo.ListTagsAsync($"docker://{server.Address}/{repository.Key}")).Order(StringComparer.Ordinal));
        }
    }

    private static async Task AssertSameCatalogAsync(ServerProcess server, List<Pushed> pushed)
    {
        using var document = JsonDocument.Parse(await Http.Client.GetByteArrayAsync(new Uri(server.BaseUri, "v2/_catalog")));
        var repositories = document.RootElement.GetProperty("repositories").EnumerateArray().Select(r => r.GetString()).ToList();
        Assert.Equal(pushed.Select(p => p.Repository).Distinct().Order(StringComparer.Ordinal), repositories);
    }

    private void AssertStorageHealthy(string data, List<Pushed> pushed)
    {
        var report = DistributionStorage.Check(data);
        output.WriteLine("storage: " + report.Describe());
        Assert.True(report.Problems.Count == 0, report.Describe());
        foreach (var p in pushed)
        {
            Assert.Contains(new StoredTag(p.Repository, p.Tag, p.Digest), report.Tags);
        }
    }
}
