using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using Berth.Core.Manifests;
using Berth.GarbageCollection.Tests.Support;
using Berth.Storage.Layout;
using Xunit.Abstractions;

namespace Berth.GarbageCollection.Tests;

/// <summary>
/// Berth's collector against CNCF Distribution's (Debian's docker-registry 2.8) on the same storage,
/// written by docker-registry and by berth serve, pushed with skopeo from OCI layouts written here.
/// The dry runs select the same blobs, except where Distribution is known to be wrong: with
/// --delete-untagged it deletes the configs and layers of a multi-arch index's children (and referrers
/// of tagged images, which it does not know). After a real run every tag pulls through both registries.
/// </summary>
public sealed partial class DistributionAnchorTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("berth-gc-anchor-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [GeneratedRegex(@"^blob eligible for deletion: (sha256:[0-9a-f]{64})\s*$", RegexOptions.Multiline)]
    private static partial Regex EligibleBlob();

    [GeneratedRegex(@"^manifest eligible for deletion: (sha256:[0-9a-f]{64})\s*$", RegexOptions.Multiline)]
    private static partial Regex EligibleManifest();

    /// <summary>What the test pushes, and which blobs are garbage by construction.</summary>
    private sealed class Content(OciLayout layout)
    {
        public (Blob Manifest, Blob Config, Blob[] Layers) A { get; } = layout.Image("amd64", "base", "only in A");
        public (Blob Manifest, Blob Config, Blob[] Layers) B { get; } = layout.Image("amd64", "base", "only in B");
        public (Blob Manifest, Blob Config, Blob[] Layers) C { get; } = layout.Image("amd64", "base", "only in C");
        public (Blob Manifest, Blob Config, Blob[] Layers) D { get; } = layout.Image("amd64", "base", "only in D");
        public (Blob Manifest, Blob Config, Blob[] Layers) E { get; } = layout.Image("amd64", "only in E");
        public (Blob Manifest, Blob Config, Blob[] Layers) Amd { get; } = layout.Image("amd64", "base", "only in the amd64 child");
        public (Blob Manifest, Blob Config, Blob[] Layers) Arm { get; } = layout.Image("arm64", "base", "only in the arm64 child");
        public Blob EmptyConfig { get; } = Blob.Text("{}");
        public Blob Signature { get; } = Blob.Text("signature of D " + Guid.NewGuid());
        public Blob Orphan { get; } = Blob.Text("uploaded, never referenced " + Guid.NewGuid());
        public Blob Index { get; set; } = null!;
        public Blob Referrer { get; set; } = null!;

        /// <summary>Garbage either way: E (its manifest deleted by digest) and an orphan upload.</summary>
        public HashSet<Digest> Unreferenced => [E.Manifest.Digest, E.Config.Digest, .. E.Layers.Select(l => l.Digest), Orphan.Digest];

        /// <summary>Garbage once untagged manifests go: A, re-tagged away.</summary>
        public HashSet<Digest> Untagged => [A.Manifest.Digest, A.Config.Digest, A.Layers[1].Digest];

        /// <summary>What Distribution also deletes with --delete-untagged, wrongly: the index children's configs and own layers...</summary>
        public HashSet<Digest> IndexChildrenContent => [Amd.Config.Digest, Amd.Layers[1].Digest, Arm.Config.Digest, Arm.Layers[1].Digest];

        /// <summary>...and the referrer of a tagged image with its blobs.</summary>
        public HashSet<Digest> ReferrerContent => [Referrer.Digest, EmptyConfig.Digest, Signature.Digest];
    }

    private async Task<Content> PushAsync(string host)
    {
        var layout = new OciLayout(Path.Combine(_work, "layout"));
        var c = new Content(layout);
        layout.Tag("a", c.A.Manifest);
        layout.Tag("b", c.B.Manifest);
        layout.Tag("c", c.C.Manifest);
        layout.Tag("d", c.D.Manifest);
        layout.Tag("e", c.E.Manifest);
        c.Index = layout.IndexOf((c.Amd.Manifest, "amd64"), (c.Arm.Manifest, "arm64"));
        layout.Tag("multi", c.Index, MediaTypes.OciIndex);

        async Task Skopeo(params string[] args)
        {
            var r = await Tools.SkopeoAsync(args);
            Assert.True(r.ExitCode == 0, $"skopeo {string.Join(' ', args)}: {r}");
        }
        var dest = $"docker://{host}";
        await Skopeo("copy", "--dest-tls-verify=false", $"oci:{layout.Root}:a", $"{dest}/lib/base:v1");
        await Skopeo("copy", "--dest-tls-verify=false", $"oci:{layout.Root}:b", $"{dest}/lib/base:v2");
        await Skopeo("copy", "--dest-tls-verify=false", $"oci:{layout.Root}:c", $"{dest}/lib/base:v1");
        await Skopeo("copy", "--dest-tls-verify=false", $"oci:{layout.Root}:d", $"{dest}/lib/app:1.0");
        await Skopeo("copy", "--dest-tls-verify=false", $"oci:{layout.Root}:e", $"{dest}/lib/app:old");
        await Skopeo("delete", "--tls-verify=false", $"{dest}/lib/app:old");
        await Skopeo("copy", "--all", "--dest-tls-verify=false", $"oci:{layout.Root}:multi", $"{dest}/multi/arch:1");

        // A signature of lib/app:1.0 (a referrer, pushed by digest) and a blob nothing references.
        using var http = new HttpClient { BaseAddress = new Uri($"http://{host}") };
        foreach (var blob in new[] { c.EmptyConfig, c.Signature, c.Orphan })
        {
            await UploadAsync(http, "lib/app", blob);
        }
        c.Referrer = Manifests.Image(c.EmptyConfig, [c.Signature], c.D.Manifest, "application/vnd.example.signature");
        var put = new ByteArrayContent(c.Referrer.Content);
        put.Headers.ContentType = new MediaTypeHeaderValue(MediaTypes.OciManifest);
        using var response = await http.PutAsync($"/v2/lib/app/manifests/{c.Referrer.Digest}", put);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return c;
    }

    private static async Task UploadAsync(HttpClient http, string repository, Blob blob)
    {
        using var start = await http.PostAsync($"/v2/{repository}/blobs/uploads/", null);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var location = start.Headers.Location!.ToString();
        var url = location + (location.Contains('?') ? "&" : "?") + "digest=" + blob.Digest;
        using var finish = await http.PutAsync(url, new ByteArrayContent(blob.Content));
        Assert.Equal(HttpStatusCode.Created, finish.StatusCode);
    }

    private async Task<(HashSet<Digest> Blobs, HashSet<Digest> Manifests)> DistributionDryRunAsync(string config, bool deleteUntagged)
    {
        var r = await Tools.RunAsync(Tools.Require("docker-registry"),
            deleteUntagged ? ["garbage-collect", "--dry-run", "--delete-untagged", config] : ["garbage-collect", "--dry-run", config]);
        Assert.True(r.ExitCode == 0, r.ToString());
        return ([.. EligibleBlob().Matches(r.Stdout).Select(m => Digest.Parse(m.Groups[1].Value))],
            [.. EligibleManifest().Matches(r.Stdout).Select(m => Digest.Parse(m.Groups[1].Value))]);
    }

    private async Task<JsonDocument> BerthGcAsync(string config, params string[] flags)
    {
        string[] mode = flags.Contains("--delete") ? [] : ["--dry-run"];
        var r = await Tools.BerthAsync(["gc", "--config", config, "--grace", "0s", "--format", "json", .. mode, .. flags]);
        Assert.True(r.ExitCode == 0, r.ToString());
        output.WriteLine($"berth gc {string.Join(' ', flags)}: " + JsonSerializer.Serialize(JsonDocument.Parse(r.Stdout).RootElement.GetProperty("summary")));
        return JsonDocument.Parse(r.Stdout);
    }

    private static HashSet<Digest> Blobs(JsonDocument report) =>
        [.. report.RootElement.GetProperty("blobs").EnumerateArray().Select(b => Digest.Parse(b.GetProperty("digest").GetString()!))];

    private static HashSet<Digest> RemovedManifests(JsonDocument report) =>
        [.. report.RootElement.GetProperty("manifests").EnumerateArray().Select(b => Digest.Parse(b.GetProperty("digest").GetString()!))];

    /// <summary>Both dry runs, both modes; then a real run; then every tag pulls through docker-registry and berth serve.</summary>
    private async Task CompareCollectAndPullAsync(Content c, string root, string config)
    {
        var distribution = await DistributionDryRunAsync(config, deleteUntagged: false);
        var berth = await BerthGcAsync(config);
        Assert.Equal(c.Unreferenced, distribution.Blobs);
        Assert.Equal(distribution.Blobs, Blobs(berth));

        var distributionUntagged = await DistributionDryRunAsync(config, deleteUntagged: true);
        var berthUntagged = await BerthGcAsync(config, "--delete-untagged");
        var expected = c.Unreferenced.Union(c.Untagged).ToHashSet();
        Assert.Equal(expected, Blobs(berthUntagged));
        Assert.Equal([c.A.Manifest.Digest], RemovedManifests(berthUntagged));

        // Where Distribution is wrong: it would delete the index children's configs and layers (keeping the
        // child manifests themselves, which the index names) and the referrer of a tagged image.
        Assert.Empty(Blobs(berthUntagged).Except(distributionUntagged.Blobs));
        Assert.Equal(c.IndexChildrenContent.Union(c.ReferrerContent).ToHashSet(), distributionUntagged.Blobs.Except(Blobs(berthUntagged)).ToHashSet());
        Assert.Superset(new HashSet<Digest> { c.Amd.Manifest.Digest, c.Arm.Manifest.Digest, c.Referrer.Digest }, distributionUntagged.Manifests);

        // The real run.
        var real = await BerthGcAsync(config, "--delete", "--delete-untagged");
        Assert.Equal(expected, Blobs(real));
        foreach (var digest in expected)
        {
            Assert.False(File.Exists(Path.Combine(root, "docker/registry/v2/blobs/sha256", digest.Hex[..2], digest.Hex, "data")));
        }
        Assert.Empty((await DistributionDryRunAsync(config, deleteUntagged: false)).Blobs);

        var distributionPort = Tools.FreePort();
        await using (var registry = await RegistryProcess.StartDistributionAsync(
            RegistryProcess.WriteDistributionConfig(_work, root, distributionPort), distributionPort))
        {
            await PullEverythingAsync(registry.Host, c);
        }
        var berthPort = Tools.FreePort();
        await using (var registry = await RegistryProcess.StartBerthAsync(root, berthPort))
        {
            await PullEverythingAsync(registry.Host, c);
        }
    }

    private async Task PullEverythingAsync(string host, Content c)
    {
        foreach (var (reference, all) in new[] { ("lib/base:v1", false), ("lib/base:v2", false), ("lib/app:1.0", false), ("multi/arch:1", true) })
        {
            var target = Path.Combine(_work, "pulled-" + Guid.NewGuid().ToString("N"));
            string[] args = all
                ? ["copy", "--all", "--src-tls-verify=false", $"docker://{host}/{reference}", $"oci:{target}:x"]
                : ["copy", "--src-tls-verify=false", $"docker://{host}/{reference}", $"oci:{target}:x"];
            var r = await Tools.SkopeoAsync(args);
            Assert.True(r.ExitCode == 0, $"pull {reference} from {host}: {r}");
        }
        using var http = new HttpClient { BaseAddress = new Uri($"http://{host}") };
        using var get = new HttpRequestMessage(HttpMethod.Get, $"/v2/lib/app/manifests/{c.Referrer.Digest}");
        get.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(MediaTypes.OciManifest));
        using var response = await http.SendAsync(get);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        foreach (var blob in new[] { c.EmptyConfig, c.Signature })
        {
            Assert.Equal(blob.Content, await http.GetByteArrayAsync($"/v2/lib/app/blobs/{blob.Digest}"));
        }
    }

    [Fact]
    public async Task OnStorageWrittenByDistribution_SelectsWhatDistributionSelects_ExceptIndexChildrenAndReferrers()
    {
        Tools.Require("skopeo");
        var root = Path.Combine(_work, "data");
        var port = Tools.FreePort();
        var config = RegistryProcess.WriteDistributionConfig(_work, root, port);
        Content content;
        await using (var registry = await RegistryProcess.StartDistributionAsync(config, port))
        {
            content = await PushAsync(registry.Host);
        }
        await CompareCollectAndPullAsync(content, root, config);
    }

    [Fact]
    public async Task OnStorageWrittenByBerth_SelectsWhatDistributionSelects_ExceptIndexChildrenAndReferrers()
    {
        Tools.Require("skopeo");
        Tools.Require("docker-registry");
        var root = Path.Combine(_work, "data");
        var port = Tools.FreePort();
        var config = RegistryProcess.WriteDistributionConfig(_work, root, port);
        Content content;
        await using (var registry = await RegistryProcess.StartBerthAsync(root, port))
        {
            content = await PushAsync(registry.Host);
        }
        // The pushes just announced every digest they used; a collection within the journal window keeps those.
        // No registry runs now, so dropping the journal is what waiting five minutes would do.
        var journal = Path.Combine(root, "docker/registry/v2/berth/gc/journal");
        Assert.True(Directory.Exists(journal));
        Directory.Delete(journal, recursive: true);
        await CompareCollectAndPullAsync(content, root, config);
    }
}
