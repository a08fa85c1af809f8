using System.Globalization;

namespace Berth.Logs.Parsing;

/// <summary>
/// Hand parsers for the timestamps the supported formats write, returning UTC ticks
/// (<see cref="DateTime.Ticks"/> of a UTC time). No allocation, no culture lookups: they run per line.
/// </summary>
internal static class LogTime
{
    private const long TicksPerSecond = TimeSpan.TicksPerSecond;

    /// <summary>
    /// <c>04/Dec/2026:19:55:55.633</c> (HAProxy's accept date: local time without a zone, taken as UTC)
    /// or <c>04/Dec/2026:20:25:17 +0000</c> (NGINX/Apache common log format, with its offset).
    /// </summary>
    public static bool TryParseBracketed(ReadOnlySpan<byte> s, out long utcTicks)
    {
        utcTicks = 0;
        if (s.Length < 20 || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[14] != ':' || s[17] != ':')
        {
            return false;
        }

        var day = Digits(s, 0, 2);
        var month = Month(s.Slice(3, 3));
        var year = Digits(s, 7, 4);
        var hour = Digits(s, 12, 2);
        var minute = Digits(s, 15, 2);
        var second = Digits(s, 18, 2);
        if (!TryCompose(year, month, day, hour, minute, second, out var ticks))
        {
            return false;
        }

        var pos = 20;
        if (pos < s.Length && s[pos] == '.')
        {
            pos++;
            ticks += Fraction(s, ref pos);
        }

        if (pos < s.Length && s[pos] == ' ')
        {
            pos++;
            if (!TryOffset(s[pos..], out var offset))
            {
                return false;
            }

            ticks -= offset;
        }
        else if (pos != s.Length)
        {
            return false;
        }

        utcTicks = ticks;
        return true;
    }

    /// <summary>RFC 3339 as Go and .NET write it: <c>2026-12-04T20:25:17.979314184Z</c>, <c>...+02:00</c>.</summary>
    public static bool TryParseRfc3339(ReadOnlySpan<byte> s, out long utcTicks)
    {
        utcTicks = 0;
        if (s.Length < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' || s[16] != ':')
        {
            return false;
        }

        if (!TryCompose(Digits(s, 0, 4), Digits(s, 5, 2), Digits(s, 8, 2), Digits(s, 11, 2), Digits(s, 14, 2), Digits(s, 17, 2), out var ticks))
        {
            return false;
        }

        var pos = 19;
        if (pos < s.Length && (s[pos] == '.' || s[pos] == ','))
        {
            pos++;
            ticks += Fraction(s, ref pos);
        }

        if (pos == s.Length)
        {
            utcTicks = ticks; // no zone: taken as UTC
            return true;
        }

        if (s[pos] == 'Z' || s[pos] == 'z')
        {
            if (pos + 1 != s.Length)
            {
                return false;
            }

            utcTicks = ticks;
            return true;
        }

        if (!TryOffset(s[pos..], out var offset))
        {
            return false;
        }

        utcTicks = ticks - offset;
        return true;
    }

    /// <summary>Same as <see cref="TryParseRfc3339(ReadOnlySpan{byte}, out long)"/> for JSON string values.</summary>
    public static bool TryParseRfc3339(ReadOnlySpan<char> s, out long utcTicks)
    {
        Span<byte> buffer = stackalloc byte[40];
        if (s.Length > buffer.Length)
        {
            utcTicks = 0;
            return false;
        }

        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] > 127)
            {
                utcTicks = 0;
                return false;
            }

            buffer[i] = (byte)s[i];
        }

        return TryParseRfc3339(buffer[..s.Length], out utcTicks);
    }

    /// <summary>
    /// A <c>--since</c>/<c>--until</c> value: an ISO 8601 date or date-time (no zone = UTC), or a
    /// duration back from <paramref name="now"/>: <c>90s</c>, <c>30m</c>, <c>2h</c>, <c>7d</c>.
    /// </summary>
    public static bool TryParseUserTime(string text, DateTimeOffset now, out DateTimeOffset value)
    {
        value = default;
        text = text.Trim();
        if (text.Length >= 2 && char.IsAsciiDigit(text[0]) && "smhd".Contains(text[^1], StringComparison.Ordinal)
            && long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
        {
            var span = text[^1] switch
            {
                's' => TimeSpan.FromSeconds(amount),
                'm' => TimeSpan.FromMinutes(amount),
                'h' => TimeSpan.FromHours(amount),
                _ => TimeSpan.FromDays(amount),
            };
            value = now - span;
            return true;
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces, out value);
    }

    private static bool TryCompose(int year, int month, int day, int hour, int minute, int second, out long ticks)
    {
        ticks = 0;
        if (year < 1 || year > 9999 || month < 1 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60 || hour < 0 || minute < 0 || second < 0)
        {
            return false;
        }

        if (day > DateTime.DaysInMonth(year, month))
        {
            return false;
        }

        if (second == 60)
        {
            second = 59; // leap second
        }

        ticks = (DaysFromCivil(year, month, day) * 86400L + (hour * 3600L) + (minute * 60L) + second) * TicksPerSecond;
        return true;
    }

    /// <summary>Days since 0001-01-01 (DateTime's epoch) for a proleptic Gregorian date.</summary>
    private static long DaysFromCivil(int year, int month, int day)
    {
        // Howard Hinnant's days_from_civil, shifted to DateTime's epoch.
        var y = (long)year - (month <= 2 ? 1 : 0);
        var era = y / 400;
        var yoe = y - (era * 400);
        var mp = (month + 9) % 12;
        var doy = ((153 * mp) + 2) / 5 + day - 1;
        var doe = (yoe * 365) + (yoe / 4) - (yoe / 100) + doy;
        var daysSince1970 = (era * 146097) + doe - 719468;
        return daysSince1970 + 719162;
    }

    private static int Digits(ReadOnlySpan<byte> s, int start, int count)
    {
        var value = 0;
        for (var i = start; i < start + count; i++)
        {
            var d = s[i] - '0';
            if ((uint)d > 9)
            {
                return -1;
            }

            value = (value * 10) + d;
        }

        return value;
    }

    private static long Fraction(ReadOnlySpan<byte> s, ref int pos)
    {
        long ticks = 0;
        long scale = TicksPerSecond / 10;
        while (pos < s.Length && (uint)(s[pos] - '0') <= 9)
        {
            ticks += (s[pos] - '0') * scale;
            scale /= 10;
            pos++;
        }

        return ticks;
    }

    /// <summary><c>+0000</c> or <c>+02:00</c>; returns the offset in ticks.</summary>
    private static bool TryOffset(ReadOnlySpan<byte> s, out long offsetTicks)
    {
        offsetTicks = 0;
        if (s.Length == 0 || (s[0] != '+' && s[0] != '-'))
        {
            return false;
        }

        int hours, minutes;
        if (s.Length == 5)
        {
            hours = Digits(s, 1, 2);
            minutes = Digits(s, 3, 2);
        }
        else if (s.Length == 6 && s[3] == ':')
        {
            hours = Digits(s, 1, 2);
            minutes = Digits(s, 4, 2);
        }
        else
        {
            return false;
        }

        if (hours < 0 || minutes < 0)
        {
            return false;
        }

        offsetTicks = ((hours * 60L) + minutes) * 60 * TicksPerSecond * (s[0] == '-' ? -1 : 1);
        return true;
    }

    private static int Month(ReadOnlySpan<byte> m)
    {
        // Case-sensitive like the writers; three letters.
        return (m[0], m[1], m[2]) switch
        {
            ((byte)'J', (byte)'a', (byte)'n') => 1,
            ((byte)'F', (byte)'e', (byte)'b') => 2,
            ((byte)'M', (byte)'a', (byte)'r') => 3,
            ((byte)'A', (byte)'p', (byte)'r') => 4,
            ((byte)'M', (byte)'a', (byte)'y') => 5,
            ((byte)'J', (byte)'u', (byte)'n') => 6,
            ((byte)'J', (byte)'u', (byte)'l') => 7,
            ((byte)'A', (byte)'u', (byte)'g') => 8,
            ((byte)'S', (byte)'e', (byte)'p') => 9,
            ((byte)'O', (byte)'c', (byte)'t') => 10,
            ((byte)'N', (byte)'o', (byte)'v') => 11,
            ((byte)'D', (byte)'e', (byte)'c') => 12,
            _ => -1,
        };
    }
}
