using System.Globalization;
using System.Text.Json;

namespace Berth.Logs.Check;

/// <summary>
/// <c>berth check --format json</c>: <c>{"healthy", "checkedAt", "targets": [{"url", "up", "healthy",
/// "status", "latencyMs", "tlsExpires", "tlsExpiresSoon", "error", "image": {"image", "digest",
/// "mediaType", "manifests", "blobs", "latencyMs", "problems": [{"kind", "digest", "parent",
/// "status", "message"}]}}]}</c>. Documented in docs/cli-logs-check.md.
/// </summary>
public static class CheckReportJson
{
    public static void Write(CheckReport report, Stream output, bool indented = true)
    {
        ArgumentNullException.ThrowIfNull(report);
        using var w = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = indented });
        w.WriteStartObject();
        w.WriteBoolean("healthy", report.Healthy);
        w.WriteString("checkedAt", Time(report.CheckedAt));
        w.WriteStartArray("targets");
        foreach (var t in report.Targets)
        {
            w.WriteStartObject();
            w.WriteString("url", t.Url);
            w.WriteBoolean("up", t.Up);
            w.WriteBoolean("healthy", t.Healthy);
            NumberOrNull(w, "status", t.Status);
            NumberOrNull(w, "latencyMs", t.LatencyMs);
            if (t.TlsExpires is { } expires)
            {
                w.WriteString("tlsExpires", Time(expires));
            }
            else
            {
                w.WriteNull("tlsExpires");
            }

            w.WriteBoolean("tlsExpiresSoon", t.TlsExpiresSoon);
            StringOrNull(w, "error", t.Error);
            if (t.Image is { } image)
            {
                w.WriteStartObject("image");
                w.WriteString("image", image.Image);
                StringOrNull(w, "digest", image.Digest);
                StringOrNull(w, "mediaType", image.MediaType);
                w.WriteNumber("manifests", image.Manifests);
                w.WriteNumber("blobs", image.Blobs);
                w.WriteNumber("latencyMs", image.LatencyMs);
                w.WriteStartArray("problems");
                foreach (var p in image.Problems)
                {
                    w.WriteStartObject();
                    w.WriteString("kind", p.Kind);
                    w.WriteString("digest", p.Digest);
                    StringOrNull(w, "parent", p.Parent);
                    NumberOrNull(w, "status", p.Status);
                    w.WriteString("message", p.Message);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }
            else
            {
                w.WriteNull("image");
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
        w.Flush();
    }

    internal static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static void StringOrNull(Utf8JsonWriter w, string name, string? value)
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

    private static void NumberOrNull(Utf8JsonWriter w, string name, double? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(name, v);
        }
        else
        {
            w.WriteNull(name);
        }
    }
}

/// <summary><c>berth check</c>'s plain text: one line per target, then the image problems.</summary>
public static class CheckReportText
{
    public static void Write(CheckReport report, TextWriter o)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(o);
        var rows = report.Targets.Select(t => new[]
        {
            t.Url, StateOf(t), t.Status?.ToString(CultureInfo.InvariantCulture) ?? "-", LatencyOf(t), TlsOf(t), Describe(t),
        }).ToList();
        var header = new[] { "URL", "STATE", "STATUS", "LATENCY", "TLS EXPIRES", "DETAIL" };
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        o.WriteLine(Row(header, widths));
        foreach (var row in rows)
        {
            o.WriteLine(Row(row, widths));
        }

        foreach (var t in report.Targets.Where(t => t.Image is { Problems.Count: > 0 }))
        {
            o.WriteLine();
            o.WriteLine($"{t.Url}: {t.Image!.Image} has {t.Image.Problems.Count} problem{(t.Image.Problems.Count == 1 ? "" : "s")}:");
            foreach (var p in t.Image.Problems)
            {
                var parent = p.Parent is null ? "" : $" (in {Short(p.Parent)})";
                o.WriteLine($"  {p.Kind} {p.Digest}{parent}: {p.Message}");
            }
        }

        o.WriteLine();
        o.WriteLine(report.Healthy ? "healthy" : "UNHEALTHY");
    }

    public static string StateOf(TargetResult t) => !t.Up ? "DOWN" : t.Healthy ? "ok" : "UNHEALTHY";

    public static string LatencyOf(TargetResult t) => t.LatencyMs is { } ms ? ms.ToString("0.#", CultureInfo.InvariantCulture) + " ms" : "-";

    public static string TlsOf(TargetResult t) => t.TlsExpires is { } e
        ? CheckReportJson.Time(e)[..10] + (t.TlsExpiresSoon ? " (soon)" : "")
        : "-";

    public static string Describe(TargetResult t)
    {
        if (t.Error is not null)
        {
            return t.Error;
        }

        if (t.Image is not { } image)
        {
            return "";
        }

        var what = $"{image.Image}: {image.Manifests} manifest{(image.Manifests == 1 ? "" : "s")}, {image.Blobs} blob{(image.Blobs == 1 ? "" : "s")}";
        return image.Problems.Count == 0 ? what + " ok" : $"{what}, {image.Problems.Count} problem{(image.Problems.Count == 1 ? "" : "s")}";
    }

    private static string Short(string digest) => digest.Length > 19 ? digest[..19] + "…" : digest;

    private static string Row(string[] cells, int[] widths) =>
        string.Join("  ", cells.Select((c, i) => i == cells.Length - 1 ? c : c.PadRight(widths[i]))).TrimEnd();
}
