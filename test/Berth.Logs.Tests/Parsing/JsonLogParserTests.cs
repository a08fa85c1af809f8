using System.Text;
using Berth.Logs.Parsing;

namespace Berth.Logs.Tests.Parsing;

public sealed class JsonLogParserTests
{
    private static JsonLogEntry Parse(string line)
    {
        Assert.True(JsonLogParser.TryParse(Encoding.UTF8.GetBytes(line), out var e), "not parsed: " + line);
        return e;
    }

    [Fact]
    public void Distribution_ResponseCompletedWithError_InvalidChecksumDigestFormat()
    {
        // docker-registry 2.8.2 on this machine, GET of a tag whose current/link is empty.
        var e = Parse("""{"err.code":"unknown","err.detail":"invalid checksum digest format","err.message":"unknown error","go.version":"go1.19.8","http.request.host":"127.0.0.1:5731","http.request.id":"aeaff008-6b29-40d0-9b7e-6b7b70a760c0","http.request.method":"GET","http.request.remoteaddr":"127.0.0.1:41558","http.request.uri":"/v2/g/sub/img/manifests/v1","http.request.useragent":"curl/7.88.1","http.response.contenttype":"application/json; charset=utf-8","http.response.duration":"1.23207ms","http.response.status":500,"http.response.written":70,"level":"error","msg":"response completed with error","time":"2026-12-04T20:27:21.053028959Z","vars.name":"g/sub/img","vars.reference":"v1"}""");
        Assert.True(e.IsRequest);
        Assert.True(e.IsError);
        Assert.Equal(("GET", "/v2/g/sub/img/manifests/v1", 500), (e.Method, e.Uri, e.Status));
        Assert.Equal(("unknown", "unknown error", "invalid checksum digest format"), (e.ErrorCode, e.ErrorMessage, e.ErrorDetail));
        Assert.Equal("g/sub/img", e.Repository);
        Assert.Equal("2026-12-04T20:27:21.053028959Z", e.Time);
    }

    [Fact]
    public void Distribution_ErrDetailObject_IsSkipped()
    {
        var e = Parse("""{"err.code":"name unknown","err.detail":{"name":"a"},"err.message":"repository name not known to registry","go.version":"go1.19.8","http.request.method":"GET","http.request.uri":"/v2/a/tags/list","http.response.status":404,"level":"error","msg":"response completed with error","time":"2026-12-04T20:25:21.082241526Z","vars.name":"a"}""");
        Assert.Null(e.ErrorDetail);
        Assert.Equal(404, e.Status);
    }

    [Fact]
    public void Distribution_ApplicationLine_IsNotARequest()
    {
        var e = Parse("""{"go.version":"go1.19.8","instance.id":"b14bb30a-9957-4aae-9201-e7e5da8f039b","level":"info","msg":"listening on 127.0.0.1:5731","time":"2026-12-04T20:25:17.485391446Z","version":"2.8.2+ds1"}""");
        Assert.False(e.IsRequest);
        Assert.False(e.IsError);
        Assert.Equal("listening on 127.0.0.1:5731", e.Message);
    }

    [Fact]
    public void GitLabRegistry_AccessLogger()
    {
        // GitLab container registry access log (labkit): method/uri/status, msg "access".
        var e = Parse("""{"content_type":"","correlation_id":"01FQGNSKVMHQEAVE21KYTJN2P4","duration_ms":62,"host":"localhost:5000","level":"info","method":"DELETE","msg":"access","proto":"HTTP/1.1","referrer":"","remote_addr":"127.0.0.1:47498","remote_ip":"127.0.0.1","status":202,"system":"http","time":"2021-12-22T08:58:15Z","ttfb_ms":62,"uri":"/v2/group/project/tags/reference/v1","user_agent":"GitLab/14.6.0","written_bytes":0}""");
        Assert.True(e.IsRequest);
        Assert.Equal(("DELETE", "/v2/group/project/tags/reference/v1", 202), (e.Method, e.Uri, e.Status));
    }

    [Fact]
    public void GitLab_EscapedAmpersandInUri()
    {
        var e = Parse("""{"method":"GET","status":200,"uri":"/v2/x/tags/list?n=10\u0026last=a","time":"2019-09-17T22:17:19Z"}""");
        Assert.Equal("/v2/x/tags/list?n=10&last=a", e.Uri);
    }

    [Fact]
    public void Berth_FlatJson()
    {
        var e = Parse("""{"time":"2026-12-04T20:00:00.1234567+00:00","level":"error","msg":"manifest read failed","http.request.method":"HEAD","http.request.uri":"/v2/team/app/manifests/latest","http.response.status":"500","err.code":"MANIFEST_UNKNOWN","err.message":"invalid checksum digest format","repository":"team/app"}""");
        Assert.Equal(("HEAD", 500, "team/app", "MANIFEST_UNKNOWN"), (e.Method, e.Status, e.Repository, e.ErrorCode));
    }

    [Theory]
    [InlineData("{")]
    [InlineData("{\"a\":1} trailing")]
    [InlineData("[1,2]")]
    [InlineData("{\"msg\":\"unterminated}")]
    public void Invalid(string line)
    {
        Assert.False(JsonLogParser.TryParse(Encoding.UTF8.GetBytes(line), out _));
    }
}
