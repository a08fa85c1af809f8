using System.Text;
using Berth.Logs.Parsing;

namespace Berth.Logs.Tests.Parsing;

/// <summary>Real lines: HAProxy 2.6 on this machine (raw and the three syslog formats), docker-registry's access lines, NGINX and Apache.</summary>
public sealed class HttpLogParserTests
{
    private static (LogFormat Format, int Status, string Method, string Path, long Ticks) Parse(string line)
    {
        var bytes = Encoding.UTF8.GetBytes(line);
        Assert.True(HttpLogParser.TryParse(bytes, out var r), "not parsed: " + line);
        Assert.True(HttpLogParser.TryGetRequest(r.Format, r.Request, r.Tail, out var request));
        HttpLogParser.SplitRequest(request, out var method, out var target);
        Assert.True(LogTime.TryParseBracketed(r.Time, out var ticks), "time not parsed: " + Encoding.UTF8.GetString(r.Time));
        return (r.Format, r.Status, Encoding.UTF8.GetString(method), Encoding.UTF8.GetString(HttpLogParser.PathOf(target)), ticks);
    }

    private static long Utc(int y, int mo, int d, int h, int mi, int s, int ms = 0) => new DateTime(y, mo, d, h, mi, s, ms, DateTimeKind.Utc).Ticks;

    [Fact]
    public void HAProxyRaw_Status500()
    {
        var r = Parse("""127.0.0.1:44402 [04/Dec/2026:19:55:55.633] fe_registry be_registry/s2 0/0/0/1/1 500 186 - - ---- 1/1/0/0/0 0/0 "GET /status/500 HTTP/1.1" """.TrimEnd());
        Assert.Equal((LogFormat.HAProxy, 500, "GET", "/status/500", Utc(2026, 12, 4, 19, 55, 55, 633)), r);
    }

    [Fact]
    public void HAProxyRaw_NoServer503()
    {
        var r = Parse("""127.0.0.1:39698 [04/Dec/2026:19:55:41.889] fe_registry be_registry/<NOSRV> 0/-1/-1/-1/0 503 217 - - SC-- 1/1/0/0/0 0/0 "GET /c HTTP/1.1" """.TrimEnd());
        Assert.Equal(503, r.Status);
        Assert.Equal("/c", r.Path);
    }

    [Fact]
    public void HAProxyRaw_QueryStringRemoved_PutUpload()
    {
        var r = Parse("""127.0.0.1:37634 [04/Dec/2026:19:55:22.077] fe_registry be_registry/s1 0/0/0/1/1 201 177 - - ---- 1/1/0/0/0 0/0 "PUT /v2/x/blobs/uploads/1?digest=sha256%3Aab&_state=x HTTP/1.1" """.TrimEnd());
        Assert.Equal(("PUT", "/v2/x/blobs/uploads/1"), (r.Method, r.Path));
    }

    [Theory]
    [InlineData("""<134>Dec  4 19:55:52 localhost haproxy[13249]: 127.0.0.1:44372 [04/Dec/2026:19:55:52.437] fe_registry be_registry/s2 0/0/0/0/0 500 186 - - ---- 1/1/0/0/0 0/0 "GET /status/500 HTTP/1.1" """)]
    [InlineData("""<134>Dec  4 19:58:05 haproxy[15875]: 127.0.0.1:55692 [04/Dec/2026:19:58:05.281] fe_registry be_registry/s2 0/0/0/0/0 500 186 - - ---- 1/1/0/0/0 0/0 "GET /status/500 HTTP/1.1" """)]
    [InlineData("""2026-12-04T19:58:06.167289+00:00 127.0.0.1:55720 [04/Dec/2026:19:58:06.165] fe_registry be_registry/s2 0/0/0/1/1 500 186 - - ---- 1/1/0/0/0 0/0 "GET /status/500 HTTP/1.1" """)]
    [InlineData("""Dec  4 19:55:52 lb-01 haproxy[1234]: 10.0.0.1:44372 [04/Dec/2026:19:55:52.437] fe_registry~ be_registry/s2 0/0/0/0/0 500 186 - - ---- 1/1/0/0/0 0/0 "GET /status/500 HTTP/1.1" """)]
    public void HAProxy_SyslogPrefixes(string line)
    {
        var r = Parse(line.TrimEnd());
        Assert.Equal((LogFormat.HAProxy, 500, "GET", "/status/500"), (r.Format, r.Status, r.Method, r.Path));
    }

    [Fact]
    public void HAProxy_HeaderCaptures_WithSpacesAndBraces()
    {
        var r = Parse("""10.1.2.3:51234 [04/Dec/2026:19:55:55.633] fe_registry be_registry/s2 0/0/0/12/12 500 1534 - - ---- 8/8/3/1/0 0/0 {registry.example.com|docker/24.0.7 go/go1.20.10 os/linux} {nginx} "GET /v2/group/sub/app/manifests/latest HTTP/1.1" """.TrimEnd());
        Assert.Equal((500, "GET", "/v2/group/sub/app/manifests/latest"), (r.Status, r.Method, r.Path));
    }

    [Fact]
    public void HAProxy_Http2AbsoluteUri_PathOnly()
    {
        var r = Parse("""10.1.2.3:51234 [04/Dec/2026:19:55:55.633] fe_https~ be_registry/s1 0/0/0/3/3 404 120 - - ---- 1/1/0/0/0 0/0 "HEAD https://registry.example.com/v2/a/b/manifests/v1?ns=x HTTP/2.0" """.TrimEnd());
        Assert.Equal(("HEAD", "/v2/a/b/manifests/v1"), (r.Method, r.Path));
    }

    [Fact]
    public void HAProxy_ClientAbort_MinusOneStatus()
    {
        var r = Parse("""127.0.0.1:5000 [04/Dec/2026:19:55:55.633] fe be/s1 0/0/0/-1/12 -1 0 - - CD-- 1/1/0/0/0 0/0 "GET /v2/a/blobs/sha256:abc HTTP/1.1" """.TrimEnd());
        Assert.Equal(-1, r.Status);
    }

    [Fact]
    public void HAProxy_BadRequest_KeepsText()
    {
        var bytes = Encoding.UTF8.GetBytes("""127.0.0.1:5000 [04/Dec/2026:19:55:55.633] fe fe/<NOSRV> -1/-1/-1/-1/0 400 187 - - PR-- 1/1/0/0/0 0/0 "<BADREQ>" """.TrimEnd());
        Assert.True(HttpLogParser.TryParse(bytes, out var r));
        Assert.Equal(400, r.Status);
        Assert.True(HttpLogParser.TryGetRequest(r.Format, r.Request, r.Tail, out var request));
        Assert.Equal("<BADREQ>", Encoding.UTF8.GetString(request));
    }

    [Fact]
    public void Combined_DockerRegistryAccessLine()
    {
        var r = Parse("""127.0.0.1 - - [04/Dec/2026:20:25:18 +0000] "GET /v2/a/manifests/sha256:xyz?x=1 HTTP/1.1" 500 179 "" "curl/7.88.1" """.TrimEnd());
        Assert.Equal((LogFormat.Combined, 500, "GET", "/v2/a/manifests/sha256:xyz", Utc(2026, 12, 4, 20, 25, 18)), r);
    }

    [Fact]
    public void Combined_Nginx_WithOffset()
    {
        var r = Parse("""203.0.113.7 - alice [04/Dec/2026:21:25:18 +0100] "HEAD /v2/team/app/blobs/sha256:0123 HTTP/1.1" 404 0 "-" "containerd/v1.7.2" """.TrimEnd());
        Assert.Equal((LogFormat.Combined, 404, "HEAD", "/v2/team/app/blobs/sha256:0123", Utc(2026, 12, 4, 20, 25, 18)), r);
    }

    [Fact]
    public void Combined_Apache_EscapedQuoteInRequest()
    {
        var r = Parse("""192.0.2.1 - - [04/Dec/2026:20:25:18 -0000] "GET /v2/x\"y HTTP/1.0" 400 226 "-" "Mozilla/5.0" """.TrimEnd());
        Assert.Equal((LogFormat.Combined, 400), (r.Format, r.Status));
    }

    [Theory]
    [InlineData("")]
    [InlineData("Server be_registry/s2 is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", check duration: 0ms. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.")]
    [InlineData("127.0.0.1:5000 [04/Dec/2026:19:55:55.633] fe be/s1 0/0/5007 212 -- 1/1/0/0/0 0/0")] // tcplog
    [InlineData("[04/Dec/2026:19:55:55.633]")]
    [InlineData("hello world")]
    [InlineData("127.0.0.1 - - [04/Dec/2026:20:25:18 +0000] \"GET / HTTP/1.1")]
    public void NotAnAccessLine(string line)
    {
        Assert.False(HttpLogParser.TryParse(Encoding.UTF8.GetBytes(line), out _));
    }

    [Theory]
    [InlineData("Server be_registry/s2 is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", check duration: 0ms. 1 active and 0 backup servers left.")]
    [InlineData("<129>Dec  4 19:55:52 localhost haproxy[13249]: backend be_registry has no server available!")]
    [InlineData("Proxy fe_registry started.")]
    [InlineData("2026-12-04T19:58:06.167289+00:00 Server be_registry/s1 is UP, reason: Layer7 check passed")]
    public void HAProxyNotices(string line)
    {
        Assert.True(HttpLogParser.IsHAProxyNotice(Encoding.UTF8.GetBytes(line)));
    }
}
