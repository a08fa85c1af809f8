
namespace Berth.Logs.Parsing;

/// <summary>Which writer a line came from.</summary>
public enum LogFormat : byte
{
    /// <summary>Not a request line.</summary>
    None = 0,

    /// <summary>HAProxy 2.x <c>option httplog</c>, bare or behind a syslog header (rfc3164, local, iso).</summary>
    HAProxy = 1,

    /// <summary>NGINX/Apache common or combined log format (also what docker-registry writes to stdout).</summary>
    Combined = 2,

    /// <summary>JSON lines: Berth, CNCF Distribution, GitLab container registry.</summary>
    Json = 3,
}

/// <summary>One access-log line cut into spans of the original bytes; nothing is copied.</summary>
internal ref struct HttpLogRecord
{
    public LogFormat Format;

    /// <summary>HTTP status; HAProxy writes -1 when there was none (client aborted).</summary>
    public int Status;

    /// <summary>The timestamp's text, for <see cref="LogTime.TryParseBracketed"/>.</summary>
    public ReadOnlySpan<byte> Time;

    /// <summary>Combined format: the request line as logged, without quotes: <c>GET /v2/x/manifests/y HTTP/1.1</c>.</summary>
    public ReadOnlySpan<byte> Request;

    /// <summary>HAProxy: the text after the status, holding the request line; see <see cref="HttpLogParser.TryGetRequest"/>.</summary>
    public ReadOnlySpan<byte> Tail;
}

/// <summary>
/// Hand parser for HAProxy's <c>option httplog</c> lines and the NGINX/Apache combined format, the hot path
/// of <c>berth logs</c>. Both carry a bracketed <c>[dd/Mmm/yyyy:HH:MM:SS...]</c> date; what follows
/// it tells them apart (<c>"</c> for combined, the frontend name for HAProxy).
/// </summary>
internal static class HttpLogParser
{
    /// <summary>Cuts an access line; false when the line is neither format.</summary>
    public static bool TryParse(ReadOnlySpan<byte> line, out HttpLogRecord record)
    {
        record = default;

        // The date: '[' then dd/Mmm/yyyy: ('haproxy[1234]:' in a syslog header is skipped by this shape test).
        var from = 0;
        int open;
        while (true)
        {
            var i = line[from..].IndexOf((byte)'[');
            if (i < 0)
            {
                return false;
            }

            open = from + i;
            if (open + 22 < line.Length && line[open + 3] == '/' && line[open + 7] == '/' && line[open + 12] == ':')
            {
                break;
            }

            from = open + 1;
        }

        var close = line[(open + 21)..].IndexOf((byte)']');
        if (close < 0)
        {
            return false;
        }

        close += open + 21;
        if (close + 2 >= line.Length || line[close + 1] != ' ')
        {
            return false;
        }

        record.Time = line.Slice(open + 1, close - open - 1);
        var rest = line[(close + 2)..];
        return rest[0] == '"' ? ParseCombinedTail(rest, ref record) : ParseHAProxyTail(rest, ref record);
    }

    /// <summary>After the date: <c>fe be/srv TR/Tw/Tc/Tr/Ta status bytes ... "request"</c>.</summary>
    private static bool ParseHAProxyTail(ReadOnlySpan<byte> rest, ref HttpLogRecord record)
    {
        // frontend
        var sp = rest.IndexOf((byte)' ');
        if (sp <= 0)
        {
            return false;
        }

        rest = rest[(sp + 1)..];

        // backend/server
        sp = rest.IndexOf((byte)' ');
        if (sp <= 0 || rest[..sp].IndexOf((byte)'/') < 0)
        {
            return false;
        }

        rest = rest[(sp + 1)..];

        // TR/Tw/Tc/Tr/Ta: five timers (a tcplog line has three, Tw/Tc/Tt, and is not a request)
        sp = rest.IndexOf((byte)' ');
        if (sp <= 0 || rest[..sp].Count((byte)'/') != 4)
        {
            return false;
        }

        rest = rest[(sp + 1)..];
        if (!TryStatus(ref rest, out record.Status))
        {
            return false;
        }

        // The request line is cut out only for lines that pass the status filter (TryGetRequest).
        record.Tail = rest;
        record.Format = LogFormat.HAProxy;
        return true;
    }

    /// <summary>
    /// The request line of a parsed line, without quotes. For HAProxy it is the last field and the first
    /// quote after the status opens it (header captures <c>{...}</c> and cookies are written with '"'
    /// escaped by HAProxy). False when the line has none.
    /// </summary>
    public static bool TryGetRequest(LogFormat format, ReadOnlySpan<byte> combinedRequest, ReadOnlySpan<byte> tail, out ReadOnlySpan<byte> request)
    {
        if (format == LogFormat.Combined)
        {
            request = combinedRequest;
            return true;
        }

        var rest = tail;
        var q = rest.IndexOf((byte)'"');
        var end = rest.LastIndexOf((byte)'"');
        if (q < 0 || end <= q)
        {
            request = default;
            return false;
        }

        request = rest[(q + 1)..end];
        return true;
    }

    /// <summary>After the date: <c>"request" status bytes "referer" "agent"</c>.</summary>
    private static bool ParseCombinedTail(ReadOnlySpan<byte> rest, ref HttpLogRecord record)
    {
        // Closing quote, skipping backslash-escaped ones (Apache writes \", NGINX \x22).
        var pos = 1;
        int end;
        while (true)
        {
            var q = rest[pos..].IndexOf((byte)'"');
            if (q < 0)
            {
                return false;
            }

            end = pos + q;
            if (rest[end - 1] != '\\')
            {
                break;
            }

            pos = end + 1;
        }

        record.Request = rest[1..end];
        if (end + 2 >= rest.Length || rest[end + 1] != ' ')
        {
            return false;
        }

        var tail = rest[(end + 2)..];
        if (!TryStatus(ref tail, out record.Status))
        {
            return false;
        }

        record.Format = LogFormat.Combined;
        return true;
    }

    /// <summary>Reads <c>-1</c> or 1-3 digits followed by a space.</summary>
    private static bool TryStatus(ref ReadOnlySpan<byte> rest, out int status)
    {
        status = 0;
        var i = 0;
        var negative = false;
        if (rest.Length > 0 && rest[0] == '-')
        {
            negative = true;
            i = 1;
        }

        var start = i;
        while (i < rest.Length && (uint)(rest[i] - '0') <= 9)
        {
            status = (status * 10) + (rest[i] - '0');
            i++;
        }

        var digits = i - start;
        if (digits == 0 || digits > 3 || i >= rest.Length || rest[i] != ' ')
        {
            return false;
        }

        if (negative)
        {
            status = -status;
        }

        rest = rest[(i + 1)..];
        return true;
    }

    /// <summary>Splits <c>GET /path HTTP/1.1</c>; a truncated or bad request keeps what is there.</summary>
    public static void SplitRequest(ReadOnlySpan<byte> request, out ReadOnlySpan<byte> method, out ReadOnlySpan<byte> target)
    {
        var sp = request.IndexOf((byte)' ');
        if (sp < 0)
        {
            method = request; // "<BADREQ>"
            target = default;
            return;
        }

        method = request[..sp];
        target = request[(sp + 1)..];
        var last = target.LastIndexOf((byte)' ');
        if (last >= 0 && target[(last + 1)..].StartsWith("HTTP/"u8))
        {
            target = target[..last];
        }
    }

    /// <summary>
    /// The path of a request target as logged: an absolute-form target (HTTP/2 through HAProxy,
    /// proxies) loses its scheme and authority; the query string and fragment are removed.
    /// </summary>
    public static ReadOnlySpan<byte> PathOf(ReadOnlySpan<byte> target)
    {
        if (target.StartsWith("http://"u8) || target.StartsWith("https://"u8))
        {
            var afterScheme = target.IndexOf("//"u8) + 2;
            var slash = target[afterScheme..].IndexOf((byte)'/');
            target = slash < 0 ? "/"u8 : target[(afterScheme + slash)..];
        }

        var cut = target.IndexOfAny((byte)'?', (byte)'#');
        return cut < 0 ? target : target[..cut];
    }

    /// <summary>Same as <see cref="PathOf(ReadOnlySpan{byte})"/> for JSON string values.</summary>
    public static ReadOnlySpan<char> PathOf(ReadOnlySpan<char> target)
    {
        if (target.StartsWith("http://", StringComparison.Ordinal) || target.StartsWith("https://", StringComparison.Ordinal))
        {
            var afterScheme = target.IndexOf("//", StringComparison.Ordinal) + 2;
            var slash = target[afterScheme..].IndexOf('/');
            target = slash < 0 ? "/" : target[(afterScheme + slash)..];
        }

        var cut = target.IndexOfAny('?', '#');
        return cut < 0 ? target : target[..cut];
    }

    /// <summary>
    /// HAProxy's non-request lines in the same log (server state changes, proxy start/stop), bare or
    /// after a syslog header: recognised so they are not reported as unparsed.
    /// </summary>
    public static bool IsHAProxyNotice(ReadOnlySpan<byte> line)
    {
        if (StartsWithNotice(line))
        {
            return true;
        }

        var header = line.IndexOf("]: "u8);
        if (header >= 0 && header < 160 && StartsWithNotice(line[(header + 3)..]))
        {
            return true;
        }

        var sp = line.IndexOf((byte)' ');
        return sp > 0 && sp < 40 && StartsWithNotice(line[(sp + 1)..]);
    }

    private static bool StartsWithNotice(ReadOnlySpan<byte> s) =>
        s.StartsWith("Server "u8) || s.StartsWith("Backup Server "u8) || s.StartsWith("Proxy "u8)
        || s.StartsWith("backend "u8) || s.StartsWith("Stopping "u8) || s.StartsWith("Pausing "u8)
        || s.StartsWith("Health check "u8) || s.StartsWith("[WARNING]"u8) || s.StartsWith("[NOTICE]"u8)
        || s.StartsWith("[ALERT]"u8);
}
