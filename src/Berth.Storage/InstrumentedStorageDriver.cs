using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace Berth.Storage;

/// <summary>
/// Wraps a driver: checks paths before delegating (as distribution's base driver does) and times every call
/// into the histogram <see cref="DurationHistogramName"/> of the meter <see cref="MeterName"/>.
/// <para>Tags are bounded: <c>driver</c> (the wrapped driver's name), <c>operation</c> (one of the constants of
/// <see cref="Operations"/>) and <c>outcome</c> (<c>ok</c>, <c>not_found</c> for
/// <see cref="PathNotFoundException"/>, <c>error</c> for anything else, cancellation included). Paths never
/// become tags. A call refused for an invalid path never reaches the driver and is not measured.</para>
/// <para>Walk is measured once, from its start to the end of the enumeration (consumer time included); a
/// writer's write, commit and cancel are measured one by one.</para>
/// </summary>
public sealed class InstrumentedStorageDriver : IStorageDriver, ILocalFileAccess, IRedirectUrlProvider, IDirectoryVersionSource, IAtomicDirectoryCreator, IObjectAppender
{
    public const string MeterName = "Berth.Storage";
    /// <summary>Exported to Prometheus as berth_storage_operation_duration_seconds (meter name + instrument name).</summary>
    public const string DurationHistogramName = "operation_duration_seconds";

    private static readonly Meter SharedMeter = new(MeterName);

    /// <summary>Seconds; from half a millisecond (a cached stat) to a minute (a large commit on S3).</summary>
    private static readonly double[] BucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    private readonly IStorageDriver _inner;
    private readonly Histogram<double> _duration;

    /// <param name="inner">The driver to wrap.</param>
    /// <param name="meter">The meter to create the histogram on; a process-wide meter named
    /// <see cref="MeterName"/> when null. Tests pass their own to observe only their calls.</param>
    public InstrumentedStorageDriver(IStorageDriver inner, Meter? meter = null)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
        _duration = (meter ?? SharedMeter).CreateHistogram(
            DurationHistogramName,
            unit: "s",
            description: "Duration of storage driver operations.",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = BucketBoundaries });
    }

    /// <summary>Values of the <c>operation</c> tag. They name dashboards and alerts: add, never rename.</summary>
    public static class Operations
    {
        public const string GetContent = "get_content";
        public const string PutContent = "put_content";
        public const string OpenRead = "open_read";
        public const string CreateWriter = "create_writer";
        public const string Stat = "stat";
        public const string List = "list";
        public const string Walk = "walk";
        public const string Move = "move";
        public const string Delete = "delete";
        public const string WriterWrite = "writer_write";
        public const string WriterCommit = "writer_commit";
        public const string WriterCancel = "writer_cancel";
        public const string CreateDirectory = "create_directory";
        public const string Append = "append";
    }

    /// <summary>Values of the <c>outcome</c> tag.</summary>
    public static class Outcomes
    {
        public const string Ok = "ok";
        public const string NotFound = "not_found";
        public const string Error = "error";
    }

    public string Name => _inner.Name;

    public string? GetLocalPath(string path)
    {
        StoragePath.ValidateObjectPath(path);
        return (_inner as ILocalFileAccess)?.GetLocalPath(path);
    }

    /// <summary>Forwards to the wrapped driver; null when it has no directory versions. One local system call: not measured.</summary>
    public DirectoryVersion? GetDirectoryVersion(string path) => (_inner as IDirectoryVersionSource)?.GetDirectoryVersion(path);

    /// <summary>Forwards to the wrapped driver (operation create_directory, whose time includes the wait for
    /// <paramref name="beforePublish"/>); false when it cannot create directories atomically.</summary>
    public async Task<bool> TryCreateDirectoryAsync(string path, IReadOnlyList<KeyValuePair<string, byte[]>> files, Func<Task>? beforePublish = null, CancellationToken cancellationToken = default)
    {
        if (_inner is not IAtomicDirectoryCreator creator)
        {
            return false;
        }
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var outcome = Outcomes.Error;
        try
        {
            var created = await creator.TryCreateDirectoryAsync(path, files, beforePublish, cancellationToken).ConfigureAwait(false);
            outcome = Outcomes.Ok;
            return created;
        }
        finally
        {
            Record(Operations.CreateDirectory, outcome, started);
        }
    }

    /// <summary>Forwards to the wrapped driver (operation append); false when it cannot append.</summary>
    public async Task<bool> TryAppendAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        if (_inner is not IObjectAppender appender)
        {
            return false;
        }
        StoragePath.ValidateObjectPath(path);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var outcome = Outcomes.Error;
        try
        {
            var appended = await appender.TryAppendAsync(path, content, cancellationToken).ConfigureAwait(false);
            outcome = Outcomes.Ok;
            return appended;
        }
        finally
        {
            Record(Operations.Append, outcome, started);
        }
    }

    /// <summary>Forwards to the wrapped driver; null when it gives no URLs. Presigning is local work: not measured.</summary>
    public Task<Uri?> GetRedirectUrlAsync(string path, string method, TimeSpan expiry, CancellationToken cancellationToken = default)
    {
        StoragePath.ValidateObjectPath(path);
        return _inner is IRedirectUrlProvider provider
            ? provider.GetRedirectUrlAsync(path, method, expiry, cancellationToken)
            : Task.FromResult<Uri?>(null);
    }

    public async Task<byte[]> GetContentAsync(string path, CancellationToken cancellationToken = default)
    {
        StoragePath.ValidateObjectPath(path);
        var start = Stopwatch.GetTimestamp();
        try
        {
            var content = await _inner.GetContentAsync(path, cancellationToken).ConfigureAwait(false);
            Record(Operations.GetContent, Outcomes.Ok, start);
            return content;
        }
        catch (Exception e)
        {
            Record(Operations.GetContent, Classify(e), start);
            throw;
        }
    }

    public Task PutContentAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) =>
        PutContentAsync(path, content, Durability.Durable, cancellationToken);

    public async Task PutContentAsync(string path, ReadOnlyMemory<byte> content, Durability durability, CancellationToken cancellationToken = default)
    {
        StoragePath.ValidateObjectPath(path);
        var start = Stopwatch.GetTimestamp();
        try
        {
            await _inner.PutContentAsync(path, content, durability, cancellationToken).ConfigureAwait(false);
            Record(Operations.PutContent, Outcomes.Ok, start);
        }
        catch (Exception e)
        {
            Record(Operations.PutContent, Classify(e), start);
            throw;
        }
    }

    public async Task<Stream> OpenReadAsync(string path, long offset = 0, CancellationToken cancellationToken = default)
    {
        StoragePath.ValidateObjectPath(path);
        var start = Stopwatch.GetTimestamp();
        try
        {
            var stream = await _inner.OpenReadAsync(path, offset, cancellationToken).ConfigureAwait(false);
            Record(Operations.OpenRead, Outcomes.Ok, start);
            return stream;
        }
        catch (Exception e)
        {
            Record(Operations.OpenRead, Classify(e), start);
            throw;
        }
    }

    public async Task<IStorageWriter> CreateWriterAsync(string path, bool append, CancellationToken cancellationToken = default)
    {
        StoragePath.ValidateObjectPath(path);
        var start = Stopwatch.GetTimestamp();
        try
        {
            var writer = await _inner.CreateWriterAsync(path, append, cancellationToken).ConfigureAwait(false);
            Record(Operations.CreateWriter, Outcomes.Ok, start);
            return new Writer(this, writer);
        }
        catch (Exception e)
        {
            Record(Operations.CreateWriter, Classify(e), start);
            throw;
        }
    }

    public async Task<StorageEntry> StatAsync(string path, CancellationToken cancellationToken = default)
    {
        StoragePath.Validate(path);
        var start = Stopwatch.GetTimestamp();
        try
        {
            var entry = await _inner.StatAsync(path, cancellationToken).ConfigureAwait(false);
            Record(Operations.Stat, Outcomes.Ok, start);
            return entry;
        }
        catch (Exception e)
        {
            Record(Operations.Stat, Classify(e), start);
            throw;
        }
    }

    public async Task<IReadOnlyList<string>> ListAsync(string path, CancellationToken cancellationToken = default)
    {
        StoragePath.Validate(path);
        var start = Stopwatch.GetTimestamp();
        try
        {
            var children = await _inner.ListAsync(path, cancellationToken).ConfigureAwait(false);
            Record(Operations.List, Outcomes.Ok, start);
            return children;
        }
        catch (Exception e)
        {
            Record(Operations.List, Classify(e), start);
            throw;
        }
    }

    public async IAsyncEnumerable<StorageEntry> WalkAsync(string path, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        StoragePath.Validate(path);
        var start = Stopwatch.GetTimestamp();
        var outcome = Outcomes.Ok;
        var enumerator = _inner.WalkAsync(path, cancellationToken).GetAsyncEnumerator(cancellationToken);
        try
        {
            while (true)
            {
                bool more;
                try
                {
                    more = await enumerator.MoveNextAsync().ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    outcome = Classify(e);
                    throw;
                }
                if (!more)
                {
                    break;
                }
                yield return enumerator.Current;
            }
        }
        finally
        {
            await enumerator.DisposeAsync().ConfigureAwait(false);
            Record(Operations.Walk, outcome, start);
        }
    }

    public async Task MoveAsync(string sourcePath, string destinationPath, CancellationToken cancellationToken = default)
    {
        StoragePath.ValidateObjectPath(sourcePath);
        StoragePath.ValidateObjectPath(destinationPath);
        var start = Stopwatch.GetTimestamp();
        try
        {
            await _inner.MoveAsync(sourcePath, destinationPath, cancellationToken).ConfigureAwait(false);
            Record(Operations.Move, Outcomes.Ok, start);
        }
        catch (Exception e)
        {
            Record(Operations.Move, Classify(e), start);
            throw;
        }
    }

    public Task DeleteAsync(string path, CancellationToken cancellationToken = default) =>
        DeleteAsync(path, Durability.Durable, cancellationToken);

    public async Task DeleteAsync(string path, Durability durability, CancellationToken cancellationToken = default)
    {
        StoragePath.ValidateObjectPath(path);
        var start = Stopwatch.GetTimestamp();
        try
        {
            await _inner.DeleteAsync(path, durability, cancellationToken).ConfigureAwait(false);
            Record(Operations.Delete, Outcomes.Ok, start);
        }
        catch (Exception e)
        {
            Record(Operations.Delete, Classify(e), start);
            throw;
        }
    }

    private static string Classify(Exception e) => e is PathNotFoundException ? Outcomes.NotFound : Outcomes.Error;

    private void Record(string operation, string outcome, long start)
    {
        if (!_duration.Enabled)
        {
            return;
        }
        var tags = new TagList
        {
            { "driver", _inner.Name },
            { "operation", operation },
            { "outcome", outcome },
        };
        _duration.Record(Stopwatch.GetElapsedTime(start).TotalSeconds, tags);
    }

    private sealed class Writer(InstrumentedStorageDriver driver, IStorageWriter inner) : IStorageWriter
    {
        public long Size => inner.Size;

        public async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var start = Stopwatch.GetTimestamp();
            try
            {
                await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
                driver.Record(Operations.WriterWrite, Outcomes.Ok, start);
            }
            catch (Exception e)
            {
                driver.Record(Operations.WriterWrite, Classify(e), start);
                throw;
            }
        }

        public Task CommitAsync(CancellationToken cancellationToken = default) => CommitAsync(Durability.Durable, cancellationToken);

        public async Task CommitAsync(Durability durability, CancellationToken cancellationToken = default)
        {
            var start = Stopwatch.GetTimestamp();
            try
            {
                await inner.CommitAsync(durability, cancellationToken).ConfigureAwait(false);
                driver.Record(Operations.WriterCommit, Outcomes.Ok, start);
            }
            catch (Exception e)
            {
                driver.Record(Operations.WriterCommit, Classify(e), start);
                throw;
            }
        }

        public async Task CancelAsync(CancellationToken cancellationToken = default)
        {
            var start = Stopwatch.GetTimestamp();
            try
            {
                await inner.CancelAsync(cancellationToken).ConfigureAwait(false);
                driver.Record(Operations.WriterCancel, Outcomes.Ok, start);
            }
            catch (Exception e)
            {
                driver.Record(Operations.WriterCancel, Classify(e), start);
                throw;
            }
        }

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
