using System.Text.Json;

namespace Berth.Logs.Parsing;

/// <summary>
/// The fields <c>berth logs</c> reads from one flat JSON log line. Field names of the three writers:
/// Berth (<c>time level msg http.request.method http.request.uri http.response.status err.code
/// err.message repository</c>), CNCF Distribution / GitLab registry application logs (logrus:
/// the same <c>http.*</c> and <c>err.*</c> fields plus <c>vars.name</c>, <c>vars.reference</c>,
/// <c>vars.digest</c>) and GitLab's access logger (<c>method uri status</c>, <c>msg: "access"</c>).
/// </summary>
internal struct JsonLogEntry
{
    public string? Time;
    public string? Level;
    public string? Message;
    public string? Method;
    public string? Uri;
    public int? Status;
    public string? ErrorCode;
    public string? ErrorMessage;
    public string? ErrorDetail;
    public string? Error;
    public string? Repository;

    /// <summary>A request record: it has a URI and a response status.</summary>
    public readonly bool IsRequest => Uri is not null && Status is not null;

    /// <summary>Error, fatal or panic level, or any <c>err.*</c>/<c>error</c> field.</summary>
    public readonly bool IsError =>
        ErrorCode is not null || ErrorMessage is not null || Error is not null
        || string.Equals(Level, "error", StringComparison.OrdinalIgnoreCase)
        || string.Equals(Level, "fatal", StringComparison.OrdinalIgnoreCase)
        || string.Equals(Level, "panic", StringComparison.OrdinalIgnoreCase);
}

internal static class JsonLogParser
{
    /// <summary>Reads the top-level fields of a JSON object line; false when it is not valid JSON or not an object.</summary>
    public static bool TryParse(ReadOnlySpan<byte> line, out JsonLogEntry entry)
    {
        entry = default;
        try
        {
            var reader = new Utf8JsonReader(line, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 64 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.EndObject)
                {
                    return reader.CurrentDepth == 0 && !reader.Read();
                }

                if (reader.TokenType != JsonTokenType.PropertyName)
                {
                    return false;
                }

                var field = Classify(ref reader);
                if (!reader.Read())
                {
                    return false;
                }

                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                {
                    reader.Skip();
                    continue;
                }

                switch (field)
                {
                    case Field.Time: entry.Time ??= ScalarText(ref reader); break;
                    case Field.Level: entry.Level ??= ScalarText(ref reader); break;
                    case Field.Message: entry.Message ??= ScalarText(ref reader); break;
                    case Field.Method: entry.Method ??= ScalarText(ref reader); break;
                    case Field.Uri: entry.Uri ??= ScalarText(ref reader); break;
                    case Field.Status: entry.Status ??= StatusValue(ref reader); break;
                    case Field.ErrorCode: entry.ErrorCode = ScalarText(ref reader); break;
                    case Field.ErrorMessage: entry.ErrorMessage = ScalarText(ref reader); break;
                    case Field.ErrorDetail: entry.ErrorDetail = ScalarText(ref reader); break;
                    case Field.Error: entry.Error = ScalarText(ref reader); break;
                    case Field.Repository: entry.Repository ??= ScalarText(ref reader); break;
                }
            }

            return false;
        }
        catch (JsonException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private enum Field
    {
        Other,
        Time,
        Level,
        Message,
        Method,
        Uri,
        Status,
        ErrorCode,
        ErrorMessage,
        ErrorDetail,
        Error,
        Repository,
    }

    private static Field Classify(ref Utf8JsonReader reader)
    {
        if (reader.ValueIsEscaped || reader.HasValueSequence)
        {
            var name = reader.GetString()!;
            return ClassifyName(System.Text.Encoding.UTF8.GetBytes(name));
        }

        return ClassifyName(reader.ValueSpan);
    }

    private static Field ClassifyName(ReadOnlySpan<byte> n) => n.Length switch
    {
        3 when n.SequenceEqual("msg"u8) => Field.Message,
        3 when n.SequenceEqual("uri"u8) => Field.Uri,
        4 when n.SequenceEqual("time"u8) => Field.Time,
        5 when n.SequenceEqual("level"u8) => Field.Level,
        5 when n.SequenceEqual("error"u8) => Field.Error,
        6 when n.SequenceEqual("method"u8) => Field.Method,
        6 when n.SequenceEqual("status"u8) => Field.Status,
        7 when n.SequenceEqual("message"u8) => Field.Message,
        8 when n.SequenceEqual("err.code"u8) => Field.ErrorCode,
        9 when n.SequenceEqual("vars.name"u8) => Field.Repository,
        9 when n.SequenceEqual("timestamp"u8) => Field.Time,
        10 when n.SequenceEqual("@timestamp"u8) => Field.Time,
        10 when n.SequenceEqual("err.detail"u8) => Field.ErrorDetail,
        10 when n.SequenceEqual("repository"u8) => Field.Repository,
        11 when n.SequenceEqual("err.message"u8) => Field.ErrorMessage,
        16 when n.SequenceEqual("http.request.uri"u8) => Field.Uri,
        19 when n.SequenceEqual("http.request.method"u8) => Field.Method,
        20 when n.SequenceEqual("http.response.status"u8) => Field.Status,
        _ => Field.Other,
    };

    private static string? ScalarText(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.String => reader.GetString(),
        JsonTokenType.Number => System.Text.Encoding.UTF8.GetString(reader.ValueSpan),
        JsonTokenType.True => "true",
        JsonTokenType.False => "false",
        _ => null,
    };

    private static int? StatusValue(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var n))
        {
            return n;
        }

        if (reader.TokenType == JsonTokenType.String && int.TryParse(reader.GetString(), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out n))
        {
            return n;
        }

        return null;
    }
}
