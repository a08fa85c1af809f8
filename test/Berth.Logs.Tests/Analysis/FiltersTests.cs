using Berth.Logs.Analysis;

namespace Berth.Logs.Tests.Analysis;

public sealed class FiltersTests
{
    [Theory]
    [InlineData("500", 500, true)]
    [InlineData("500", 503, false)]
    [InlineData("5xx", 503, true)]
    [InlineData("5XX", 599, true)]
    [InlineData("5xx", 404, false)]
    [InlineData("4xx,5xx", 404, true)]
    [InlineData("500, 503", 503, true)]
    [InlineData("all", -1, true)]
    [InlineData("5xx", -1, false)]
    public void StatusFilter_Matches(string filter, int status, bool expected)
    {
        Assert.Equal(expected, StatusFilter.Parse(filter).Matches(status));
    }

    [Theory]
    [InlineData("")]
    [InlineData("6xx")]
    [InlineData("50")]
    [InlineData("abc")]
    [InlineData("099")]
    public void StatusFilter_Rejects(string filter)
    {
        Assert.False(StatusFilter.TryParse(filter, out _, out var error));
        Assert.NotEmpty(error);
    }

    [Theory]
    [InlineData("invalid checksum digest format", "invalid checksum digest format")]
    [InlineData("unknown tag=latest", "unknown tag=…")]
    [InlineData("error parsing digest=\"sha256:bad\": invalid checksum digest length", "error parsing digest=…: invalid checksum digest length")]
    [InlineData("blob sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef missing", "blob sha256:… missing")]
    [InlineData("upload 465d61ba-ca62-4a21-ad92-e6df60e633aa expired", "upload … expired")]
    [InlineData("path /docker/registry/v2/repositories/a/_manifests/tags/v1/current/link", "path /docker/registry/v2/repositories/a/_manifests/tags/v1/current/link")]
    public void ErrorClass_Masking(string text, string expected)
    {
        Assert.Equal(expected, ErrorClassifier.Mask(text));
    }

    [Theory]
    [InlineData("abc", "xxABCxx", true)]
    [InlineData("Invalid", "an INVALID thing", true)]
    [InlineData("status\":500", "{\"http.response.status\":500}", true)]
    [InlineData("abd", "abcabc", false)]
    [InlineData("abc", "ab", false)]
    public void Grep_ContainsIgnoreCase(string needle, string haystack, bool expected)
    {
        Assert.Equal(expected, LineProcessor.ContainsIgnoreCase(System.Text.Encoding.UTF8.GetBytes(haystack), System.Text.Encoding.UTF8.GetBytes(needle)));
    }
}
