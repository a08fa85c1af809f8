using System.Text.Json;
using System.Text.RegularExpressions;
using Berth.Api.Logging;
using Berth.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Berth.Api.Tests;

/// <summary>The exact shape of a log line: log pipelines and `berth logs` parse it.</summary>
public sealed partial class JsonLinesFormatterTests
{
    private static string Format<TState>(LogLevel level, TState state, Exception? exception = null, string? eventName = "Request")
    {
        using var writer = new StringWriter();
        new JsonLinesFormatter().Write(
            new LogEntry<TState>(level, "Berth.Test", new EventId(7, eventName), state, exception, (s, _) => s?.ToString() ?? ""),
            null, writer);
        return writer.ToString();
    }

    [Fact]
    public void Fields_AreTopLevelProperties_InOrder_WithTheirTypes()
    {
        var fields = new LogFields("request")
        {
            { "http.request.method", "GET" },
            { "Repository", "a/b" },
            { "reference", "l\u00e4test \"x\"" },
            { "http.response.status", 200 },
            { "http.request.contentlength", (long?)1234 },
            { "http.response.contentlength", null },
            { "http.response.duration_ms", 1.25 },
            { "cached", true },
            { "since", new DateTimeOffset(2026, 12, 5, 1, 2, 3, TimeSpan.Zero) },
            { "kind", StringComparison.Ordinal },
        };
        var line = Format(LogLevel.Information, fields);

        Assert.EndsWith("\n", line);
        Assert.Equal(1, line.Count(c => c == '\n'));
        var match = TimePrefix().Match(line);
        Assert.True(match.Success, line);
        Assert.Equal(
            "\"level\":\"info\",\"msg\":\"request\",\"logger\":\"Berth.Test\",\"event\":\"Request\","
            + "\"http.request.method\":\"GET\",\"repository\":\"a/b\",\"reference\":\"l\u00e4test \\\"x\\\"\","
            + "\"http.response.status\":200,\"http.request.contentlength\":1234,\"http.response.contentlength\":null,"
            + "\"http.response.duration_ms\":1.25,\"cached\":true,\"since\":\"2026-12-05T01:02:03+00:00\",\"kind\":\"Ordinal\"}\n",
            line[match.Length..]);
        var time = JsonDocument.Parse(line).RootElement.GetProperty("time").GetString()!;
        Assert.InRange(DateTimeOffset.Parse(time, System.Globalization.CultureInfo.InvariantCulture), DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));
    }

    [Fact]
    public void Exception_AddsTypeMessageAndStack()
    {
        Exception thrown;
        try
        {
            throw new InvalidOperationException("boom");
        }
        catch (InvalidOperationException e)
        {
            thrown = e;
        }
        var line = Format(LogLevel.Error, new LogFields("failed") { { "repository", "x" } }, thrown, eventName: null);
        var root = JsonDocument.Parse(line).RootElement;
        Assert.Equal(
            ["time", "level", "msg", "logger", "repository", "err.type", "err.message", "err.stack"],
            root.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.Equal("error", root.GetProperty("level").GetString());
        Assert.Equal("System.InvalidOperationException", root.GetProperty("err.type").GetString());
        Assert.Equal("boom", root.GetProperty("err.message").GetString());
        Assert.Contains(nameof(Exception_AddsTypeMessageAndStack), root.GetProperty("err.stack").GetString());
    }

    [Fact]
    public void MessageTemplates_WriteTheirValues_NotTheTemplate()
    {
        var state = new List<KeyValuePair<string, object?>>
        {
            new("Count", 3),
            new("{OriginalFormat}", "{Count} tags"),
        };
        var line = Format(LogLevel.Warning, state);
        var root = JsonDocument.Parse(line).RootElement;
        Assert.Equal(["time", "level", "msg", "logger", "event", "count"], root.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.Equal("warn", root.GetProperty("level").GetString());
        Assert.Equal(3, root.GetProperty("count").GetInt32());
    }

    [Fact]
    public void ManyLines_OnOneThread_AreEachComplete()
    {
        // The formatter reuses its buffers per thread: a long line must not leave anything behind in the next.
        var big = new LogFields("big") { { "detail", new string('x', 100_000) } };
        var small = new LogFields("small") { { "n", 1 } };
        var first = Format(LogLevel.Information, big);
        var second = Format(LogLevel.Information, small);
        Assert.Equal(100_000, JsonDocument.Parse(first).RootElement.GetProperty("detail").GetString()!.Length);
        Assert.Equal(1, JsonDocument.Parse(second).RootElement.GetProperty("n").GetInt32());
        Assert.EndsWith("\"msg\":\"small\",\"logger\":\"Berth.Test\",\"event\":\"Request\",\"n\":1}\n", second);
    }

    [GeneratedRegex("""^\{"time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z",""")]
    private static partial Regex TimePrefix();
}
