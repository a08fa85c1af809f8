using System.Text;
using Berth.Core.Gc;
using Berth.Storage;
using Berth.Storage.Layout;

namespace Berth.Maintenance.GarbageCollection;

/// <summary>
/// Keeps two deleting collections off the same storage without a lock primitive: write our run record,
/// then list the others (see <see cref="GcProtocol"/>). Of two collections that start together at least
/// one sees the other and backs off. The record is refreshed every <see cref="GcTimings.RunHeartbeat"/>.
/// </summary>
internal sealed class GcRunLock : IAsyncDisposable
{
    private readonly IStorageDriver _driver;
    private readonly TimeProvider _time;
    private readonly GcTimings _timings;
    private readonly string _path;
    private readonly CancellationTokenSource _stop = new();
    private long _lastBeat;
    private Task _heartbeat = Task.CompletedTask;

    private GcRunLock(IStorageDriver driver, TimeProvider time, GcTimings timings, string id)
    {
        _driver = driver;
        _time = time;
        _timings = timings;
        Id = id;
        _path = StoragePaths.GcRun(id);
    }

    public string Id { get; }

    public static async Task<GcRunLock> AcquireAsync(IStorageDriver driver, TimeProvider time, GcTimings timings, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var runLock = new GcRunLock(driver, time, timings, GcJournal.NewId(now));
        await runLock.BeatAsync(cancellationToken).ConfigureAwait(false);
        var others = (await GcRuns.ListAsync(driver, cancellationToken).ConfigureAwait(false)).Where(e => e.Path != runLock._path).ToList();
        var live = others.Where(e => GcRuns.IsLive(e, time.GetUtcNow(), timings)).ToList();
        if (live.Count > 0)
        {
            await runLock.DeleteRecordAsync().ConfigureAwait(false);
            var other = live[0];
            throw new GcAbortedException(
                $"another collection is deleting on this storage (run {StoragePath.FileName(other.Path)}, last heartbeat {other.ModifiedAt:u}); " +
                $"try again when it is done (a dead collection's record expires after {timings.RunStaleAfter.TotalMinutes:0} minutes)");
        }
        foreach (var stale in others)
        {
            try
            {
                await driver.DeleteAsync(stale.Path, cancellationToken).ConfigureAwait(false);
            }
            catch (PathNotFoundException)
            {
            }
        }
        runLock._heartbeat = runLock.HeartbeatLoopAsync();
        return runLock;
    }

    /// <summary>Throws when this collection could not refresh its record for so long that another may consider it dead.</summary>
    public void EnsureAlive()
    {
        if (_time.GetElapsedTime(Interlocked.Read(ref _lastBeat)) > _timings.RunSelfExpiry)
        {
            throw new GcAbortedException($"could not refresh the run record {_path} for {_timings.RunSelfExpiry.TotalMinutes:0} minutes; stopped deleting");
        }
    }

    private async Task BeatAsync(CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        var content = Encoding.UTF8.GetBytes($"{{\"host\":\"{Environment.MachineName}\",\"pid\":{Environment.ProcessId}}}");
        await _driver.PutContentAsync(_path, content, cancellationToken).ConfigureAwait(false);
        Interlocked.Exchange(ref _lastBeat, started);
    }

    private async Task HeartbeatLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_timings.RunHeartbeat, _time, _stop.Token).ConfigureAwait(false);
                await BeatAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception e) when (e is StorageException or IOException or UnauthorizedAccessException)
            {
                // EnsureAlive stops the sweep if this goes on.
            }
        }
    }

    private async Task DeleteRecordAsync()
    {
        try
        {
            await _driver.DeleteAsync(_path, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is StorageException or IOException or UnauthorizedAccessException)
        {
            // It expires on its own.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _heartbeat.ConfigureAwait(false);
        _stop.Dispose();
        await DeleteRecordAsync().ConfigureAwait(false);
    }
}
