using System.Globalization;
using System.Text;
using System.Text.Json;
using Berth.Maintenance.Doctor.Repair;

namespace Berth.Maintenance.Doctor.Reports;

/// <summary>The output formats of <c>berth doctor --format</c>.</summary>
public enum ReportFormat
{
    Text,
    Json,
    Prometheus,
}

/// <summary>Renders a report. Rendering is separate from scanning: the report is data.</summary>
public static class ReportWriter
{
    public static string Render(ReportFormat format, DoctorReport report, RepairResult? repair = null) => format switch
    {
        ReportFormat.Json => Json(report, repair),
        ReportFormat.Prometheus => Prometheus(report, repair),
        _ => Text(report, repair),
    };

    // ------------------------------------------------------------------ JSON

    /// <summary>One document: <c>{"findings": [...], "summary": {...}, "targets": [...], "repair": {...}|null}</c>.</summary>
    public static string Json(DoctorReport report, RepairResult? repair = null)
    {
        var findings = repair?.Report.Findings ?? report.Findings;
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteStartArray("findings");
            foreach (var f in findings)
            {
                w.WriteStartObject();
                w.WriteString("class", f.Name);
                w.WriteString("severity", f.Severity.Name());
                w.WriteString("repository", f.Repository);
                w.WriteString("tag", f.Tag);
                w.WriteString("digest", f.Digest);
                w.WriteString("path", f.Path);
                w.WriteString("failureMode", f.FailureMode);
                w.WriteString("explanation", f.Explanation);
                w.WriteString("fix", f.Fix);
                if (f.Size is { } size)
                {
                    w.WriteNumber("size", size);
                }
                else
                {
                    w.WriteNull("size");
                }
                if (f.RelatedPaths.Count > 0)
                {
                    w.WriteStartArray("links");
                    foreach (var p in f.RelatedPaths)
                    {
                        w.WriteStringValue(p);
                    }
                    w.WriteEndArray();
                }
                w.WriteString("quarantineId", f.QuarantineId);
                w.WriteEndObject();
            }
            w.WriteEndArray();

            var s = report.Summary;
            w.WriteStartObject("summary");
            w.WriteNumber("errors", s.Errors);
            w.WriteNumber("warnings", s.Warnings);
            w.WriteNumber("info", s.Info);
            w.WriteNumber("repositories", s.RepositoriesScanned);
            w.WriteNumber("tags", s.TagsScanned);
            w.WriteNumber("repositoriesAffected", s.RepositoriesAffected);
            w.WriteNumber("blobs", s.BlobsScanned);
            w.WriteNumber("unreferencedBlobs", s.UnreferencedBlobs);
            w.WriteNumber("unreferencedBytes", s.UnreferencedBytes);
            w.WriteNumber("staleUploads", s.StaleUploads);
            w.WriteNumber("staleUploadBytes", s.StaleUploadBytes);
            w.WriteNumber("bytesVerified", s.BytesVerified);
            w.WriteBoolean("verifyContent", report.VerifyContent);
            w.WriteString("scope", report.Scope.Describe());
            w.WriteString("storage", report.StorageName);
            w.WriteString("startedAt", report.StartedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture));
            w.WriteNumber("durationSeconds", Math.Round(report.Duration.TotalSeconds, 3));
            w.WriteStartObject("byClass");
            foreach (var (name, count) in s.ByClass)
            {
                w.WriteNumber(name, count);
            }
            w.WriteEndObject();
            w.WriteEndObject();

            w.WriteStartArray("targets");
            foreach (var t in report.Targets)
            {
                w.WriteStartObject();
                w.WriteString("path", t.Target.RequestPath);
                w.WriteString("repository", t.Target.Repository);
                w.WriteString("reference", t.Target.Reference);
                w.WriteString("status", StatusName(t.Status));
                w.WriteStartArray("classes");
                foreach (var c in t.Findings.Select(f => f.Name).Distinct())
                {
                    w.WriteStringValue(c);
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();

            if (repair is null)
            {
                w.WriteNull("repair");
            }
            else
            {
                w.WriteStartObject("repair");
                w.WriteBoolean("dryRun", repair.DryRun);
                w.WriteStartArray("items");
                foreach (var o in repair.Outcomes)
                {
                    w.WriteStartObject();
                    w.WriteString("action", RepairItem.ActionName(o.Item.Action));
                    w.WriteString("class", o.Item.Class.Name());
                    w.WriteStartArray("classes");
                    foreach (var c in o.Item.Classes)
                    {
                        w.WriteStringValue(c.Name());
                    }
                    w.WriteEndArray();
                    w.WriteString("repository", o.Item.Repository);
                    w.WriteString("tag", o.Item.Tag);
                    w.WriteString("digest", o.Item.Digest);
                    w.WriteString("path", o.Item.Root);
                    w.WriteString("status", o.Status.ToString().ToLowerInvariant());
                    w.WriteString("quarantineId", o.QuarantineId);
                    w.WriteString("message", o.Message);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    public static string StatusName(TargetStatus status) => status switch
    {
        TargetStatus.Healthy => "healthy",
        TargetStatus.Broken => "broken",
        TargetStatus.Degraded => "degraded",
        _ => "not-found",
    };

    // ------------------------------------------------------------------ Prometheus

    /// <summary>The Prometheus text format, for node_exporter's textfile collector. No per-repository labels.</summary>
    public static string Prometheus(DoctorReport report, RepairResult? repair = null)
    {
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        var counts = report.Findings.GroupBy(f => f.Class).ToDictionary(g => g.Key, g => g.Count());
        counts[FindingClass.BlobUnreferenced] = (int)Math.Min(int.MaxValue, report.Summary.UnreferencedBlobs);
        sb.Append("# HELP berth_doctor_findings Findings of the last berth doctor scan, by class and severity.\n");
        sb.Append("# TYPE berth_doctor_findings gauge\n");
        foreach (var c in FindingClasses.All)
        {
            sb.Append(inv, $"berth_doctor_findings{{class=\"{c.Name}\",severity=\"{c.Severity.Name()}\"}} {counts.GetValueOrDefault(c.Class)}\n");
        }
        sb.Append("# HELP berth_doctor_findings_by_severity Findings of the last scan, by severity.\n");
        sb.Append("# TYPE berth_doctor_findings_by_severity gauge\n");
        sb.Append(inv, $"berth_doctor_findings_by_severity{{severity=\"error\"}} {report.Summary.Errors}\n");
        sb.Append(inv, $"berth_doctor_findings_by_severity{{severity=\"warning\"}} {report.Summary.Warnings}\n");
        sb.Append(inv, $"berth_doctor_findings_by_severity{{severity=\"info\"}} {report.Summary.Info}\n");
        Gauge(sb, "berth_doctor_scan_duration_seconds", "How long the last scan took.", report.Duration.TotalSeconds.ToString("0.###", inv));
        Gauge(sb, "berth_doctor_repositories_scanned", "Repositories the last scan checked.", report.Summary.RepositoriesScanned.ToString(inv));
        Gauge(sb, "berth_doctor_tags_scanned", "Tags the last scan checked.", report.Summary.TagsScanned.ToString(inv));
        Gauge(sb, "berth_doctor_repositories_affected", "Repositories with warnings or errors.", report.Summary.RepositoriesAffected.ToString(inv));
        Gauge(sb, "berth_doctor_blobs_scanned", "Blobs in the blob store (full scans only).", report.Summary.BlobsScanned.ToString(inv));
        Gauge(sb, "berth_doctor_unreferenced_blobs", "Blobs no manifest references.", report.Summary.UnreferencedBlobs.ToString(inv));
        Gauge(sb, "berth_doctor_unreferenced_bytes", "Bytes in blobs no manifest references.", report.Summary.UnreferencedBytes.ToString(inv));
        Gauge(sb, "berth_doctor_stale_uploads", "Upload sessions older than the threshold.", report.Summary.StaleUploads.ToString(inv));
        Gauge(sb, "berth_doctor_stale_upload_bytes", "Bytes in stale upload sessions.", report.Summary.StaleUploadBytes.ToString(inv));
        Gauge(sb, "berth_doctor_verified_bytes", "Bytes hashed by --verify-content.", report.Summary.BytesVerified.ToString(inv));
        Gauge(sb, "berth_doctor_last_run_timestamp_seconds", "When the last scan started (Unix time).", report.StartedAt.ToUnixTimeSeconds().ToString(inv));
        if (repair is { DryRun: false })
        {
            Gauge(sb, "berth_doctor_repaired_items", "Items the last repair moved to quarantine.", repair.Outcomes.Count(o => o.Status == RepairStatus.Quarantined).ToString(inv));
            Gauge(sb, "berth_doctor_repair_failed_items", "Items the last repair could not move.", repair.Outcomes.Count(o => o.Status == RepairStatus.Failed).ToString(inv));
        }
        return sb.ToString();
    }

    private static void Gauge(StringBuilder sb, string name, string help, string value) =>
        sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n')
          .Append("# TYPE ").Append(name).Append(" gauge\n")
          .Append(name).Append(' ').Append(value).Append('\n');

    // ------------------------------------------------------------------ text

    /// <summary>A report for a person: findings grouped by repository, a summary, and the repair plan or outcome.</summary>
    public static string Text(DoctorReport report, RepairResult? repair = null)
    {
        var findings = repair?.Report.Findings ?? report.Findings;
        var sb = new StringBuilder();
        var s = report.Summary;
        sb.Append(CultureInfo.InvariantCulture,
            $"berth doctor: {report.StorageName} storage, scope {report.Scope.Describe()}{(report.VerifyContent ? ", content verified" : "")}\n");
        sb.Append(CultureInfo.InvariantCulture,
            $"scanned {s.RepositoriesScanned} repositories, {s.TagsScanned} tags{(s.BlobsScanned > 0 ? $", {s.BlobsScanned} blobs" : "")} in {report.Duration.TotalSeconds:0.##} s\n");

        foreach (var group in findings.Where(f => f.Class != FindingClass.BlobUnreferenced).GroupBy(f => f.Repository))
        {
            sb.Append('\n').Append(group.Key ?? "(blob store)").Append('\n');
            foreach (var f in group)
            {
                var subject = f.Tag is not null ? "tag " + f.Tag : f.Digest is not null ? Short(f.Digest) : "";
                sb.Append(CultureInfo.InvariantCulture, $"  {f.Severity.Name(),-7} {f.Name,-24} {subject}\n");
                sb.Append("          ").Append(f.Explanation).Append('\n');
                sb.Append("          path: ").Append(f.Path).Append('\n');
                sb.Append("          ").Append(f.FailureMode).Append('\n');
                sb.Append("          fix: ").Append(f.Fix).Append('\n');
                if (f.QuarantineId is not null)
                {
                    sb.Append("          quarantined as ").Append(f.QuarantineId).Append(" (berth doctor restore ").Append(f.QuarantineId).Append(")\n");
                }
            }
        }
        if (s.UnreferencedBlobs > 0)
        {
            sb.Append(CultureInfo.InvariantCulture,
                $"\n(blob store)\n  info    blob-unreferenced        {s.UnreferencedBlobs} blobs, {DoctorScanner.Bytes(s.UnreferencedBytes)} that no manifest references\n");
            sb.Append("          fix: ").Append(FindingClass.BlobUnreferenced.Info().Fix).Append('\n');
        }

        sb.Append('\n');
        if (s.Errors == 0 && s.Warnings == 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"summary: no problems found ({s.Info} informational)\n");
        }
        else
        {
            sb.Append(CultureInfo.InvariantCulture,
                $"summary: {s.Errors} error(s), {s.Warnings} warning(s), {s.Info} info; {s.RepositoriesAffected} of {s.RepositoriesScanned} repositories affected\n");
            var classes = s.ByClass.Where(kv => kv.Value > 0 && FindingClasses.TryParse(kv.Key, out var c) && c.Severity() >= FindingSeverity.Warning)
                .Select(kv => $"{kv.Key} {kv.Value}");
            sb.Append("  by class: ").Append(string.Join(", ", classes)).Append('\n');
        }
        if (s.UnreferencedBlobs > 0 || s.StaleUploads > 0)
        {
            sb.Append(CultureInfo.InvariantCulture,
                $"  unreferenced blobs: {s.UnreferencedBlobs} ({DoctorScanner.Bytes(s.UnreferencedBytes)}); stale uploads: {s.StaleUploads} ({DoctorScanner.Bytes(s.StaleUploadBytes)})\n");
        }
        if (!report.Scope.IsFull)
        {
            sb.Append("  (a scoped scan: unreferenced blobs are only counted when everything is scanned)\n");
        }
        if (report.Targets.Count > 0)
        {
            sb.Append('\n').Append("request paths:\n");
            foreach (var t in report.Targets)
            {
                var classes = string.Join(", ", t.Findings.Select(f => f.Name).Distinct());
                sb.Append(CultureInfo.InvariantCulture, $"  {StatusName(t.Status),-10} {t.Target.RequestPath}{(classes.Length > 0 ? "  (" + classes + ")" : "")}\n");
            }
        }

        if (repair is not null)
        {
            sb.Append('\n');
            if (repair.Outcomes.Count == 0)
            {
                sb.Append("repair: nothing to repair\n");
            }
            else if (repair.DryRun)
            {
                sb.Append("repair plan (dry run: nothing changed; add --yes to carry it out):\n");
                var i = 1;
                foreach (var o in repair.Outcomes)
                {
                    sb.Append(CultureInfo.InvariantCulture, $"  {i++,3}. {o.Item.Describe()}\n       {o.Item.Root}\n");
                }
                sb.Append("  every item moves to the quarantine (berth doctor quarantine list); berth doctor restore <id> puts it back\n");
            }
            else
            {
                sb.Append("repair:\n");
                foreach (var o in repair.Outcomes)
                {
                    var label = o.Status == RepairStatus.Quarantined ? o.QuarantineId! : o.Status.ToString().ToLowerInvariant();
                    sb.Append(CultureInfo.InvariantCulture, $"  {label,-26} {o.Message}\n");
                }
                sb.Append(CultureInfo.InvariantCulture,
                    $"  {findings.Count(f => f.QuarantineId is not null)} finding(s) moved to quarantine; {repair.UnresolvedErrors} error finding(s) left (neither moved nor healthy again)\n");
                sb.Append("  restore an item with: berth doctor restore <id>\n");
            }
        }
        return sb.ToString();
    }

    private static string Short(string digest) => digest.Length > 19 ? digest[..19] + "..." : digest;
}
