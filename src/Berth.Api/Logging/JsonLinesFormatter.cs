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

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter?.Invoke(logEntry.State, logEntry.Exception);
        using var buffer = new MemoryStream(512);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("time", DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
            w.WriteString("level", Level(logEntry.LogLevel));
            w.WriteString("msg", message ?? "");
            w.WriteString("logger", logEntry.Category);
            if (logEntry.EventId.Name is { } name)
            {
                w.WriteString("event", name);
            }
            if (logEntry.State is IReadOnlyList<KeyValuePair<string, object?>> fields)
            {
                foreach (var (key, value) in fields)
                {
                    if (key == "{OriginalFormat}")
                    {
                        continue;
                    }
                    w.WritePropertyName(key.Contains('.') ? key : char.ToLowerInvariant(key[0]) + key[1..]);
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
        }
        textWriter.Write(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        textWriter.Write('\n');
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
