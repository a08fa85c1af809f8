using Berth.Core.Catalog;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Berth.Api.Catalog;

/// <summary>
/// Runs <see cref="RepositoryIndex.ReconcileAsync"/> in the background: once when the server starts (the server
/// is ready at once; until the first reconcile of a storage completes, the catalog walks the tree) and then every
/// <see cref="ServerOptions.CatalogReconcileInterval"/>, to pick up repositories that other software wrote and drop
/// markers of removed ones. A failed run is logged and retried at the next interval.
/// </summary>
internal sealed partial class CatalogReconciler(RepositoryIndex index, ServerOptions options, TimeProvider time, ILogger<CatalogReconciler> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        if (options.CatalogReconcileAtStart)
        {
            await RunOnceAsync(stoppingToken).ConfigureAwait(false);
        }
        if (options.CatalogReconcileInterval <= TimeSpan.Zero)
        {
            return;
        }
        using var timer = new PeriodicTimer(options.CatalogReconcileInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await RunOnceAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task RunOnceAsync(CancellationToken stoppingToken)
    {
        try
        {
            var result = await index.ReconcileAsync(stoppingToken).ConfigureAwait(false);
            LogReconciled(logger, result.Repositories, result.Added, result.Removed, (long)result.Elapsed.TotalMilliseconds);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            LogReconcileFailed(logger, e);
        }
    }

    [LoggerMessage(EventId = 3001, EventName = "CatalogReconciled", Level = LogLevel.Information,
        Message = "catalog index reconciled: {Repositories} repositories, {Added} markers added, {Removed} removed, in {ElapsedMs} ms")]
    private static partial void LogReconciled(ILogger logger, int repositories, int added, int removed, long elapsedMs);

    [LoggerMessage(EventId = 3002, EventName = "CatalogReconcileFailed", Level = LogLevel.Warning,
        Message = "catalog index reconcile failed; the catalog keeps answering (from the index, or by walking the tree until a reconcile completes)")]
    private static partial void LogReconcileFailed(ILogger logger, Exception exception);
}
