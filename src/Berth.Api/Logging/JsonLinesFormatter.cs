using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Berth.Api.Logging;

/// <summary>
/// One flat JSON object per line: time, level, msg, logger, event, then every field of the log state as
/// its own property ("http.request.method", "repository", ...), never a JSON string inside a string.
/// </summary>
public sealed class JsonLinesFormatter() : ConsoleFormatter(FormatterName)
{
    public const string FormatterName = "berth-json";

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly JsonEncodedText TimeName = JsonEncodedText.Encode("time");
    private static readonly JsonEncodedText LevelName = JsonEncodedText.Encode("level");
    private static readonly JsonEncodedText MsgName = JsonEncodedText.Encode("msg");
    private static readonly JsonEncodedText LoggerName = JsonEncodedText.Encode("logger");
    private static readonly JsonEncodedText EventName = JsonEncodedText.Encode("event");

    /// <summary>Field names as written (first letter lowered unless the name has a dot), encoded once. Names come
    /// from code, not from requests; the cap only guards against a logger that makes them up.</summary>
    private static readonly ConcurrentDictionary<string, JsonEncodedText> Names = new(StringComparer.Ordinal);

    private const int MaxCachedNames = 1024;

    /// <summary>A line longer than this does not keep its buffers for the thread's next line.</summary>
    private const int MaxRetainedBytes = 16 * 1024;

    /// <summary>Each thread formats into buffers of its own, reused from line to line: the access log writes a line
    /// per request (at 40–50k requests/s the formatting was a tenth of the registry's CPU, much of it fresh buffers,
    /// the UTF-8 line turned into a string, and field names re-encoded).</summary>
    [ThreadStatic]
    private static LineBuffers? t_buffers;

    private sealed class LineBuffers
    {
        public readonly ArrayBufferWriter<byte> Bytes = new(1024);
        public readonly Utf8JsonWriter Writer;
        public char[] Chars = new char[1024];
        public bool InUse;

        public LineBuffers() => Writer = new Utf8JsonWriter(Bytes, WriterOptions);
    }

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter?.Invoke(logEntry.State, logEntry.Exception);
        // A line logged while this thread formats another (a value's ToString that logs) gets buffers of its own.
        var buffers = t_buffers is { InUse: false } cached ? cached : new LineBuffers();
        buffers.InUse = true;
        try
        {
            buffers.Bytes.ResetWrittenCount();
            var w = buffers.Writer;
            w.Reset(buffers.Bytes);
            w.WriteStartObject();
            Span<char> time = stackalloc char[32];
            DateTimeOffset.UtcNow.TryFormat(time, out var timeLength, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
            w.WriteString(TimeName, time[..timeLength]);
            w.WriteString(LevelName, Level(logEntry.LogLevel));
            w.WriteString(MsgName, message ?? "");
            w.WriteString(LoggerName, logEntry.Category);
            if (logEntry.EventId.Name is { } name)
            {
                w.WriteString(EventName, name);
            }
            if (logEntry.State is IReadOnlyList<KeyValuePair<string, object?>> fields)
            {
                for (var i = 0; i < fields.Count; i++)
                {
                    var (key, value) = fields[i];
                    if (key == "{OriginalFormat}")
                    {
                        continue;
                    }
                    w.WritePropertyName(FieldName(key));
                    WriteValue(w, value);
                }
            }
            if (logEntry.Exception is { } e)
            {
                w.WriteString("err.type", e.GetType().FullName);
                w.WriteString("err.message", e.Message);
                w.WriteString("err.stack", e.ToString());
            }
            w.WriteEndObject();
            w.Flush();

            var bytes = buffers.Bytes.WrittenSpan;
            var needed = Encoding.UTF8.GetMaxCharCount(bytes.Length) + 1;
            if (buffers.Chars.Length < needed)
            {
                buffers.Chars = new char[needed];
            }
            var length = Encoding.UTF8.GetChars(bytes, buffers.Chars);
            buffers.Chars[length] = '\n';
            textWriter.Write(buffers.Chars, 0, length + 1);
        }
        finally
        {
            buffers.InUse = false;
            // Keep the buffers for the thread's next line, unless a long line (a stack trace) grew them.
            t_buffers = buffers.Bytes.Capacity <= MaxRetainedBytes ? buffers : null;
        }
    }

    private static JsonEncodedText FieldName(string key)
    {
        if (Names.TryGetValue(key, out var cached))
        {
            return cached;
        }
        var encoded = JsonEncodedText.Encode(key.Contains('.') || key.Length == 0 ? key : char.ToLowerInvariant(key[0]) + key[1..], WriterOptions.Encoder);
        if (Names.Count < MaxCachedNames)
        {
            Names.TryAdd(key, encoded);
        }
        return encoded;
    }

    private static void WriteValue(Utf8JsonWriter w, object? value)
    {
        switch (value)
        {
            case null:
                w.WriteNullValue();
                break;
            case string s:
                w.WriteStringValue(s);
                break;
            case bool b:
                w.WriteBooleanValue(b);
                break;
            case int i:
                w.WriteNumberValue(i);
                break;
            case long l:
                w.WriteNumberValue(l);
                break;
            case double d:
                w.WriteNumberValue(d);
                break;
            case float f:
                w.WriteNumberValue(f);
                break;
            case decimal m:
                w.WriteNumberValue(m);
                break;
            case DateTimeOffset t:
                w.WriteStringValue(t);
                break;
            case DateTime t:
                w.WriteStringValue(t);
                break;
            default:
                w.WriteStringValue(value.ToString());
                break;
        }
    }

    private static string Level(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "error",
        LogLevel.Critical => "fatal",
        _ => "none",
    };
}
