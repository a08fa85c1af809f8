using Berth.Logs.Parsing;

namespace Berth.Logs.Analysis;

/// <summary>Counts for one request path. Per worker; merged at the end.</summary>
internal sealed class PathStats
{
    public long Count;
    public readonly Dictionary<int, long> Statuses = [];
    public readonly Dictionary<string, long> Methods = new(StringComparer.Ordinal);

    public void Add(int status, string method)
    {
        Count++;
        Statuses[status] = Statuses.GetValueOrDefault(status) + 1;
        Methods[method] = Methods.GetValueOrDefault(method) + 1;
    }

    public void Merge(PathStats other)
    {
        Count += other.Count;
        foreach (var (k, v) in other.Statuses)
        {
            Statuses[k] = Statuses.GetValueOrDefault(k) + v;
        }

        foreach (var (k, v) in other.Methods)
        {
            Methods[k] = Methods.GetValueOrDefault(k) + v;
        }
    }
}

/// <summary>Requests in one minute or hour.</summary>
internal sealed class BucketStats
{
    /// <summary>Index status/100 (1..5); 0 holds anything else (HAProxy's -1).</summary>
    public readonly long[] Classes = new long[6];
    public long Total;
    public long Matched;

    public void Merge(BucketStats other)
    {
        Total += other.Total;
        Matched += other.Matched;
        for (var i = 0; i < Classes.Length; i++)
        {
            Classes[i] += other.Classes[i];
        }
    }
}

/// <summary>The request lines of one format in one input.</summary>
internal sealed class RequestAggregate
{
    public const int OtherStatus = 1000;

    public long Requests;
    public long Matched;

    /// <summary>Requests by status 0..999; index 1000 holds the rest (-1).</summary>
    public readonly long[] Statuses = new long[1001];
    public readonly Dictionary<string, PathStats> Paths = new(StringComparer.Ordinal);
    public readonly Dictionary<long, BucketStats> Buckets = [];
    private readonly Dictionary<string, PathStats>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    public RequestAggregate()
    {
        _lookup = Paths.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public void CountStatus(int status) => Statuses[(uint)status < 1000 ? status : OtherStatus]++;

    public void AddPath(ReadOnlySpan<char> path, int status, string method)
    {
        Matched++;
        if (!_lookup.TryGetValue(path, out var stats))
        {
            stats = new PathStats();
            _lookup[path] = stats;
        }

        stats.Add(status, method);
    }

    public void AddBucket(long bucketStart, int status, bool matched)
    {
        if (!Buckets.TryGetValue(bucketStart, out var bucket))
        {
            bucket = new BucketStats();
            Buckets[bucketStart] = bucket;
        }

        bucket.Total++;
        bucket.Classes[status is >= 100 and < 600 ? status / 100 : 0]++;
        if (matched)
        {
            bucket.Matched++;
        }
    }

    public void Merge(RequestAggregate other)
    {
        Requests += other.Requests;
        Matched += other.Matched;
        for (var i = 0; i < Statuses.Length; i++)
        {
            Statuses[i] += other.Statuses[i];
        }

        foreach (var (path, stats) in other.Paths)
        {
            if (Paths.TryGetValue(path, out var mine))
            {
                mine.Merge(stats);
            }
            else
            {
                Paths[path] = stats;
            }
        }

        foreach (var (start, bucket) in other.Buckets)
        {
            if (Buckets.TryGetValue(start, out var mine))
            {
                mine.Merge(bucket);
            }
            else
            {
                Buckets[start] = bucket;
            }
        }
    }
}

/// <summary>One class of error message and where it happened.</summary>
internal sealed class ErrorClassStats(string sample)
{
    public long Count;
    public readonly Dictionary<string, long> Repositories = new(StringComparer.Ordinal);
    public string Sample { get; } = sample;

    public void Add(string repository)
    {
        Count++;
        Repositories[repository] = Repositories.GetValueOrDefault(repository) + 1;
    }

    public void Merge(ErrorClassStats other)
    {
        Count += other.Count;
        foreach (var (k, v) in other.Repositories)
        {
            Repositories[k] = Repositories.GetValueOrDefault(k) + v;
        }
    }
}

/// <summary>Everything counted for one input (file or standard input) by one worker.</summary>
internal sealed class InputAggregate
{
    public const int MaxSamples = 3;

    public long Lines;
    public long Blank;
    public long Events;
    public long Notices;
    public long Unparsed;
    public long OutsideRange;
    public long NoTime;

    /// <summary>Indexed by <see cref="LogFormat"/>.</summary>
    public readonly RequestAggregate?[] ByFormat = new RequestAggregate?[4];
    public readonly Dictionary<string, ErrorClassStats> Errors = new(StringComparer.Ordinal);
    public readonly List<string> UnparsedSamples = [];

    public RequestAggregate For(LogFormat format) => ByFormat[(int)format] ??= new RequestAggregate();

    public long RequestsOf(LogFormat format) => ByFormat[(int)format]?.Requests ?? 0;

    public void AddError(string errorClass, string repository, string sample)
    {
        if (!Errors.TryGetValue(errorClass, out var stats))
        {
            stats = new ErrorClassStats(sample);
            Errors[errorClass] = stats;
        }

        stats.Add(repository);
    }

    public void AddUnparsed(ReadOnlySpan<byte> line)
    {
        Unparsed++;
        if (UnparsedSamples.Count < MaxSamples)
        {
            var text = System.Text.Encoding.UTF8.GetString(line.Length > 300 ? line[..300] : line);
            UnparsedSamples.Add(text);
        }
    }

    public void Merge(InputAggregate other)
    {
        Lines += other.Lines;
        Blank += other.Blank;
        Events += other.Events;
        Notices += other.Notices;
        Unparsed += other.Unparsed;
        OutsideRange += other.OutsideRange;
        NoTime += other.NoTime;
        for (var i = 0; i < ByFormat.Length; i++)
        {
            if (other.ByFormat[i] is { } theirs)
            {
                if (ByFormat[i] is { } mine)
                {
                    mine.Merge(theirs);
                }
                else
                {
                    ByFormat[i] = theirs;
                }
            }
        }

        foreach (var (k, v) in other.Errors)
        {
            if (Errors.TryGetValue(k, out var mine))
            {
                mine.Merge(v);
            }
            else
            {
                Errors[k] = v;
            }
        }

        foreach (var sample in other.UnparsedSamples)
        {
            if (UnparsedSamples.Count < MaxSamples)
            {
                UnparsedSamples.Add(sample);
            }
        }
    }
}
