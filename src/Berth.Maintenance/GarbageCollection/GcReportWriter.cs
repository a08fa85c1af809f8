using System.Globalization;
using System.Text.Json;

namespace Berth.Maintenance.GarbageCollection;

/// <summary>Renders a <see cref="GcReport"/> as text (people) or JSON (scripts). The JSON field names are an interface: add, never rename.</summary>
public static class GcReportWriter
{
    public static void WriteJson(GcReport report, Stream output)
    {
        using var w = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true });
        var s = report.Summary;
        w.WriteStartObject();
        w.WriteBoolean("dryRun", s.DryRun);
        w.WriteStartArray("blobs");
        foreach (var b in report.Blobs)
        {
            w.WriteStartObject();
            w.WriteString("digest", b.Digest.ToString());
            w.WriteNumber("size", b.Size);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("manifests");
        foreach (var m in report.Manifests)
        {
            w.WriteStartObject();
            w.WriteString("repository", m.Repository);
            w.WriteString("digest", m.Digest.ToString());
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("links");
        foreach (var l in report.Links)
        {
            w.WriteStartObject();
            w.WriteString("repository", l.Repository);
            w.WriteString("kind", l.Kind);
            w.WriteString("digest", l.Digest.ToString());
            w.WriteString("path", l.Path);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("uploads");
        foreach (var u in report.Uploads)
        {
            w.WriteStartObject();
            w.WriteString("repository", u.Repository);
            w.WriteString("id", u.Id);
            w.WriteNumber("size", u.Size);
            if (u.StartedAt is { } started)
            {
                w.WriteString("startedAt", started);
            }
            else
            {
                w.WriteNull("startedAt");
            }
            w.WriteString("lastModified", u.LastModified);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("findings");
        foreach (var f in report.Findings)
        {
            w.WriteStartObject();
            w.WriteString("class", f.Class);
            w.WriteString("severity", f.Severity == GcSeverity.Error ? "error" : "warning");
            WriteOptional(w, "repository", f.Repository);
            WriteOptional(w, "reference", f.Reference);
            WriteOptional(w, "path", f.Path);
            w.WriteString("detail", f.Detail);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartObject("summary");
        w.WriteBoolean("dryRun", s.DryRun);
        w.WriteBoolean("deleteUntagged", s.DeleteUntagged);
        w.WriteNumber("graceSeconds", (long)s.Grace.TotalSeconds);
        w.WriteNumber("uploadAgeSeconds", (long)s.UploadAge.TotalSeconds);
        w.WriteNumber("repositories", s.Repositories);
        w.WriteNumber("blobsScanned", s.BlobsScanned);
        w.WriteNumber("blobsMarked", s.BlobsMarked);
        w.WriteNumber("blobs", s.Blobs);
        w.WriteNumber("blobBytes", s.BlobBytes);
        w.WriteNumber("manifests", s.Manifests);
        w.WriteNumber("links", s.Links);
        w.WriteNumber("uploads", s.Uploads);
        w.WriteNumber("uploadBytes", s.UploadBytes);
        w.WriteNumber("bytesFreed", s.BytesFreed);
        w.WriteNumber("keptByGrace", s.KeptByGrace);
        w.WriteNumber("keptByJournal", s.KeptByJournal);
        w.WriteNumber("repositoriesKeptWhole", s.RepositoriesKeptWhole);
        w.WriteNumber("errors", s.Errors);
        w.WriteNumber("warnings", s.Warnings);
        w.WriteNumber("durationMs", (long)s.Duration.TotalMilliseconds);
        w.WriteEndObject();
        w.WriteEndObject();
        w.Flush();
        output.Write("\n"u8);
    }

    /// <summary>A dry run lists every item; a real run prints the summary. Findings are always listed.</summary>
    public static void WriteText(GcReport report, TextWriter output)
    {
        var s = report.Summary;
        if (s.DryRun)
        {
            output.WriteLine("dry run: nothing was deleted (run with --delete to delete)");
            foreach (var b in report.Blobs)
            {
                output.WriteLine($"blob      {b.Digest}  {Bytes(b.Size)}");
            }
            foreach (var m in report.Manifests)
            {
                output.WriteLine($"manifest  {m.Repository}@{m.Digest}");
            }
            foreach (var l in report.Links)
            {
                output.WriteLine($"link      {l.Kind,-9} {l.Path}");
            }
            foreach (var u in report.Uploads)
            {
                var started = u.StartedAt is { } t ? t.ToString("u", CultureInfo.InvariantCulture) : "unknown";
                output.WriteLine($"upload    {u.Repository} {u.Id}  {Bytes(u.Size)}  started {started}, last written {u.LastModified.ToString("u", CultureInfo.InvariantCulture)}");
            }
        }
        foreach (var f in report.Findings)
        {
            var where = f.Repository is null ? "" : f.Repository + (f.Reference is null ? "" : (f.Reference.Contains(':') ? "@" : ":") + f.Reference) + ": ";
            output.WriteLine($"{(f.Severity == GcSeverity.Error ? "error  " : "warning")}  {f.Class}  {where}{f.Detail}{(f.Path is null ? "" : $" ({f.Path})")}");
        }
        var verb = s.DryRun ? "would delete" : "deleted";
        output.WriteLine($"{verb} {Count(s.Blobs, "blob")} ({Bytes(s.BlobBytes)}), {Count(s.Manifests, "manifest")}, {Count(s.Links, "link")}, "
            + $"{Count(s.Uploads, "upload")} ({Bytes(s.UploadBytes)}); {(s.DryRun ? "would free" : "freed")} {Bytes(s.BytesFreed)}");
        var kept = new List<string>();
        if (s.KeptByGrace > 0)
        {
            kept.Add($"{Count(s.KeptByGrace, "unreferenced blob")} younger than the grace period ({Duration(s.Grace)})");
        }
        if (s.KeptByJournal > 0)
        {
            kept.Add($"{Count(s.KeptByJournal, "digest")} announced by pushes in progress");
        }
        if (s.RepositoriesKeptWhole > 0)
        {
            kept.Add($"everything linked by {Count(s.RepositoriesKeptWhole, "repository", "repositories")} with unreadable tags or manifests");
        }
        if (kept.Count > 0)
        {
            output.WriteLine("kept " + string.Join("; ", kept));
        }
        output.WriteLine($"scanned {Count(s.Repositories, "repository", "repositories")} and {Count(s.BlobsScanned, "blob")} ({s.BlobsMarked} in use) in {s.Duration.TotalSeconds:0.0} s"
            + (s.Errors + s.Warnings > 0 ? $"; {Count(s.Errors, "error")}, {Count(s.Warnings, "warning")}" : ""));
    }

    public static string Bytes(long n) => n switch
    {
        < 1024 => $"{n} B",
        < 1024 * 1024 => (n / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " KiB",
        < 1024L * 1024 * 1024 => (n / 1024.0 / 1024).ToString("0.0", CultureInfo.InvariantCulture) + " MiB",
        _ => (n / 1024.0 / 1024 / 1024).ToString("0.00", CultureInfo.InvariantCulture) + " GiB",
    };

    /// <summary>Go-style: 1h, 1h30m, 45s, 0s.</summary>
    public static string Duration(TimeSpan t)
    {
        if (t <= TimeSpan.Zero)
        {
            return "0s";
        }
        var text = (t.Days * 24 + t.Hours > 0 ? $"{t.Days * 24 + t.Hours}h" : "") + (t.Minutes > 0 ? $"{t.Minutes}m" : "")
            + (t.Seconds > 0 ? $"{t.Seconds}s" : "") + (t.Milliseconds > 0 ? $"{t.Milliseconds}ms" : "");
        return text.Length > 0 ? text : "0s";
    }

    private static string Count(long n, string singular, string? plural = null) => $"{n} {(n == 1 ? singular : plural ?? singular + "s")}";

    private static void WriteOptional(Utf8JsonWriter w, string name, string? value)
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
}
