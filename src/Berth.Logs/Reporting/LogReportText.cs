using System.Globalization;
using System.Text;
using Berth.Logs.Analysis;
using Berth.Logs.Parsing;

namespace Berth.Logs.Reporting;

/// <summary>
/// <c>berth logs</c>' text output: plain text (no colours, pipe-safe). The top list starts each entry
/// with <c>count path</c> like the runbook's <c>uniq -c</c>; the time chart is drawn with block characters.
/// </summary>
public static class LogReportText
{
    private const int BarWidth = 40;

    public static void Write(LogReport report, TextWriter o)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(o);
        var l = report.Lines;
        var q = report.Query;

        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Read {N(l.Total)} lines from {report.Inputs.Count} input{(report.Inputs.Count == 1 ? "" : "s")} in {report.Elapsed.TotalSeconds:0.00} s: {N(l.Requests)} requests ({Formats(l)}), {N(l.Events)} other JSON lines, {N(l.Notices)} HAProxy notices, {N(l.Unparsed)} unparsed."));
        if (l.Duplicates > 0)
        {
            o.WriteLine($"Left out {N(l.Duplicates)} combined-format access lines that repeat JSON request records of the same input.");
        }

        if (l.OutsideRange > 0 || l.NoTime > 0)
        {
            o.WriteLine($"Left out {N(l.OutsideRange)} lines outside the time range and {N(l.NoTime)} without a readable time.");
        }

        foreach (var input in report.Inputs)
        {
            if (input.Error is not null)
            {
                o.WriteLine($"warning: {input.Name}: {input.Error} (counted what was read)");
            }

            if (input.Unparsed > 0)
            {
                o.WriteLine($"{input.Name}: {N(input.Unparsed)} unparsed line{(input.Unparsed == 1 ? "" : "s")}, e.g.:");
                foreach (var sample in input.UnparsedSamples)
                {
                    o.WriteLine("    " + sample);
                }
            }
        }

        o.WriteLine();
        var methods = q.Methods is null ? "all methods" : "methods " + string.Join(",", q.Methods.Order(StringComparer.Ordinal));
        o.WriteLine($"Top {report.Top.Count} of {N(report.DistinctPaths)} paths with status {q.Status.Text}, {methods} ({N(report.Matched)} of {N(report.Requests)} requests):");
        if (report.Top.Count == 0)
        {
            o.WriteLine("    (none)");
        }
        else
        {
            var width = Math.Max(5, report.Top.Max(t => N(t.Count).Length));
            o.WriteLine($"  {"COUNT".PadLeft(width)}  PATH");
            foreach (var t in report.Top)
            {
                o.WriteLine($"  {N(t.Count).PadLeft(width)}  {t.Path}");
                var detail = new StringBuilder();
                detail.Append(RegistryPath.KindName(t.Kind));
                if (t.Repository is not null)
                {
                    detail.Append("  repository ").Append(t.Repository);
                }

                if (t.Reference is not null)
                {
                    detail.Append("  reference ").Append(t.Reference);
                }

                detail.Append("  statuses ").AppendJoin(' ', t.Statuses.Select(s => $"{s.Key}×{N(s.Value)}"));
                detail.Append("  methods ").AppendJoin(' ', t.Methods.Select(m => $"{m.Key}×{N(m.Value)}"));
                if (t.Diagnosis is not null)
                {
                    detail.Append("  doctor: ").Append(t.Diagnosis);
                }

                o.WriteLine($"  {new string(' ', width)}  {detail}");
            }
        }

        if (report.ByTime.Count > 0)
        {
            WriteChart(report, o);
        }

        if (report.Errors.Count > 0 || q.Grep is not null)
        {
            o.WriteLine();
            o.WriteLine(q.Grep is null
                ? "Error classes (JSON lines at error level or with err.* fields), by repository:"
                : $"JSON lines containing \"{q.Grep}\", by class and repository:");
            if (report.Errors.Count == 0)
            {
                o.WriteLine("    (none)");
            }

            var width = report.Errors.Count == 0 ? 5 : Math.Max(5, report.Errors.Max(e => N(e.Count).Length));
            foreach (var e in report.Errors.Take(Math.Max(q.Top, 10)))
            {
                o.WriteLine($"  {N(e.Count).PadLeft(width)}  {e.Class}");
                var repos = e.Repositories.Take(5).Select(r => $"{r.Key} {N(r.Value)}");
                var more = e.Repositories.Count > 5 ? $", … {e.Repositories.Count - 5} more" : "";
                o.WriteLine($"  {new string(' ', width)}  in {string.Join(", ", repos)}{more}");
            }
        }
    }

    private static void WriteChart(LogReport report, TextWriter o)
    {
        var byHour = report.Query.By == TimeBucketSize.Hour;
        o.WriteLine();
        o.WriteLine($"Requests per {(byHour ? "hour" : "minute")} (UTC); the bar is the requests with status {report.Query.Status.Text}:");
        var max = Math.Max(1, report.ByTime.Max(b => b.Matched));
        var cols = new[] { "TOTAL", "2xx", "3xx", "4xx", "5xx", "MATCHED" };
        var rows = report.ByTime.Select(b => new[]
        {
            N(b.Total), N(b.ByClass[2]), N(b.ByClass[3]), N(b.ByClass[4]), N(b.ByClass[5]), N(b.Matched),
        }).ToArray();
        var widths = cols.Select((c, i) => Math.Max(c.Length, rows.Length == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        var header = new StringBuilder("  TIME            ");
        for (var i = 0; i < cols.Length; i++)
        {
            header.Append("  ").Append(cols[i].PadLeft(widths[i]));
        }

        o.WriteLine(header.ToString());
        for (var r = 0; r < rows.Length; r++)
        {
            var b = report.ByTime[r];
            var line = new StringBuilder("  ").Append(b.Start.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture));
            for (var i = 0; i < cols.Length; i++)
            {
                line.Append("  ").Append(rows[r][i].PadLeft(widths[i]));
            }

            line.Append("  ").Append(Bar(b.Matched, max));
            o.WriteLine(line.ToString().TrimEnd());
        }
    }

    /// <summary>A bar of up to <see cref="BarWidth"/> cells with eighth-block resolution.</summary>
    internal static string Bar(long value, long max)
    {
        if (value <= 0)
        {
            return "";
        }

        var eighths = (int)Math.Max(1, Math.Round(value * BarWidth * 8.0 / max));
        var sb = new StringBuilder(new string('█', eighths / 8));
        var rest = eighths % 8;
        if (rest > 0)
        {
            sb.Append("▏▎▍▌▋▊▉"[rest - 1]);
        }

        return sb.ToString();
    }

    private static string Formats(LineCounts l)
    {
        var parts = new List<string>();
        if (l.HAProxy > 0)
        {
            parts.Add("HAProxy " + N(l.HAProxy));
        }

        if (l.Json > 0)
        {
            parts.Add("JSON " + N(l.Json));
        }

        if (l.Combined > 0)
        {
            parts.Add("combined " + N(l.Combined));
        }

        return parts.Count == 0 ? "none" : string.Join(", ", parts);
    }

    private static string N(long n) => n.ToString("#,0", CultureInfo.InvariantCulture);
}
