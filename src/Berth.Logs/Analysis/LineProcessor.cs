using System.Text;
using Berth.Logs.Parsing;

namespace Berth.Logs.Analysis;

/// <summary>
/// Classifies and counts lines. One instance per worker (not thread-safe); the analyzer merges them.
/// Per line it finds the newline, the date bracket and the status with vectorised span searches;
/// method and path are only cut out of lines whose status matches the filter.
/// </summary>
internal sealed class LineProcessor
{
    private readonly StatusFilter _status;
    private readonly string[]? _methods;
    private readonly bool _needTime;
    private readonly long _since;
    private readonly long _until;
    private readonly long _bucketTicks;
    private readonly byte[]? _grep;
    private readonly Dictionary<int, InputAggregate> _inputs = [];
    private char[] _chars = new char[2048];

    public LineProcessor(LogQuery query)
    {
        _status = query.Status;
        _methods = query.Methods?.Select(m => m.ToUpperInvariant()).ToArray();
        _needTime = query.NeedsTime;
        _since = query.Since?.UtcTicks ?? long.MinValue;
        _until = query.Until?.UtcTicks ?? long.MaxValue;
        _bucketTicks = query.By switch
        {
            TimeBucketSize.Minute => TimeSpan.TicksPerMinute,
            TimeBucketSize.Hour => TimeSpan.TicksPerHour,
            _ => 0,
        };
        _grep = string.IsNullOrEmpty(query.Grep) ? null : Encoding.UTF8.GetBytes(query.Grep);
    }

    public IReadOnlyDictionary<int, InputAggregate> Inputs => _inputs;

    /// <summary>Counts every line of <paramref name="data"/> (whole lines; the last may lack its newline).</summary>
    public void Process(int input, ReadOnlySpan<byte> data)
    {
        if (!_inputs.TryGetValue(input, out var agg))
        {
            agg = new InputAggregate();
            _inputs[input] = agg;
        }

        while (!data.IsEmpty)
        {
            var nl = data.IndexOf((byte)'\n');
            ReadOnlySpan<byte> line;
            if (nl < 0)
            {
                line = data;
                data = default;
            }
            else
            {
                line = data[..nl];
                data = data[(nl + 1)..];
            }

            agg.Lines++;
            ProcessLine(agg, line);
        }
    }

    private void ProcessLine(InputAggregate agg, ReadOnlySpan<byte> line)
    {
        if (!line.IsEmpty && line[^1] == '\r')
        {
            line = line[..^1];
        }

        var start = 0;
        while (start < line.Length && (line[start] == ' ' || line[start] == '\t'))
        {
            start++;
        }

        if (start == line.Length)
        {
            agg.Blank++;
            return;
        }

        line = line[start..];
        if (line[0] == '{')
        {
            ProcessJson(agg, line);
            return;
        }

        if (HttpLogParser.TryParse(line, out var record))
        {
            ProcessHttp(agg, ref record);
            return;
        }

        if (HttpLogParser.IsHAProxyNotice(line))
        {
            agg.Notices++;
            return;
        }

        agg.AddUnparsed(line);
    }

    private void ProcessHttp(InputAggregate agg, ref HttpLogRecord record)
    {
        long ticks = 0;
        if (_needTime)
        {
            if (!LogTime.TryParseBracketed(record.Time, out ticks))
            {
                agg.NoTime++;
                return;
            }

            if (ticks < _since || ticks >= _until)
            {
                agg.OutsideRange++;
                return;
            }
        }

        var requests = agg.For(record.Format);
        requests.Requests++;
        requests.CountStatus(record.Status);
        var matched = _status.Matches(record.Status);
        ReadOnlySpan<byte> method = default;
        ReadOnlySpan<byte> target = default;
        ReadOnlySpan<byte> request = default;
        if (matched)
        {
            if (!HttpLogParser.TryGetRequest(record.Format, record.Request, record.Tail, out request))
            {
                request = "-"u8; // no request line (HAProxy writes one for every HTTP log; be lenient)
            }

            HttpLogParser.SplitRequest(request, out method, out target);
            if (_methods is not null && !MethodAllowed(method))
            {
                matched = false;
            }
        }

        if (_bucketTicks != 0)
        {
            requests.AddBucket(ticks - (ticks % _bucketTicks), record.Status, matched);
        }

        if (!matched)
        {
            return;
        }

        var path = target.IsEmpty ? request : HttpLogParser.PathOf(target);
        if (path.Length > _chars.Length)
        {
            _chars = new char[Math.Max(path.Length, _chars.Length * 2)];
        }

        var n = Encoding.UTF8.GetChars(path, _chars);
        requests.AddPath(_chars.AsSpan(0, n), record.Status, MethodName(method));
    }

    private void ProcessJson(InputAggregate agg, ReadOnlySpan<byte> line)
    {
        if (!JsonLogParser.TryParse(line, out var entry))
        {
            agg.AddUnparsed(line);
            return;
        }

        long ticks = 0;
        if (_needTime)
        {
            if (entry.Time is null || !LogTime.TryParseRfc3339(entry.Time, out ticks))
            {
                agg.NoTime++;
                return;
            }

            if (ticks < _since || ticks >= _until)
            {
                agg.OutsideRange++;
                return;
            }
        }

        string? path = null;
        if (entry.IsRequest)
        {
            var status = entry.Status!.Value;
            var requests = agg.For(LogFormat.Json);
            requests.Requests++;
            requests.CountStatus(status);
            var method = entry.Method ?? "-";
            var matched = _status.Matches(status) && (_methods is null || _methods.Contains(method.ToUpperInvariant()));
            if (_bucketTicks != 0)
            {
                requests.AddBucket(ticks - (ticks % _bucketTicks), status, matched);
            }

            path = HttpLogParser.PathOf(entry.Uri.AsSpan()).ToString();
            if (matched)
            {
                requests.AddPath(path, status, method);
            }
        }
        else
        {
            agg.Events++;
        }

        var isError = _grep is null ? entry.IsError : ContainsIgnoreCase(line, _grep);
        if (isError)
        {
            var repository = entry.Repository;
            if (repository is null && entry.Uri is not null)
            {
                path ??= HttpLogParser.PathOf(entry.Uri.AsSpan()).ToString();
                repository = RegistryPath.Parse(path).Repository;
            }

            var (errorClass, sample) = ErrorClassifier.Classify(entry);
            agg.AddError(errorClass, repository ?? "-", sample);
        }
    }

    private bool MethodAllowed(ReadOnlySpan<byte> method)
    {
        foreach (var m in _methods!)
        {
            if (System.Text.Ascii.EqualsIgnoreCase(method, m))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>ASCII case-insensitive substring search over the raw line (needle already UTF-8).</summary>
    internal static bool ContainsIgnoreCase(ReadOnlySpan<byte> haystack, ReadOnlySpan<byte> needle)
    {
        if (needle.IsEmpty)
        {
            return true;
        }

        var first = needle[0];
        if (first >= 128 || !char.IsAsciiLetter((char)first))
        {
            // Non-letter or non-ASCII first byte: search it exactly, compare the rest case-insensitively.
            var pos = 0;
            while (true)
            {
                var i = haystack[pos..].IndexOf(first);
                if (i < 0 || haystack.Length - (pos + i) < needle.Length)
                {
                    return false;
                }

                pos += i;
                if (EqualsIgnoreAsciiCase(haystack.Slice(pos, needle.Length), needle))
                {
                    return true;
                }

                pos++;
            }
        }

        var lower = (byte)(first | 0x20);
        var upper = (byte)(first & ~0x20);
        var p = 0;
        while (true)
        {
            var i = haystack[p..].IndexOfAny(lower, upper);
            if (i < 0 || haystack.Length - (p + i) < needle.Length)
            {
                return false;
            }

            p += i;
            if (EqualsIgnoreAsciiCase(haystack.Slice(p, needle.Length), needle))
            {
                return true;
            }

            p++;
        }
    }

    private static bool EqualsIgnoreAsciiCase(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        for (var i = 0; i < a.Length; i++)
        {
            var x = a[i];
            var y = b[i];
            if (x == y)
            {
                continue;
            }

            if ((x | 0x20) != (y | 0x20) || !char.IsAsciiLetter((char)x) || !char.IsAsciiLetter((char)y))
            {
                return false;
            }
        }

        return true;
    }

    private static string MethodName(ReadOnlySpan<byte> method) => method switch
    {
        _ when method.SequenceEqual("GET"u8) => "GET",
        _ when method.SequenceEqual("HEAD"u8) => "HEAD",
        _ when method.SequenceEqual("PUT"u8) => "PUT",
        _ when method.SequenceEqual("POST"u8) => "POST",
        _ when method.SequenceEqual("PATCH"u8) => "PATCH",
        _ when method.SequenceEqual("DELETE"u8) => "DELETE",
        _ when method.SequenceEqual("OPTIONS"u8) => "OPTIONS",
        _ when method.IsEmpty => "-",
        _ => Encoding.UTF8.GetString(method),
    };
}
