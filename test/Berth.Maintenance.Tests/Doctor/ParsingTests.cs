using Berth.Maintenance.Doctor;

namespace Berth.Maintenance.Tests.Doctor;

public sealed class ParsingTests
{
    private const string D = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    [Fact]
    public void RequestPathList_ReadsUniqCountsPlainPathsAndLogLines_SkipsTheRest()
    {
        var result = RequestPathList.Parse(
        [
            "    174 /v2/someuser/really-awesome-project/manifests/even-awesomer-build",
            "",
            "     67 /v2/anotheruser/dev/image/manifests/ecec8e83437ef4bf5a161eb47cce4cdfe285b87e",
            "/v2/popular-opensource-project/app-name/other-qualifier/manifests/latest",
            "/v2/someuser/really-awesome-project/manifests/even-awesomer-build",
            $"/v2/a/b/manifests/{D}?ns=docker.io",
            $"/v2/a/b/blobs/{D}",
            "GET /v2/a/c/manifests/v1 HTTP/1.1",
            "# a comment",
            "/v2/a/b/blobs/uploads/123",
            "/v2/a/b/tags/list",
            "/v2/UPPER/manifests/v1",
            "/v2/",
        ]);

        Assert.Equal(
        [
            "/v2/someuser/really-awesome-project/manifests/even-awesomer-build",
            "/v2/anotheruser/dev/image/manifests/ecec8e83437ef4bf5a161eb47cce4cdfe285b87e",
            "/v2/popular-opensource-project/app-name/other-qualifier/manifests/latest",
            $"/v2/a/b/manifests/{D}",
            $"/v2/a/b/blobs/{D}",
            "/v2/a/c/manifests/v1",
        ], result.Targets.Select(t => t.RequestPath));
        Assert.Equal(DoctorTargetKind.Tag, result.Targets[1].Kind); // 40 hex characters are a tag, not a digest
        Assert.Equal(DoctorTargetKind.ManifestDigest, result.Targets[3].Kind);
        Assert.Equal(DoctorTargetKind.Blob, result.Targets[4].Kind);
        Assert.Equal("popular-opensource-project/app-name/other-qualifier", result.Targets[2].Repository);
        Assert.Equal(4, result.Ignored.Count);
    }

    [Theory]
    [InlineData("24h", 24 * 3600)]
    [InlineData("90m", 90 * 60)]
    [InlineData("2d", 2 * 86400)]
    [InlineData("1h30m", 5400)]
    [InlineData("45s", 45)]
    [InlineData("0s", 0)]
    [InlineData("1.02:00:00", 26 * 3600)]
    public void Durations_Parse(string text, int seconds)
    {
        Assert.True(Durations.TryParse(text, out var value));
        Assert.Equal(TimeSpan.FromSeconds(seconds), value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("24")]
    [InlineData("h")]
    [InlineData("3w")]
    [InlineData("-1h")]
    public void Durations_RejectNonsense(string text)
    {
        Assert.False(Durations.TryParse(text, out _));
    }
}
