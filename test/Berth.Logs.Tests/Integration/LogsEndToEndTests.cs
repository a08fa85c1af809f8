using System.IO.Compression;
using System.Text.Json;
using Berth.Logs.Analysis;
using Berth.Logs.Input;
using Berth.Logs.Parsing;
using Berth.Logs.Tests.Infrastructure;

namespace Berth.Logs.Tests.Integration;

/// <summary>
/// <c>berth logs</c> over what HAProxy and a registry really wrote for known traffic. One concrete
/// subclass per registry (<see cref="DockerRegistryLogsTests"/>; a Berth one joins it with its fixture).
/// </summary>
public abstract class LogsEndToEndTests<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : RegistryBehindHAProxyFixture
{
    private static readonly string BrokenPath = $"/v2/{RegistryBehindHAProxyFixture.Broken}/manifests/v1";
    private static readonly string ClosedPath = $"/v2/{RegistryBehindHAProxyFixture.Good}/manifests/v1";

    private Dictionary<int, long> ExpectedStatuses(bool viaRegistry)
    {
        var expected = fixture.Exchanges
            .Where(e => !viaRegistry || e.Status != 503)
            .GroupBy(e => e.Status)
            .ToDictionary(g => g.Key, g => (long)g.Count());
        if (viaRegistry)
        {
            expected[200] += 1; // the readiness probe's GET /v2/, straight to the registry
        }

        return expected;
    }

    [Fact]
    public async Task HAProxyLog_CountsEveryStatusAsTheClientSawIt()
    {
        var report = await LogAnalyzer.AnalyzeAsync([LogInput.File(fixture.HAProxyLog)], new LogQuery { Status = StatusFilter.Parse("all"), Top = 100 });
        Assert.Equal(fixture.Exchanges.Count, report.Requests);
        Assert.Equal(fixture.Exchanges.Count, report.Lines.HAProxy);
        Assert.Equal(0, report.Lines.Unparsed);
        Assert.Equal(ExpectedStatuses(viaRegistry: false), report.Statuses.ToDictionary(s => s.Key, s => s.Value));

        // Per path and method, exactly the client's exchanges (query strings removed).
        var expected = fixture.Exchanges.GroupBy(e => e.Path).ToDictionary(g => g.Key, g => (long)g.Count());
        Assert.Equal(expected, report.Top.ToDictionary(t => t.Path, t => t.Count));
    }

    [Fact]
    public async Task HAProxyLog_Top5xx_IsTheBrokenTagThenTheClosedBackend()
    {
        var report = await LogAnalyzer.AnalyzeAsync([LogInput.File(fixture.HAProxyLog)], new LogQuery());
        Assert.Equal(RegistryBehindHAProxyFixture.BrokenPulls + RegistryBehindHAProxyFixture.ClosedBackendPulls, report.Matched);
        Assert.Equal(2, report.Top.Count);

        var broken = report.Top[0];
        Assert.Equal((BrokenPath, (long)RegistryBehindHAProxyFixture.BrokenPulls, RegistryPathKind.Manifest, RegistryBehindHAProxyFixture.Broken, "v1"),
            (broken.Path, broken.Count, broken.Kind, broken.Repository, broken.Reference));
        Assert.Equal([new(500, (long)RegistryBehindHAProxyFixture.BrokenPulls)], broken.Statuses);

        var closed = report.Top[1];
        Assert.Equal((ClosedPath, (long)RegistryBehindHAProxyFixture.ClosedBackendPulls), (closed.Path, closed.Count));
        Assert.Equal([new(503, (long)RegistryBehindHAProxyFixture.ClosedBackendPulls)], closed.Statuses);
        Assert.Equal([BrokenPath, ClosedPath], report.FailingManifestPaths);
    }

    [Fact]
    public async Task HAProxyLog_4xx_MissingTagFirst()
    {
        var report = await LogAnalyzer.AnalyzeAsync([LogInput.File(fixture.HAProxyLog)], new LogQuery { Status = StatusFilter.Parse("4xx") });
        Assert.Equal($"/v2/{RegistryBehindHAProxyFixture.Good}/manifests/missing", report.Top[0].Path);
        Assert.Equal(RegistryBehindHAProxyFixture.MissingTagPulls, report.Top[0].Count);
        Assert.Equal(RegistryBehindHAProxyFixture.MissingTagPulls + 2, report.Matched); // + bad digest 400 + unknown repository 404
    }

    [Fact]
    public async Task RegistryJsonLog_SameCounts_WithoutItsDuplicateAccessLines()
    {
        var report = await LogAnalyzer.AnalyzeAsync([LogInput.File(fixture.RegistryLog)], new LogQuery { Status = StatusFilter.Parse("all"), Top = 100 });
        Assert.Equal(ExpectedStatuses(viaRegistry: true), report.Statuses.ToDictionary(s => s.Key, s => s.Value));
        Assert.Equal(report.Requests, report.Lines.Json);
        Assert.Equal(fixture.RegistryWritesAccessLines ? report.Requests : 0, report.Lines.Duplicates); // docker-registry's own combined lines
        Assert.Equal(0, report.Lines.Unparsed);
        Assert.True(report.Lines.Events > 0);
    }

    [Fact]
    public async Task RegistryJsonLog_Grep_InvalidChecksumDigestFormat_ByRepository()
    {
        var report = await LogAnalyzer.AnalyzeAsync([LogInput.File(fixture.RegistryLog)], new LogQuery { Grep = "invalid checksum digest format" });
        var error = Assert.Single(report.Errors);
        Assert.Equal(fixture.BrokenTagErrorClass, error.Class);
        Assert.Equal([new(RegistryBehindHAProxyFixture.Broken, (long)RegistryBehindHAProxyFixture.BrokenPulls)], error.Repositories);
        var top = Assert.Single(report.Top);
        Assert.Equal((BrokenPath, (long)RegistryBehindHAProxyFixture.BrokenPulls), (top.Path, top.Count));
    }

    [Fact]
    public async Task RotatedSet_PlainPlusGz_CountsBoth()
    {
        using var dir = new TempDirectory("rotated");
        var rotated = dir.File("haproxy.log.1.gz");
        await using (var source = File.OpenRead(fixture.HAProxyLog))
        await using (var target = File.Create(rotated))
        await using (var gz = new GZipStream(target, CompressionLevel.Optimal))
        {
            await source.CopyToAsync(gz);
        }

        var report = await LogAnalyzer.AnalyzeAsync([LogInput.File(fixture.HAProxyLog), LogInput.File(rotated)], new LogQuery());
        Assert.Equal(2 * RegistryBehindHAProxyFixture.BrokenPulls, report.Top[0].Count);
        Assert.Equal(2L * fixture.Exchanges.Count, report.Requests);
    }

    [Fact]
    public async Task Cli_JsonOutput_PathsOut_ExitZero()
    {
        using var dir = new TempDirectory("cli");
        var pathsFile = dir.File("paths.txt");
        var (exit, stdout, stderr) = await BerthCli.RunAsync("logs", fixture.HAProxyLog, "--status", "5xx", "--top", "1", "--format", "json", "--paths-out", pathsFile);
        Assert.True(exit == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var top = Assert.Single(doc.RootElement.GetProperty("top").EnumerateArray());
        Assert.Equal(BrokenPath, top.GetProperty("path").GetString());
        Assert.Equal(RegistryBehindHAProxyFixture.BrokenPulls, top.GetProperty("count").GetInt32());
        Assert.Equal(RegistryBehindHAProxyFixture.Broken, top.GetProperty("repository").GetString());
        Assert.Equal("v1", top.GetProperty("reference").GetString());
        Assert.Equal("manifest", top.GetProperty("kind").GetString());
        Assert.Equal(RegistryBehindHAProxyFixture.BrokenPulls, top.GetProperty("statuses").GetProperty("500").GetInt32());
        Assert.Equal([BrokenPath, ClosedPath], await File.ReadAllLinesAsync(pathsFile));
    }

    [Fact]
    public async Task Cli_TextOutput_ByMinute_AndGrep()
    {
        var (exit, stdout, stderr) = await BerthCli.RunAsync("logs", fixture.HAProxyLog, fixture.RegistryLog, "--by", "minute", "--grep", "invalid checksum digest format");
        Assert.True(exit == 0, stderr);
        Assert.Contains($"{2 * RegistryBehindHAProxyFixture.BrokenPulls}  {BrokenPath}", stdout, StringComparison.Ordinal);
        Assert.Contains("Requests per minute", stdout, StringComparison.Ordinal);
        Assert.Contains(fixture.BrokenTagErrorClass, stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--status", "6xx")]
    [InlineData("--top", "many")]
    [InlineData("--by", "day")]
    [InlineData("--format", "xml")]
    [InlineData("--since", "last tuesday")]
    public async Task Cli_BadUsage_ExitTwo(string flag, string value)
    {
        var (exit, _, stderr) = await BerthCli.RunAsync("logs", fixture.HAProxyLog, flag, value);
        Assert.Equal(2, exit);
        Assert.Contains("berth logs:", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cli_MissingFile_ExitTwo()
    {
        var (exit, _, stderr) = await BerthCli.RunAsync("logs", "/nonexistent/haproxy.log");
        Assert.Equal(2, exit);
        Assert.Contains("no such file", stderr, StringComparison.Ordinal);
    }
}

public sealed class DockerRegistryLogsTests(DockerRegistryBehindHAProxyFixture fixture) : LogsEndToEndTests<DockerRegistryBehindHAProxyFixture>(fixture);
