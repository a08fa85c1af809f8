using System.Text.Json;
using Berth.Maintenance.Doctor;
using Berth.Maintenance.Doctor.Reports;
using Berth.Maintenance.Tests.Support;
using Berth.Storage.InMemory;
using Berth.Storage.Layout;
using DoctorApi = Berth.Maintenance.Doctor.Doctor;

namespace Berth.Maintenance.Tests.Doctor;

public sealed class ReportWriterTests
{
    private static async Task<DoctorReport> BrokenReportAsync()
    {
        var registry = new TestRegistry(new InMemoryDriver());
        await registry.PushImageAsync("g/app", "v1");
        await registry.PushImageAsync("g/app", "v2");
        await registry.Driver.PutContentAsync(StoragePaths.TagCurrentLink("g/app", "v1"), Array.Empty<byte>());
        await registry.PutBlobAsync(new byte[7]);
        return await DoctorApi.ScanAsync(registry.Driver);
    }

    [Fact]
    public async Task Json_HasTheContractFields()
    {
        var report = await BrokenReportAsync();

        using var doc = JsonDocument.Parse(ReportWriter.Json(report));

        var root = doc.RootElement;
        Assert.Equal(["findings", "summary", "targets", "repair"], root.EnumerateObject().Select(p => p.Name));
        var finding = root.GetProperty("findings")[0];
        foreach (var field in new[] { "class", "severity", "repository", "tag", "digest", "path", "explanation", "fix", "failureMode", "quarantineId" })
        {
            Assert.True(finding.TryGetProperty(field, out _), field);
        }
        Assert.Equal("tag-link-empty", finding.GetProperty("class").GetString());
        Assert.Equal("error", finding.GetProperty("severity").GetString());
        Assert.Equal("g/app", finding.GetProperty("repository").GetString());
        Assert.Equal("v1", finding.GetProperty("tag").GetString());
        Assert.Equal(JsonValueKind.Null, finding.GetProperty("quarantineId").ValueKind);
        var summary = root.GetProperty("summary");
        Assert.Equal(1, summary.GetProperty("errors").GetInt32());
        Assert.Equal(2, summary.GetProperty("tags").GetInt32());
        Assert.Equal(1, summary.GetProperty("unreferencedBlobs").GetInt64());
        Assert.Equal(7, summary.GetProperty("unreferencedBytes").GetInt64());
        Assert.Equal(FindingClasses.All.Count, summary.GetProperty("byClass").EnumerateObject().Count());
    }

    [Fact]
    public async Task Prometheus_WritesEveryClassAndTheScanFigures()
    {
        var text = ReportWriter.Prometheus(await BrokenReportAsync());

        Assert.Contains("berth_doctor_findings{class=\"tag-link-empty\",severity=\"error\"} 1\n", text);
        Assert.Contains("berth_doctor_findings{class=\"layer-missing\",severity=\"error\"} 0\n", text);
        Assert.Contains("berth_doctor_findings{class=\"blob-unreferenced\",severity=\"info\"} 1\n", text);
        Assert.Contains("berth_doctor_repositories_scanned 1\n", text);
        Assert.Contains("berth_doctor_tags_scanned 2\n", text);
        Assert.Contains("# TYPE berth_doctor_scan_duration_seconds gauge\n", text);
        Assert.DoesNotContain("g/app", text); // no per-repository labels
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('#')))
        {
            Assert.Matches(@"^[a-z_]+(\{[^}]*\})? [0-9.eE+-]+$", line);
        }
    }

    [Fact]
    public async Task Text_GroupsByRepository_WithSummaryAndFix()
    {
        var text = ReportWriter.Text(await BrokenReportAsync());

        Assert.Contains("\ng/app\n", text);
        Assert.Contains("tag-link-empty", text);
        Assert.Contains("fix: g/app:v1: re-push", text);
        Assert.Contains("summary: 1 error(s), 0 warning(s)", text);
        Assert.Contains("1 blobs, 7 B that no manifest references", text);
    }
}
