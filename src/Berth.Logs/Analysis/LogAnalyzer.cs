using System.Diagnostics;
using System.Collections.Concurrent;
using Berth.Logs.Input;
using Berth.Logs.Parsing;

namespace Berth.Logs.Analysis;

/// <summary>
/// Streams the inputs through a pool of workers: each input is read (and gunzipped) by its own
/// producer into 1 MiB chunks of whole lines; one worker per core counts lines from any chunk; the
/// per-worker counts are merged at the end. Memory is bounded by the chunk queue, not the input size.
/// </summary>
public static class LogAnalyzer
{
    internal const int ChunkSize = 1 << 20;
    private const int MaxLine = 64 << 20;

    private readonly record struct Chunk(int Input, byte[] Buffer, int Length);

    /// <summary>
    /// The chunk buffers in circulation (queue capacity + one per thread): reused between readers and
    /// parsers, never zeroed. ArrayPool.Shared keeps 1 MiB arrays per thread and would allocate anew
    /// when the reader rents what the parsers returned.
    /// </summary>
    private sealed class ChunkPool
    {
        private readonly ConcurrentBag<byte[]> _free = [];

        public byte[] Rent(int minimum) =>
            minimum <= ChunkSize && _free.TryTake(out var buffer) ? buffer : GC.AllocateUninitializedArray<byte>(Math.Max(minimum, ChunkSize));

        public void Return(byte[] buffer)
        {
            if (buffer.Length == ChunkSize)
            {
                _free.Add(buffer);
            }
        }
    }

    private sealed class InputState(LogInput input)
    {
        public LogInput Input { get; } = input;
        public bool Compressed;
        public string? Error;
    }

    public static async Task<LogReport> AnalyzeAsync(IReadOnlyList<LogInput> inputs, LogQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(query);

        // CPU-bound: dedicated threads rather than thread-pool tasks, so that neither the parsers nor a
        // producer blocked in read() wait for the pool to grow.
        return await Task.Factory.StartNew(() => Analyze(inputs, query, cancellationToken), cancellationToken,
            TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
    }

    private static LogReport Analyze(IReadOnlyList<LogInput> inputs, LogQuery query, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        var workers = Math.Max(1, query.Parallelism ?? Environment.ProcessorCount);
        using var queue = new BlockingCollection<Chunk>(new ConcurrentQueue<Chunk>(), workers * 2);

        // Any thread failing cancels the others (a reader must not wait on a queue nobody drains).
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var token = stop.Token;
        var states = inputs.Select(i => new InputState(i)).ToArray();
        var processors = new LineProcessor[workers];
        var failures = new ConcurrentQueue<Exception>();
        var pool = new ChunkPool();

        void Guard(Action body)
        {
            try
            {
                body();
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                failures.Enqueue(e);
                stop.Cancel();
            }
        }

        var workerThreads = new Thread[workers];
        for (var w = 0; w < workers; w++)
        {
            var processor = processors[w] = new LineProcessor(query);
            workerThreads[w] = StartThread($"berth-logs-parse-{w}", () => Guard(() =>
            {
                foreach (var chunk in queue.GetConsumingEnumerable(token))
                {
                    try
                    {
                        processor.Process(chunk.Input, chunk.Buffer.AsSpan(0, chunk.Length));
                    }
                    finally
                    {
                        pool.Return(chunk.Buffer);
                    }
                }
            }));
        }

        // One reader per input, at most one per worker at a time (each may be gunzipping).
        var next = -1;
        var readerThreads = new Thread[Math.Min(workers, states.Length)];
        for (var r = 0; r < readerThreads.Length; r++)
        {
            readerThreads[r] = StartThread($"berth-logs-read-{r}", () => Guard(() =>
            {
                int index;
                while ((index = Interlocked.Increment(ref next)) < states.Length)
                {
                    Produce(index, states[index], queue, pool, token);
                }
            }));
        }

        foreach (var t in readerThreads)
        {
            t.Join();
        }

        queue.CompleteAdding();
        foreach (var t in workerThreads)
        {
            t.Join();
        }

        if (!failures.IsEmpty)
        {
            throw failures.Count == 1 ? failures.First() : new AggregateException(failures);
        }

        cancellationToken.ThrowIfCancellationRequested();
        var merged = new InputAggregate[states.Length];
        for (var i = 0; i < merged.Length; i++)
        {
            merged[i] = new InputAggregate();
            foreach (var p in processors)
            {
                if (p.Inputs.TryGetValue(i, out var part))
                {
                    merged[i].Merge(part);
                }
            }
        }

        return Build(query, states, merged, stopwatch.Elapsed);
    }

    private static Thread StartThread(string name, Action body)
    {
        var thread = new Thread(() => body()) { IsBackground = true, Name = name };
        thread.Start();
        return thread;
    }

    private static void Produce(int index, InputState state, BlockingCollection<Chunk> queue, ChunkPool pool, CancellationToken cancellationToken)
    {
        Stream stream;
        try
        {
            (stream, state.Compressed) = state.Input.OpenDecoded();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            state.Error = e.Message;
            return;
        }

        var buffer = pool.Rent(ChunkSize);
        var filled = 0;
        try
        {
            using (stream)
            {
                while (true)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    int n;
                    try
                    {
                        n = stream.Read(buffer, filled, buffer.Length - filled);
                    }
                    catch (Exception e) when (e is IOException or InvalidDataException)
                    {
                        state.Error = e.Message; // e.g. a truncated .gz: keep what was read
                        n = 0;
                    }

                    if (n == 0)
                    {
                        break;
                    }

                    filled += n;
                    if (filled < buffer.Length)
                    {
                        continue;
                    }

                    var last = buffer.AsSpan(0, filled).LastIndexOf((byte)'\n');
                    if (last < 0 && buffer.Length < MaxLine)
                    {
                        // A line longer than the buffer: grow it.
                        var bigger = pool.Rent(buffer.Length * 2);
                        buffer.AsSpan(0, filled).CopyTo(bigger);
                        pool.Return(buffer);
                        buffer = bigger;
                        continue;
                    }

                    var cut = last < 0 ? filled : last + 1;
                    var fresh = pool.Rent(ChunkSize);
                    var remainder = filled - cut;
                    buffer.AsSpan(cut, remainder).CopyTo(fresh);
                    var full = buffer;
                    buffer = fresh;
                    filled = remainder;
                    queue.Add(new Chunk(index, full, cut), cancellationToken);
                }

                // .NET's GZipStream ends quietly on a truncated stream; a rotated log always ends with a
                // newline, so a compressed input that does not was most likely cut short.
                if (state.Compressed && state.Error is null && filled > 0 && buffer[filled - 1] != (byte)'\n')
                {
                    state.Error = "compressed data ends in the middle of a line (truncated file?)";
                }

                if (filled > 0)
                {
                    var last = buffer;
                    buffer = null!;
                    queue.Add(new Chunk(index, last, filled), cancellationToken);
                }
            }
        }
        finally
        {
            if (buffer is not null)
            {
                pool.Return(buffer);
            }
        }
    }

    private static LogReport Build(LogQuery query, InputState[] states, InputAggregate[] inputs, TimeSpan elapsed)
    {
        var total = new RequestAggregate();
        long lines = 0, blank = 0, events = 0, notices = 0, unparsed = 0, outside = 0, noTime = 0, duplicates = 0;
        long haproxy = 0, combined = 0, json = 0;
        var errors = new Dictionary<string, ErrorClassStats>(StringComparer.Ordinal);
        var summaries = new List<InputSummary>();
        for (var i = 0; i < inputs.Length; i++)
        {
            var input = inputs[i];
            lines += input.Lines;
            blank += input.Blank;
            events += input.Events;
            notices += input.Notices;
            unparsed += input.Unparsed;
            outside += input.OutsideRange;
            noTime += input.NoTime;

            // docker-registry writes every request twice: a JSON "response completed" record and a
            // combined-format access line. Where one input has both, the JSON records (which carry the
            // error) count and the access lines are reported as duplicates.
            var dropCombined = input.RequestsOf(LogFormat.Json) > 0 && input.RequestsOf(LogFormat.Combined) > 0;
            long inputRequests = 0;
            foreach (var format in new[] { LogFormat.HAProxy, LogFormat.Combined, LogFormat.Json })
            {
                if (input.ByFormat[(int)format] is not { } requests)
                {
                    continue;
                }

                if (format == LogFormat.Combined && dropCombined)
                {
                    duplicates += requests.Requests;
                    continue;
                }

                total.Merge(requests);
                inputRequests += requests.Requests;
                switch (format)
                {
                    case LogFormat.HAProxy: haproxy += requests.Requests; break;
                    case LogFormat.Combined: combined += requests.Requests; break;
                    default: json += requests.Requests; break;
                }
            }

            foreach (var (k, v) in input.Errors)
            {
                if (errors.TryGetValue(k, out var mine))
                {
                    mine.Merge(v);
                }
                else
                {
                    errors[k] = v;
                }
            }

            summaries.Add(new InputSummary(states[i].Input.Name, states[i].Compressed, input.Lines, inputRequests,
                input.Unparsed, input.UnparsedSamples.ToArray(), states[i].Error));
        }

        var top = total.Paths
            .OrderByDescending(p => p.Value.Count)
            .ThenBy(p => p.Key, StringComparer.Ordinal)
            .Take(Math.Max(0, query.Top))
            .Select(p => MakeTop(p.Key, p.Value))
            .ToArray();

        var manifests = total.Paths
            .Where(p => RegistryPath.Parse(p.Key).Kind == RegistryPathKind.Manifest)
            .OrderByDescending(p => p.Value.Count)
            .ThenBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => p.Key)
            .ToArray();

        var statuses = new List<KeyValuePair<int, long>>();
        if (total.Statuses[RequestAggregate.OtherStatus] > 0)
        {
            statuses.Add(new(-1, total.Statuses[RequestAggregate.OtherStatus]));
        }

        for (var s = 0; s < 1000; s++)
        {
            if (total.Statuses[s] > 0)
            {
                statuses.Add(new(s, total.Statuses[s]));
            }
        }

        var byTime = total.Buckets
            .OrderBy(b => b.Key)
            .Select(b => new TimeBucket(new DateTime(b.Key, DateTimeKind.Utc), b.Value.Total, b.Value.Matched, b.Value.Classes.ToArray()))
            .ToArray();

        var errorClasses = errors
            .OrderByDescending(e => e.Value.Count)
            .ThenBy(e => e.Key, StringComparer.Ordinal)
            .Select(e => new ErrorClass(e.Key, e.Value.Count, e.Value.Sample, Descending(e.Value.Repositories)))
            .ToArray();

        return new LogReport
        {
            Query = query,
            Inputs = summaries,
            Lines = new LineCounts(lines, blank, total.Requests, events, notices, unparsed, outside, noTime, duplicates, haproxy, combined, json),
            Requests = total.Requests,
            Matched = total.Matched,
            DistinctPaths = total.Paths.Count,
            Top = top,
            Statuses = statuses,
            ByTime = byTime,
            Errors = errorClasses,
            FailingManifestPaths = manifests,
            Elapsed = elapsed,
        };
    }

    private static TopPath MakeTop(string path, PathStats stats)
    {
        var parsed = RegistryPath.Parse(path);
        return new TopPath(path, stats.Count, parsed.Kind, parsed.Repository, parsed.Reference,
            Descending(stats.Statuses), Descending(stats.Methods));
    }

    private static KeyValuePair<TKey, long>[] Descending<TKey>(Dictionary<TKey, long> counts)
        where TKey : notnull =>
        counts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key).ToArray();
}
