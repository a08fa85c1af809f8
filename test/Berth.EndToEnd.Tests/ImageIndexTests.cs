using System.Net;
using System.Text;
using Berth.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Berth.EndToEnd.Tests;

/// <summary>A multi-arch image (OCI image index over linux/amd64 and linux/arm64/v8) through berth with
/// skopeo copy --all: the index comes back byte for byte and every platform image is pullable.</summary>
public sealed class ImageIndexTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("group/subgroup/project/multi")]
    [InlineData("org/team-a/sub.group/project_x/service/multi")]
    public async Task ImageIndex_RoundTripsThroughBerth(string name)
    {
        using var temp = new TempDirectory("index");
        var skopeo = new Skopeo(output);
        var layout = new OciLayoutWriter(temp.Sub("source"), seed: 100 + name.Length);
        var index = layout.WriteIndex([300_000, 20_000, 500]);
        layout.Tag(index, "v1");
        await using var berth = await BerthProcess.StartAsync(temp.Sub("data"));
        var repository = $"docker://{berth.Address}/{name}";

        Assert.Equal(index.Digest, await skopeo.CopyForDigestAsync(layout.Reference("v1"), $"{repository}:v1", temp.NewPath("v1.digest"), "--all"));

        // The index exactly as pushed; skopeo inspect reports the index digest and, per platform, that platform's config.
        Assert.Equal(index.ManifestBytes, await skopeo.InspectRawAsync($"{repository}:v1"));
        foreach (var (arch, variant) in new[] { ("amd64", (string?)null), ("arm64", "v8") })
        {
            string[] overrides = variant is null ? ["--override-arch", arch] : ["--override-arch", arch, "--override-variant", variant];
            var inspected = await skopeo.InspectAsync($"{repository}:v1", overrides);
            Assert.Equal(index.Digest, inspected.GetProperty("Digest").GetString());
            Assert.Equal(arch, inspected.GetProperty("Architecture").GetString());
        }

        // Every child manifest: same bytes by digest, and pullable on its own.
        foreach (var child in index.Children)
        {
            Assert.Equal(child.ManifestBytes, await skopeo.InspectRawAsync($"{repository}@{child.Digest}"));
            var childBack = temp.NewPath("child-" + child.Manifest.Architecture);
            await skopeo.CopyAsync($"{repository}@{child.Digest}", $"oci:{childBack}:{child.Manifest.Architecture}");
            ImageAssert.SameImage(layout.Directory, childBack, child.Manifest.Architecture!, child);
        }

        // The whole index back into a layout.
        var back = temp.NewPath("back");
        await skopeo.CopyAsync($"{repository}:v1", $"oci:{back}:v1", "--all");
        ImageAssert.SameImage(layout.Directory, back, "v1", index);
        Assert.Equal(index.ManifestBytes, OciLayout.ReadBlob(back, index.Digest));

        // As a Docker manifest list.
        var listDigest = await skopeo.CopyForDigestAsync(layout.Reference("v1"), $"{repository}:v1-docker", temp.NewPath("docker.digest"), "--all", "--format", "v2s2");
        var listRaw = await skopeo.InspectRawAsync($"{repository}:v1-docker");
        Assert.Equal(listDigest, ImageAssert.Sha256(listRaw));
        Assert.Contains(MediaTypes.DockerManifestList, Encoding.UTF8.GetString(listRaw), StringComparison.Ordinal);
        using (var request = new HttpRequestMessage(HttpMethod.Get, new Uri(berth.BaseUri, $"v2/{name}/manifests/v1-docker")))
        {
            request.Headers.TryAddWithoutValidation("Accept", Http.AcceptManifests);
            using var response = await Http.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(MediaTypes.DockerManifestList, response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(listRaw, await response.Content.ReadAsByteArrayAsync());
        }
        await skopeo.CopyAsync($"{repository}:v1-docker", $"dir:{temp.NewPath("docker-back")}", "--all");

        Assert.Equal(["v1", "v1-docker"], (await skopeo.ListTagsAsync(repository)).Order(StringComparer.Ordinal));

        // Delete by tag, then the index by digest; the tags and the index go.
        using (var response = await Http.Client.DeleteAsync(new Uri(berth.BaseUri, $"v2/{name}/manifests/v1-docker")))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }
        Assert.Equal(["v1"], await skopeo.ListTagsAsync(repository));
        ImageAssert.NotFound(await skopeo.TryInspectAsync($"{repository}:v1-docker"));
        await skopeo.DeleteAsync($"{repository}:v1");
        Assert.Empty(await skopeo.ListTagsAsync(repository));
        ImageAssert.NotFound(await skopeo.TryInspectAsync($"{repository}:v1"));
        ImageAssert.NotFound(await skopeo.TryInspectAsync($"{repository}@{index.Digest}"));

        var storage = DistributionStorage.Check(berth.DataDirectory);
        Assert.True(storage.Problems.Count == 0, storage.Describe());
        Assert.Equal(0, await berth.StopAsync());
        Assert.True(berth.ErrorLines.Count == 0, "berth logged errors:\n" + string.Join("\n", berth.ErrorLines));
    }
}
