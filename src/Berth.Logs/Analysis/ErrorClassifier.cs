using System.Text;
using Berth.Logs.Parsing;

namespace Berth.Logs.Analysis;

/// <summary>
/// Groups JSON error lines into classes: <c>err.code: err.detail</c> (Distribution's
/// <c>unknown: invalid checksum digest format</c>), else <c>err.code: err.message</c>, else the
/// <c>error</c> field or <c>msg</c>. Variable parts are masked so one failure mode is one class:
/// digests become <c>sha256:…</c>, UUIDs and long hex strings <c>…</c>, values after <c>=</c> <c>=…</c>.
/// </summary>
internal static class ErrorClassifier
{
    private const int MaxLength = 200;

    /// <summary>Returns the class and a sample (the unmasked text, for the report).</summary>
    public static (string Class, string Sample) Classify(in JsonLogEntry entry)
    {
        string text;
        if (entry.ErrorCode is not null || entry.ErrorMessage is not null)
        {
            var head = entry.ErrorCode ?? entry.ErrorMessage!;
            var tail = entry.ErrorDetail ?? (entry.ErrorCode is not null ? entry.ErrorMessage : null);
            text = string.IsNullOrEmpty(tail) || tail == head ? head : head + ": " + tail;
        }
        else
        {
            text = entry.Error ?? entry.Message ?? "(no message)";
        }

        var sample = text.Length > MaxLength ? text[..MaxLength] : text;
        return (Mask(sample), sample);
    }

    /// <summary>Masks digests, UUIDs, long hex runs and <c>key=value</c> values.</summary>
    internal static string Mask(string text)
    {
        var sb = new StringBuilder(text.Length);
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];

            // algorithm:hex digests
            if (char.IsAsciiLetterLower(c) && StartsDigest(text, i, out var digestEnd, out var colon))
            {
                sb.Append(text, i, colon - i + 1).Append('…');
                i = digestEnd;
                continue;
            }

            // UUIDs and hex runs of 16+ (ids, bare digests)
            if (char.IsAsciiHexDigit(c) && (i == 0 || !char.IsAsciiLetterOrDigit(text[i - 1])))
            {
                var end = i;
                while (end < text.Length && (char.IsAsciiHexDigit(text[end]) || text[end] == '-'))
                {
                    end++;
                }

                var hex = 0;
                for (var k = i; k < end; k++)
                {
                    if (text[k] != '-')
                    {
                        hex++;
                    }
                }

                if (hex >= 16 && (end == text.Length || !char.IsAsciiLetterOrDigit(text[end])))
                {
                    sb.Append('…');
                    i = end;
                    continue;
                }
            }

            // key=value / key="value"
            if (c == '=' && i + 1 < text.Length)
            {
                sb.Append("=…");
                var j = i + 1;
                if (text[j] == '"')
                {
                    var close = text.IndexOf('"', j + 1);
                    j = close < 0 ? text.Length : close + 1;
                }
                else
                {
                    while (j < text.Length && text[j] != ' ' && text[j] != ',' && text[j] != ';' && text[j] != ')')
                    {
                        j++;
                    }

                    // "digest=sha256:..." keeps a trailing ':' that started the message's next part.
                    if (j > i + 1 && text[j - 1] == ':')
                    {
                        j--;
                    }
                }

                i = j;
                continue;
            }

            sb.Append(c);
            i++;
        }

        return sb.ToString();
    }

    private static bool StartsDigest(string text, int i, out int end, out int colon)
    {
        end = colon = 0;
        if (i > 0 && char.IsAsciiLetterOrDigit(text[i - 1]))
        {
            return false;
        }

        var j = i;
        while (j < text.Length && (char.IsAsciiLetterLower(text[j]) || char.IsAsciiDigit(text[j])) && j - i < 16)
        {
            j++;
        }

        if (j >= text.Length || text[j] != ':' || j == i)
        {
            return false;
        }

        colon = j;
        var k = j + 1;
        while (k < text.Length && char.IsAsciiHexDigit(text[k]))
        {
            k++;
        }

        if (k - (j + 1) < 8)
        {
            return false;
        }

        end = k;
        return true;
    }
}
