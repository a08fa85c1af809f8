using System.Globalization;

namespace Berth.Maintenance.Doctor;

/// <summary>Reads durations as people write them on a command line: "24h", "90m", "2d", "1h30m", "45s", or "1.02:00:00".</summary>
public static class Durations
{
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }
        text = text.Trim();
        if (text.Contains(':') && TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value))
        {
            return value >= TimeSpan.Zero;
        }
        var total = TimeSpan.Zero;
        var i = 0;
        while (i < text.Length)
        {
            var start = i;
            while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.'))
            {
                i++;
            }
            if (start == i || i == text.Length || !double.TryParse(text[start..i], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n))
            {
                return false;
            }
            var unit = text[i++];
            double? seconds = unit switch
            {
                'd' => n * 86400,
                'h' => n * 3600,
                'm' => n * 60,
                's' => n,
                _ => null,
            };
            if (seconds is null || seconds > 10 * 365 * 86400.0)
            {
                return false;
            }
            total += TimeSpan.FromSeconds(seconds.Value);
        }
        value = total;
        return true;
    }
}
