using System.Net;
using Berth.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Berth.EndToEnd.Tests;

/// <summary>A multi-layer OCI image through berth with skopeo: push to a nested name, inspect, pull
/// back, list tags, push as Docker schema 2, delete by tag and by digest.</summary>
public sealed class SingleImageTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("group/subgroup/project/image")]
    [InlineData("org/team-a/sub.group/project_x/service/image")]
    public async Task Image_RoundTripsThroughBerth(string name)
    {
        using var temp = new TempDirectory("single");
        var skopeo = new Skopeo(output);
        var layout = new OciLayoutWriter(temp.Sub("source"), seed: name.Length);
        var image = layout.WriteImage([600_000, 40_000, 3_000, 100]);
        layout.Tag(image, "v1");
        await using var berth = await BerthProcess.StartAsync(temp.Sub("data"));
        var repository = $"docker://{berth.Address}/{name}";

        // Push: the registry stores the OCI manifest as is.
        Assert.Equal(image.Digest, await skopeo.CopyForDigestAsync(layout.Reference("v1"), $"{repository}:v1", temp.NewPath("v1.digest")));

        // Inspect: same bytes, same digest, same layers.
        Assert.Equal(image.ManifestBytes, await skopeo.InspectRawAsync($"{repository}:v1"));
        var inspected = await skopeo.InspectAsync($"{repository}:v1");
        Assert.Equal(image.Digest, inspected.GetProperty("Digest").GetString());
        Assert.Equal(image.Blobs.Skip(1).Select(b => b.Digest), inspected.GetProperty("Layers").EnumerateArray().Select(l => l.GetString()));
        Assert.Equal("amd64", inspected.GetProperty("Architecture").GetString());

        // Pull back, by tag and by digest: same manifest digest, same blob bytes.
        var back = temp.NewPath("back");
        await skopeo.CopyAsync($"{repository}:v1", $"oci:{back}:v1");
        ImageAssert.SameImage(layout.Directory, back, "v1", image);
        await skopeo.CopyAsync($"{repository}@{image.Digest}", $"oci:{back}:by-digest");
        ImageAssert.SameImage(layout.Directory, back, "by-digest", image);

        // Docker schema 2: skopeo converts the manifest; berth serves it with its own media type.
        var dockerDigest = await skopeo.CopyForDigestAsync(layout.Reference("v1"), $"{repository}:v1-docker", temp.NewPath("docker.digest"), "--format", "v2s2");
        Assert.NotEqual(image.Digest, dockerDigest);
        var dockerRaw = await skopeo.InspectRawAsync($"{repository}:v1-docker");
        Assert.Equal(dockerDigest, ImageAssert.Sha256(dockerRaw));
        Assert.Contains(MediaTypes.DockerManifest, System.Text.Encoding.UTF8.GetString(dockerRaw), StringComparison.Ordinal);
        await AssertManifestResponseAsync(berth, name, "v1-docker", MediaTypes.DockerManifest, dockerDigest);
        await AssertManifestResponseAsync(berth, name, "v1", MediaTypes.OciManifest, image.Digest);
        var dockerBack = temp.NewPath("docker-back");
        await skopeo.CopyAsync($"{repository}:v1-docker", $"dir:{dockerBack}");
        Assert.Equal(dockerRaw, await File.ReadAllBytesAsync(Path.Combine(dockerBack, "manifest.json")));

        Assert.Equal(["v1", "v1-docker"], (await skopeo.ListTagsAsync(repository)).Order(StringComparer.Ordinal));

        // Delete by tag (raw HTTP, as the OCI spec allows): the tag goes, the manifest stays reachable by digest.
        using (var response = await Http.Client.DeleteAsync(new Uri(berth.BaseUri, $"v2/{name}/manifests/v1-docker")))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }
        Assert.Equal(["v1"], await skopeo.ListTagsAsync(repository));
        ImageAssert.NotFound(await skopeo.TryInspectAsync($"{repository}:v1-docker"));
        Assert.Equal(dockerRaw, await skopeo.InspectRawAsync($"{repository}@{dockerDigest}"));

        // Delete by digest (skopeo resolves the tag and sends DELETE .../manifests/<digest>): tag and manifest go.
        await skopeo.DeleteAsync($"{repository}:v1");
        Assert.Empty(await skopeo.ListTagsAsync(repository));
        ImageAssert.NotFound(await skopeo.TryInspectAsync($"{repository}:v1"));
        ImageAssert.NotFound(await skopeo.TryInspectAsync($"{repository}@{image.Digest}"));
        using (var head = new HttpRequestMessage(HttpMethod.Head, new Uri(berth.BaseUri, $"v2/{name}/manifests/{image.Digest}")))
        using (var response = await Http.Client.SendAsync(head))
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        var storage = DistributionStorage.Check(berth.DataDirectory);
        Assert.True(storage.Problems.Count == 0, storage.Describe());
        Assert.Equal(0, await berth.StopAsync());
        Assert.True(berth.ErrorLines.Count == 0, "berth logged errors:\n" + string.Join("\n", berth.ErrorLines));
    }

    private static async Task AssertManifestResponseAsync(BerthProcess berth, string name, string reference, string mediaType, string digest)
    {
        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Head })
        {
            using var request = new HttpRequestMessage(method, new Uri(berth.BaseUri, $"v2/{name}/manifests/{reference}"));
            request.Headers.TryAddWithoutValidation("Accept", Http.AcceptManifests);
            using var response = await Http.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(digest, response.Headers.GetValues("Docker-Content-Digest").Single());
            if (method == HttpMethod.Get)
            {
                Assert.Equal(digest, ImageAssert.Sha256(await response.Content.ReadAsByteArrayAsync()));
            }
        }
    }
}
