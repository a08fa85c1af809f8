using System.Globalization;

namespace Berth.Logs.Analysis;

/// <summary>
/// Which statuses a report counts: codes (<c>500</c>), classes (<c>5xx</c>, <c>4xx</c>), lists of
/// both (<c>500,503</c>, <c>4xx,5xx</c>) or <c>all</c>.
/// </summary>
public sealed class StatusFilter
{
    private readonly bool[] _matches;
    private readonly bool _matchesOther;

    private StatusFilter(string text, bool[] matches, bool matchesOther)
    {
        Text = text;
        _matches = matches;
        _matchesOther = matchesOther;
    }

    /// <summary>The filter as given (normalised: lower case, no spaces).</summary>
    public string Text { get; }

    public static StatusFilter Default { get; } = Parse("5xx");

    public bool Matches(int status) => (uint)status < 1000 ? _matches[status] : _matchesOther;

    public static StatusFilter Parse(string text)
    {
        if (!TryParse(text, out var filter, out var error))
        {
            throw new FormatException(error);
        }

        return filter;
    }

    public static bool TryParse(string text, out StatusFilter filter, out string error)
    {
        filter = null!;
        error = "";
        var normalized = text.Replace(" ", "", StringComparison.Ordinal).ToLowerInvariant();
        var matches = new bool[1000];
        var other = false;
        if (normalized.Length == 0)
        {
            error = "empty status filter: give a code (500), a class (5xx, 4xx) or 'all'";
            return false;
        }

        foreach (var part in normalized.Split(','))
        {
            if (part is "all" or "any" or "*")
            {
                Array.Fill(matches, true);
                other = true;
            }
            else if (part.Length == 3 && part[0] is >= '1' and <= '5' && part[1] == 'x' && part[2] == 'x')
            {
                var start = (part[0] - '0') * 100;
                Array.Fill(matches, true, start, 100);
            }
            else if (part.Length == 3 && int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var code) && code >= 100)
            {
                matches[code] = true;
            }
            else
            {
                error = $"bad status '{part}': give a code (500), a class (5xx, 4xx), a comma list of those, or 'all'";
                return false;
            }
        }

        filter = new StatusFilter(normalized, matches, other);
        return true;
    }

    public override string ToString() => Text;
}

/// <summary>Time buckets for the status-over-time chart.</summary>
public enum TimeBucketSize
{
    None,
    Minute,
    Hour,
}

/// <summary>What <c>berth logs</c> is asked. Immutable; built by the command from its flags.</summary>
public sealed record LogQuery
{
    /// <summary>Statuses counted in the top list, the time chart's highlighted series and <c>--paths-out</c>. Default 5xx.</summary>
    public StatusFilter Status { get; init; } = StatusFilter.Default;

    /// <summary>Upper-case methods to count; null counts every method.</summary>
    public IReadOnlySet<string>? Methods { get; init; }

    /// <summary>How many paths the top list shows (default 5, like the runbook's <c>head -5</c>).</summary>
    public int Top { get; init; } = 5;

    /// <summary>Only lines at or after this time.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>Only lines before this time.</summary>
    public DateTimeOffset? Until { get; init; }

    /// <summary>Count requests by status per minute or hour.</summary>
    public TimeBucketSize By { get; init; }

    /// <summary>Restrict the error classes to JSON lines containing this text (ASCII case-insensitive).</summary>
    public string? Grep { get; init; }

    /// <summary>Worker count; default the processor count.</summary>
    public int? Parallelism { get; init; }

    /// <summary>
    /// Reads a <c>--since</c>/<c>--until</c> value: ISO 8601 (no zone = UTC) or an age back from
    /// <paramref name="now"/> (<c>90s</c>, <c>30m</c>, <c>2h</c>, <c>7d</c>).
    /// </summary>
    public static bool TryParseTime(string text, DateTimeOffset now, out DateTimeOffset value) =>
        Parsing.LogTime.TryParseUserTime(text, now, out value);

    internal bool NeedsTime => Since is not null || Until is not null || By != TimeBucketSize.None;
}
