using System.Globalization;
using System.Text.Json;
using Berth.Logs.Analysis;
using Berth.Logs.Parsing;

namespace Berth.Logs.Reporting;

/// <summary>
/// <c>berth logs --format json</c>. The field names are a contract (docs/cli-logs-check.md):
/// <c>top[].path/count/repository/reference/kind/statuses</c> first of all.
/// </summary>
public static class LogReportJson
{
    public static void Write(LogReport report, Stream output, bool indented = true)
    {
        ArgumentNullException.ThrowIfNull(report);
        using var w = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = indented });
        w.WriteStartObject();

        w.WriteStartArray("top");
        foreach (var t in report.Top)
        {
            w.WriteStartObject();
            w.WriteString("path", t.Path);
            w.WriteNumber("count", t.Count);
            WriteNullable(w, "repository", t.Repository);
            WriteNullable(w, "reference", t.Reference);
            w.WriteString("kind", RegistryPath.KindName(t.Kind));
            w.WriteStartObject("statuses");
            foreach (var (status, count) in t.Statuses)
            {
                w.WriteNumber(status.ToString(CultureInfo.InvariantCulture), count);
            }

            w.WriteEndObject();
            w.WriteStartObject("methods");
            foreach (var (method, count) in t.Methods)
            {
                w.WriteNumber(method, count);
            }

            w.WriteEndObject();
            if (t.Diagnosis is not null)
            {
                w.WriteString("diagnosis", t.Diagnosis);
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();

        w.WriteStartObject("filter");
        w.WriteString("status", report.Query.Status.Text);
        if (report.Query.Methods is { } methods)
        {
            w.WriteStartArray("methods");
            foreach (var m in methods.Order(StringComparer.Ordinal))
            {
                w.WriteStringValue(m);
            }

            w.WriteEndArray();
        }
        else
        {
            w.WriteNull("methods");
        }

        WriteTime(w, "since", report.Query.Since);
        WriteTime(w, "until", report.Query.Until);
        WriteNullable(w, "grep", report.Query.Grep);
        WriteNullable(w, "by", report.Query.By == TimeBucketSize.None ? null : report.Query.By.ToString().ToLowerInvariant());
        w.WriteNumber("topN", report.Query.Top);
        w.WriteEndObject();

        w.WriteNumber("requests", report.Requests);
        w.WriteNumber("matched", report.Matched);
        w.WriteNumber("distinctPaths", report.DistinctPaths);

        var l = report.Lines;
        w.WriteStartObject("lines");
        w.WriteNumber("total", l.Total);
        w.WriteNumber("requests", l.Requests);
        w.WriteNumber("events", l.Events);
        w.WriteNumber("notices", l.Notices);
        w.WriteNumber("unparsed", l.Unparsed);
        w.WriteNumber("blank", l.Blank);
        w.WriteNumber("outsideRange", l.OutsideRange);
        w.WriteNumber("noTime", l.NoTime);
        w.WriteNumber("duplicates", l.Duplicates);
        w.WriteStartObject("formats");
        w.WriteNumber("haproxy", l.HAProxy);
        w.WriteNumber("combined", l.Combined);
        w.WriteNumber("json", l.Json);
        w.WriteEndObject();
        w.WriteEndObject();

        w.WriteStartObject("statuses");
        foreach (var (status, count) in report.Statuses)
        {
            w.WriteNumber(status.ToString(CultureInfo.InvariantCulture), count);
        }

        w.WriteEndObject();

        w.WriteStartArray("byTime");
        foreach (var b in report.ByTime)
        {
            w.WriteStartObject();
            w.WriteString("start", b.Start.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
            w.WriteNumber("total", b.Total);
            w.WriteNumber("matched", b.Matched);
            w.WriteStartObject("classes");
            for (var c = 1; c <= 5; c++)
            {
                w.WriteNumber(c.ToString(CultureInfo.InvariantCulture) + "xx", b.ByClass[c]);
            }

            if (b.ByClass[0] > 0)
            {
                w.WriteNumber("other", b.ByClass[0]);
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        w.WriteEndArray();

        w.WriteStartArray("errors");
        foreach (var e in report.Errors)
        {
            w.WriteStartObject();
            w.WriteString("class", e.Class);
            w.WriteNumber("count", e.Count);
            w.WriteString("sample", e.Sample);
            w.WriteStartArray("repositories");
            foreach (var (repo, count) in e.Repositories)
            {
                w.WriteStartObject();
                w.WriteString("repository", repo);
                w.WriteNumber("count", count);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();

        w.WriteStartArray("inputs");
        foreach (var i in report.Inputs)
        {
            w.WriteStartObject();
            w.WriteString("name", i.Name);
            w.WriteBoolean("gzip", i.Compressed);
            w.WriteNumber("lines", i.Lines);
            w.WriteNumber("requests", i.Requests);
            w.WriteNumber("unparsed", i.Unparsed);
            w.WriteStartArray("unparsedSamples");
            foreach (var s in i.UnparsedSamples)
            {
                w.WriteStringValue(s);
            }

            w.WriteEndArray();
            WriteNullable(w, "error", i.Error);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteNumber("manifestPaths", report.FailingManifestPaths.Count);
        w.WriteNumber("elapsedMs", Math.Round(report.Elapsed.TotalMilliseconds, 1));
        w.WriteEndObject();
        w.Flush();
    }

    private static void WriteNullable(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null)
        {
            w.WriteNull(name);
        }
        else
        {
            w.WriteString(name, value);
        }
    }

    private static void WriteTime(Utf8JsonWriter w, string name, DateTimeOffset? value)
    {
        if (value is { } v)
        {
            w.WriteString(name, v.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture));
        }
        else
        {
            w.WriteNull(name);
        }
    }
}
