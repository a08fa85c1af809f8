using System.IO.Compression;
using System.Text;
using Berth.Logs.Analysis;
using Berth.Logs.Diagnosis;
using Berth.Logs.Input;
using Berth.Logs.Parsing;
using Berth.Logs.Reporting;

namespace Berth.Logs.Tests.Analysis;

public sealed class LogAnalyzerTests
{
    private const string H500a = """127.0.0.1:1 [04/Dec/2026:19:55:55.633] fe be/s1 0/0/0/1/1 500 186 - - ---- 1/1/0/0/0 0/0 "GET /v2/g/sub/img/manifests/v1 HTTP/1.1" """;
    private const string H500b = """127.0.0.1:1 [04/Dec/2026:19:56:10.000] fe be/s1 0/0/0/1/1 500 186 - - ---- 1/1/0/0/0 0/0 "HEAD /v2/g/sub/img/manifests/v1?x=1 HTTP/1.1" """;
    private const string H503 = """127.0.0.1:1 [04/Dec/2026:20:01:00.000] fe be/s1 0/0/-1/-1/0 503 217 - - SC-- 1/1/0/0/0 0/0 "GET /v2/other/blobs/sha256:aa HTTP/1.1" """;
    private const string H200 = """127.0.0.1:1 [04/Dec/2026:20:02:00.000] fe be/s1 0/0/0/1/1 200 100 - - ---- 1/1/0/0/0 0/0 "GET /v2/ HTTP/1.1" """;
    private const string H404 = """127.0.0.1:1 [04/Dec/2026:20:03:00.000] fe be/s1 0/0/0/1/1 404 100 - - ---- 1/1/0/0/0 0/0 "GET /v2/g/sub/img/manifests/nope HTTP/1.1" """;

    internal static Task<LogReport> AnalyzeText(string text, LogQuery? query = null) =>
        LogAnalyzer.AnalyzeAsync([LogInput.FromStream("test", new MemoryStream(Encoding.UTF8.GetBytes(text)))], query ?? new LogQuery());

    private static string Lines(params string[] lines) => string.Join("\n", lines.Select(l => l.TrimEnd())) + "\n";

    [Fact]
    public async Task TopPaths_Default5xx_AllMethods_QueryStripped()
    {
        var report = await AnalyzeText(Lines(H500a, H500b, H500a, H503, H200, H404));
        Assert.Equal(6, report.Requests);
        Assert.Equal(4, report.Matched);
        Assert.Equal(2, report.Top.Count);
        var first = report.Top[0];
        Assert.Equal(("/v2/g/sub/img/manifests/v1", 3L, RegistryPathKind.Manifest, "g/sub/img", "v1"), (first.Path, first.Count, first.Kind, first.Repository, first.Reference));
        Assert.Equal([new(500, 3L)], first.Statuses);
        Assert.Equal([new("GET", 2L), new("HEAD", 1L)], first.Methods);
        Assert.Equal(("/v2/other/blobs/sha256:aa", RegistryPathKind.Blob), (report.Top[1].Path, report.Top[1].Kind));
        Assert.Equal(["/v2/g/sub/img/manifests/v1"], report.FailingManifestPaths);
        Assert.Equal([new(200, 1L), new(404, 1L), new(500, 3L), new(503, 1L)], report.Statuses);
    }

    [Fact]
    public async Task StatusAndMethodFilters()
    {
        var text = Lines(H500a, H500b, H500a, H503, H200, H404);
        var only500Get = await AnalyzeText(text, new LogQuery { Status = StatusFilter.Parse("500"), Methods = new HashSet<string> { "GET" } });
        Assert.Equal(2, only500Get.Matched);
        Assert.Equal([new("GET", 2L)], only500Get.Top.Single().Methods);

        var fours = await AnalyzeText(text, new LogQuery { Status = StatusFilter.Parse("4xx") });
        Assert.Equal("/v2/g/sub/img/manifests/nope", fours.Top.Single().Path);

        var all = await AnalyzeText(text, new LogQuery { Status = StatusFilter.Parse("all"), Top = 1 });
        Assert.Equal(6, all.Matched);
        Assert.Single(all.Top);
    }

    [Fact]
    public async Task SinceUntil_AndByMinute()
    {
        var query = new LogQuery
        {
            Since = new DateTimeOffset(2026, 12, 4, 19, 56, 0, TimeSpan.Zero),
            Until = new DateTimeOffset(2026, 12, 4, 20, 2, 0, TimeSpan.Zero),
            By = TimeBucketSize.Minute,
        };
        var report = await AnalyzeText(Lines(H500a, H500b, H503, H200, H404), query);
        Assert.Equal(2, report.Requests); // H500b (19:56:10) and H503 (20:01); H200 is at the exclusive end
        Assert.Equal(3, report.Lines.OutsideRange);
        Assert.Equal(2, report.ByTime.Count);
        Assert.Equal(new DateTime(2026, 12, 4, 19, 56, 0, DateTimeKind.Utc), report.ByTime[0].Start);
        Assert.Equal(1, report.ByTime[0].ByClass[5]);
        Assert.Equal(1, report.ByTime[1].Matched);
    }

    [Fact]
    public async Task ByHour_CountsEveryStatusClass()
    {
        var report = await AnalyzeText(Lines(H500a, H500b, H503, H200, H404), new LogQuery { By = TimeBucketSize.Hour });
        Assert.Equal(2, report.ByTime.Count);
        Assert.Equal((2L, 2L), (report.ByTime[0].Total, report.ByTime[0].Matched));
        Assert.Equal(new long[] { 0, 0, 1, 0, 1, 1 }, report.ByTime[1].ByClass);
        using var text = new StringWriter();
        LogReportText.Write(report, text);
        Assert.Contains("2026-12-04 19:00", text.ToString(), StringComparison.Ordinal);
        Assert.Contains("█", text.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnparsedAndNoticesAreCountedNeverFatal()
    {
        var report = await AnalyzeText(Lines(H500a, "garbage line", "", "Server be/s1 is DOWN, reason: Layer4 timeout", "{not json", H200) + "\r\n");
        Assert.Equal(7, report.Lines.Total);
        Assert.Equal(2, report.Lines.Requests);
        Assert.Equal(2, report.Lines.Unparsed);
        Assert.Equal(1, report.Lines.Notices);
        Assert.Equal(2, report.Lines.Blank);
        Assert.Equal(["garbage line", "{not json"], report.Inputs[0].UnparsedSamples);
    }

    [Fact]
    public async Task DockerRegistryOutput_JsonRecordsWin_OverItsOwnAccessLines()
    {
        var text = Lines(
            """{"err.code":"unknown","err.detail":"invalid checksum digest format","err.message":"unknown error","http.request.method":"GET","http.request.uri":"/v2/g/sub/img/manifests/v1","http.response.status":500,"level":"error","msg":"response completed with error","time":"2026-12-04T20:27:21.053028959Z","vars.name":"g/sub/img","vars.reference":"v1"}""",
            """127.0.0.1 - - [04/Dec/2026:20:27:21 +0000] "GET /v2/g/sub/img/manifests/v1 HTTP/1.1" 500 70 "" "curl/7.88.1" """,
            """{"level":"info","msg":"listening on 127.0.0.1:5731","time":"2026-12-04T20:25:17.485391446Z"}""");
        var report = await AnalyzeText(text);
        Assert.Equal(1, report.Requests);
        Assert.Equal(1, report.Lines.Duplicates);
        Assert.Equal(1, report.Lines.Events);
        Assert.Equal(1, report.Lines.Json);
        var error = Assert.Single(report.Errors);
        Assert.Equal("unknown: invalid checksum digest format", error.Class);
        Assert.Equal([new("g/sub/img", 1L)], error.Repositories);
    }

    [Fact]
    public async Task Grep_CountsMatchingJsonLinesByRepository_CaseInsensitive()
    {
        var text = Lines(
            """{"err.code":"unknown","err.detail":"invalid checksum digest format","http.request.uri":"/v2/a/b/manifests/v1","http.response.status":500,"level":"error","msg":"response completed with error","vars.name":"a/b"}""",
            """{"err.code":"unknown","err.detail":"Invalid Checksum Digest Format","http.request.uri":"/v2/c/manifests/v1","http.response.status":500,"level":"error","msg":"response completed with error"}""",
            """{"err.code":"manifest unknown","err.detail":"unknown tag=v2","http.request.uri":"/v2/c/manifests/v2","http.response.status":404,"level":"error","msg":"response completed with error"}""");
        var report = await AnalyzeText(text, new LogQuery { Grep = "invalid checksum digest format" });
        Assert.Equal(2, report.Errors.Sum(e => e.Count));
        var repos = report.Errors.SelectMany(e => e.Repositories).Select(r => r.Key).Order().ToArray();
        Assert.Equal(["a/b", "c"], repos);

        var all = await AnalyzeText(text);
        Assert.Contains(all.Errors, e => e.Class == "manifest unknown: unknown tag=…");
    }

    [Fact]
    public async Task ChunkBoundaries_GzipMultiMember_PipeLikeStream()
    {
        // > 2 chunks of lines, gzip written as two members, read from a non-seekable stream.
        var sb = new StringBuilder();
        var n = 0;
        while (sb.Length < (LogAnalyzer.ChunkSize * 2) + 12345)
        {
            sb.Append(n % 7 == 0 ? H500a.TrimEnd() : H200.TrimEnd()).Append('\n');
            n++;
        }

        var bytes = Encoding.UTF8.GetBytes(sb.ToString());
        var half = bytes.Length / 2;
        using var gz = new MemoryStream();
        foreach (var part in new[] { bytes[..half], bytes[half..] })
        {
            using var member = new MemoryStream();
            using (var z = new GZipStream(member, CompressionLevel.Fastest, leaveOpen: true))
            {
                z.Write(part);
            }

            gz.Write(member.ToArray());
        }

        var plain = await LogAnalyzer.AnalyzeAsync([LogInput.FromStream("plain", new MemoryStream(bytes))], new LogQuery());
        var zipped = await LogAnalyzer.AnalyzeAsync([LogInput.FromStream("zipped", new NonSeekable(gz.ToArray()))], new LogQuery { Parallelism = 3 });
        var expected500 = (n + 6) / 7;
        Assert.Equal(n, plain.Lines.Total);
        Assert.Equal(expected500, plain.Matched);
        Assert.Equal(n, zipped.Lines.Total);
        Assert.Equal(0, zipped.Lines.Unparsed);
        Assert.Equal(expected500, zipped.Matched);
        Assert.True(zipped.Inputs[0].Compressed);
    }

    [Fact]
    public async Task Files_PlainAndGz_RotatedSet()
    {
        var dir = Directory.CreateTempSubdirectory("berth-logs-");
        try
        {
            var current = Path.Combine(dir.FullName, "haproxy.log");
            var rotated = Path.Combine(dir.FullName, "haproxy.log.1.gz");
            await File.WriteAllTextAsync(current, Lines(H500a, H200));
            await using (var f = File.Create(rotated))
            await using (var z = new GZipStream(f, CompressionLevel.Optimal))
            {
                z.Write(Encoding.UTF8.GetBytes(Lines(H500a, H500b, H503)));
            }

            var report = await LogAnalyzer.AnalyzeAsync([LogInput.File(current), LogInput.File(rotated)], new LogQuery());
            Assert.Equal(3, report.Top[0].Count);
            Assert.Equal(5, report.Requests);
            Assert.Equal([false, true], report.Inputs.Select(i => i.Compressed));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task TruncatedGzip_ReportsErrorAndKeepsWhatWasRead()
    {
        using var gz = new MemoryStream();
        using (var z = new GZipStream(gz, CompressionLevel.Optimal, leaveOpen: true))
        {
            for (var i = 0; i < 2000; i++)
            {
                z.Write(Encoding.UTF8.GetBytes(H500a.TrimEnd() + "\n"));
            }
        }

        var cut = gz.ToArray()[..(int)(gz.Length - 20)];
        var report = await LogAnalyzer.AnalyzeAsync([LogInput.FromStream("cut.gz", new MemoryStream(cut))], new LogQuery());
        Assert.True(report.Incomplete);
        Assert.NotNull(report.Inputs[0].Error);
        Assert.True(report.Matched > 0);
    }

    [Fact]
    public async Task Json_ContractFields()
    {
        var report = await AnalyzeText(Lines(H500a, H503));
        using var ms = new MemoryStream();
        LogReportJson.Write(report, ms);
        using var doc = System.Text.Json.JsonDocument.Parse(ms.ToArray());
        var top = doc.RootElement.GetProperty("top");
        Assert.Equal(2, top.GetArrayLength());
        var first = top[0];
        Assert.Equal("/v2/g/sub/img/manifests/v1", first.GetProperty("path").GetString());
        Assert.Equal(1, first.GetProperty("count").GetInt64());
        Assert.Equal("g/sub/img", first.GetProperty("repository").GetString());
        Assert.Equal("v1", first.GetProperty("reference").GetString());
        Assert.Equal("manifest", first.GetProperty("kind").GetString());
        Assert.Equal(1, first.GetProperty("statuses").GetProperty("500").GetInt64());
        Assert.Equal("5xx", doc.RootElement.GetProperty("filter").GetProperty("status").GetString());
        Assert.Equal(2, doc.RootElement.GetProperty("lines").GetProperty("requests").GetInt64());
    }

    [Fact]
    public async Task Diagnoser_ExtensionPoint_PutsClassBesideCount()
    {
        var report = await AnalyzeText(Lines(H500a, H503));
        var diagnosed = await PathDiagnosis.AttachAsync(report, new FakeDiagnoser());
        Assert.Equal("tag-link-empty", diagnosed.Top[0].Diagnosis);
        Assert.Null(diagnosed.Top[1].Diagnosis); // a blob path: not a manifest
        using var text = new StringWriter();
        LogReportText.Write(diagnosed, text);
        Assert.Contains("doctor: tag-link-empty", text.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelled_Throws()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            LogAnalyzer.AnalyzeAsync([LogInput.FromStream("x", new MemoryStream(Encoding.UTF8.GetBytes(Lines(H200))))], new LogQuery(), cts.Token));
    }

    [Fact]
    public async Task FailingStream_FailsTheRun_WithoutHanging()
    {
        var analysis = LogAnalyzer.AnalyzeAsync([LogInput.FromStream("bad", new FailingStream())], new LogQuery { Parallelism = 1 });
        var finished = await Task.WhenAny(analysis, Task.Delay(TimeSpan.FromSeconds(30)));
        Assert.Same(analysis, finished);
        await Assert.ThrowsAsync<InvalidOperationException>(() => analysis);
    }

    /// <summary>Gives many chunks of lines, then throws something that is not an I/O error.</summary>
    private sealed class FailingStream : Stream
    {
        private static readonly byte[] Line = Encoding.UTF8.GetBytes(H200.TrimEnd() + "\n");
        private long _given;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_given > 40L * LogAnalyzer.ChunkSize)
            {
                throw new InvalidOperationException("broken source");
            }

            var n = 0;
            while (n < count)
            {
                buffer[offset + n] = Line[(int)((_given + n) % Line.Length)];
                n++;
            }

            _given += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private sealed class FakeDiagnoser : IPathDiagnoser
    {
        public Task<IReadOnlyDictionary<string, string>> DiagnoseAsync(IReadOnlyList<string> manifestPaths, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyDictionary<string, string>>(manifestPaths.ToDictionary(p => p, _ => "tag-link-empty"));
    }

    private sealed class NonSeekable(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;

        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, 7000));

        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(buffer.Length, 7000)]);
    }
}
