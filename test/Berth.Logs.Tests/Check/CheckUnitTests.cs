using Berth.Logs.Check;

namespace Berth.Logs.Tests.Check;

public sealed class CheckUnitTests
{
    [Theory]
    [InlineData("app:v1", "app", "v1")]
    [InlineData("group/sub/project/image:1.2.3", "group/sub/project/image", "1.2.3")]
    [InlineData("group/image", "group/image", "latest")]
    [InlineData("group/image@sha256:0123abcd", "group/image", "sha256:0123abcd")]
    public void ImageReference_Parses(string text, string name, string reference)
    {
        Assert.True(ImageReference.TryParse(text, out var r));
        Assert.Equal((name, reference), (r.Name, r.Reference));
    }

    [Theory]
    [InlineData("")]
    [InlineData("UPPER:v1")]
    [InlineData("/abs:v1")]
    [InlineData("a//b:v1")]
    [InlineData("app@v1")]
    [InlineData("app:")]
    public void ImageReference_Rejects(string text)
    {
        Assert.False(ImageReference.TryParse(text, out _));
    }

    [Theory]
    [InlineData("5s", 5000)]
    [InlineData("500ms", 500)]
    [InlineData("1m", 60000)]
    [InlineData("2", 2000)]
    [InlineData("1.5s", 1500)]
    public void Durations_Parse(string text, int ms)
    {
        Assert.True(Durations.TryParse(text, out var d));
        Assert.Equal(TimeSpan.FromMilliseconds(ms), d);
    }

    [Theory]
    [InlineData("")]
    [InlineData("soon")]
    [InlineData("-1s")]
    [InlineData("0")]
    [InlineData("3d")]
    public void Durations_Reject(string text)
    {
        Assert.False(Durations.TryParse(text, out _));
    }

    [Fact]
    public void BearerChallenge_Parsed()
    {
        var p = TokenAuth.ParseChallenge("realm=\"https://gitlab.example.com/jwt/auth\",service=\"container_registry\",scope=\"repository:a/b:pull\"");
        Assert.Equal("https://gitlab.example.com/jwt/auth", p["realm"]);
        Assert.Equal("container_registry", p["service"]);
        Assert.Equal("repository:a/b:pull", p["scope"]);
    }
}
