using System.Text;
using Berth.Logs.Parsing;

namespace Berth.Logs.Tests.Parsing;

public sealed class LogTimeTests
{
    private static long Ticks(string iso) => DateTimeOffset.Parse(iso, System.Globalization.CultureInfo.InvariantCulture).UtcTicks;

    [Theory]
    [InlineData("04/Dec/2026:19:55:55.633", "2026-12-04T19:55:55.633Z")]
    [InlineData("04/Dec/2026:19:55:55", "2026-12-04T19:55:55Z")]
    [InlineData("29/Feb/2024:00:00:00 +0000", "2024-02-29T00:00:00Z")]
    [InlineData("04/Dec/2026:21:25:18 +0100", "2026-12-04T20:25:18Z")]
    [InlineData("31/Dec/2026:23:30:00 -0130", "2027-01-01T01:00:00Z")]
    [InlineData("01/Jan/0001:00:00:00", "0001-01-01T00:00:00Z")]
    public void Bracketed(string text, string expected)
    {
        Assert.True(LogTime.TryParseBracketed(Encoding.ASCII.GetBytes(text), out var ticks));
        Assert.Equal(Ticks(expected), ticks);
    }

    [Theory]
    [InlineData("30/Feb/2024:00:00:00")]
    [InlineData("04/Foo/2026:19:55:55")]
    [InlineData("04/Dec/2026:25:55:55")]
    [InlineData("04/Dec/2026:19:55:55 junk")]
    public void Bracketed_Invalid(string text)
    {
        Assert.False(LogTime.TryParseBracketed(Encoding.ASCII.GetBytes(text), out _));
    }

    [Theory]
    [InlineData("2026-12-04T20:27:21.053028959Z", "2026-12-04T20:27:21.0530289Z")]
    [InlineData("2026-12-04T20:27:21Z", "2026-12-04T20:27:21Z")]
    [InlineData("2021-04-22T09:28:15+02:00", "2021-04-22T07:28:15Z")]
    [InlineData("2026-12-04T19:58:06.167289+00:00", "2026-12-04T19:58:06.167289Z")]
    [InlineData("2026-12-04 20:27:21", "2026-12-04T20:27:21Z")]
    public void Rfc3339(string text, string expected)
    {
        Assert.True(LogTime.TryParseRfc3339(text.AsSpan(), out var ticks));
        Assert.Equal(Ticks(expected), ticks);
    }

    [Fact]
    public void UserTime_AgesAndIso()
    {
        var now = new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);
        Assert.True(LogTime.TryParseUserTime("2h", now, out var v));
        Assert.Equal(now.AddHours(-2), v);
        Assert.True(LogTime.TryParseUserTime("30m", now, out v));
        Assert.Equal(now.AddMinutes(-30), v);
        Assert.True(LogTime.TryParseUserTime("2026-12-04T10:00", now, out v));
        Assert.Equal(new DateTimeOffset(2026, 12, 4, 10, 0, 0, TimeSpan.Zero), v);
        Assert.True(LogTime.TryParseUserTime("2026-12-04T10:00+02:00", now, out v));
        Assert.Equal(new DateTimeOffset(2026, 12, 4, 8, 0, 0, TimeSpan.Zero), v.ToUniversalTime());
        Assert.False(LogTime.TryParseUserTime("yesterday", now, out _));
    }
}
