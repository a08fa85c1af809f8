using Berth.Core.Gc;
using Berth.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Berth.Api.Gc;

/// <summary>
/// Every <see cref="Interval"/> (first run a minute after start), deletes GC journal hours that no collection can
/// need any more (<see cref="GcJournal.PruneExpiredAsync"/>): without it, the journal of every upload, mount and
/// manifest PUT (a line in a file per hour, or an object each on object stores) stayed until somebody ran <c>berth gc</c>. Several instances may prune at once: deleting an hour
/// that another instance deleted is not an error. A failed run is logged and retried at the next interval.
/// </summary>
internal sealed partial class GcJournalPruner(IStorageDriver driver, TimeProvider time, ILogger<GcJournalPruner> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(15);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(TimeSpan.FromMinutes(1), time, stoppingToken).ConfigureAwait(false);
            await RunOnceAsync(stoppingToken).ConfigureAwait(false);
            using var timer = new PeriodicTimer(Interval, time);
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await RunOnceAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task RunOnceAsync(CancellationToken stoppingToken)
    {
        try
        {
            var pruned = await GcJournal.PruneExpiredAsync(driver, time.GetUtcNow(), GcProtocol.Timings, stoppingToken).ConfigureAwait(false);
            if (pruned > 0)
            {
                LogPruned(logger, pruned);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            LogPruneFailed(logger, e);
        }
    }

    [LoggerMessage(EventId = 3101, EventName = "GcJournalPruned", Level = LogLevel.Information,
        Message = "GC journal: {Hours} expired hours deleted")]
    private static partial void LogPruned(ILogger logger, int hours);

    [LoggerMessage(EventId = 3102, EventName = "GcJournalPruneFailed", Level = LogLevel.Warning,
        Message = "GC journal pruning failed; retried at the next interval")]
    private static partial void LogPruneFailed(ILogger logger, Exception exception);
}
