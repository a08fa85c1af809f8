using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Berth.Api.Hosting;

/// <summary>
/// Caps how much the server allocates between two generation-0 collections. The runtime sizes its generation-0
/// budget from the CPU's last-level cache (4/5 of it, then halved to fit memory); a VM that reports a large L3
/// (300 MiB on the benchmark machine) gets a budget of well over a hundred MiB, so the heap grows by that much of
/// short-lived request garbage before the first collection, and the process keeps those pages. Measured on the
/// push phases of the benchmark (big and small blobs, 1 and 8 streams): peak RSS 206 MiB with the runtime's
/// budget, 157 MiB with 32 MiB, 145 MiB with 16 MiB, 127 MiB with 4 MiB (DOTNET_GCgen0size); the whole push, pull and request-rate sequence 158 MiB with 16 MiB, 149 MiB with 8 MiB (the default), 145 MiB with 4; throughput
/// unchanged within the noise. DOTNET_GCgen0size is read from the environment only (no runtimeconfig
/// property), so the server enforces its budget itself: a background thread looks at the allocated-bytes
/// counter every <see cref="Interval"/> and asks for a generation-0 collection when the budget is used up and
/// the runtime has not collected meanwhile. A generation-0 collection of a request-serving heap takes well
/// under a millisecond. Off when the budget is zero or DOTNET_GCgen0size is set (the runtime then has one).
/// </summary>
public sealed class Gen0BudgetGovernor : IHostedService, IDisposable
{
    internal static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(20);

    private readonly long _budget;
    private readonly ILogger<Gen0BudgetGovernor> _logger;
    private readonly CancellationTokenSource _stop = new();
    private Thread? _thread;
    private long _induced;

    public Gen0BudgetGovernor(ServerOptions options, ILogger<Gen0BudgetGovernor> logger)
    {
        _budget = options.Gen0BudgetBytes;
        _logger = logger;
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOTNET_GCgen0size")) ||
            !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("COMPlus_GCgen0size")))
        {
            _budget = 0;
        }
    }

    /// <summary>Whether the governor runs (a positive budget and no DOTNET_GCgen0size).</summary>
    public bool Enabled => _budget > 0;

    /// <summary>Generation-0 collections the governor asked for since it started.</summary>
    public long InducedCollections => Interlocked.Read(ref _induced);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (Enabled)
        {
            _thread = new Thread(Run) { IsBackground = true, Name = "berth gen0 budget" };
            _thread.Start();
            _logger.LogDebug("generation-0 budget {BudgetBytes} bytes", _budget);
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Stop();
        return Task.CompletedTask;
    }

    /// <summary>Stops the thread and waits for it (it wakes at once), so that the token it waits on is never
    /// disposed under it (a host disposed without StopAsync crashed its process that way).</summary>
    public void Dispose()
    {
        Stop();
        _stop.Dispose();
    }

    private void Stop()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0)
        {
            _stop.Cancel();
            _thread?.Join();
        }
    }

    private int _stopped;

    private void Run()
    {
        WaitHandle stop;
        try
        {
            stop = _stop.Token.WaitHandle;
        }
        catch (ObjectDisposedException)
        {
            return;
        }
        var collections = GC.CollectionCount(0);
        var since = GC.GetTotalAllocatedBytes(precise: false);
        while (!stop.WaitOne(Interval))
        {
            var now = GC.CollectionCount(0);
            var allocated = GC.GetTotalAllocatedBytes(precise: false);
            if (now != collections)
            {
                // The runtime collected by itself (or someone else asked): count from here.
                collections = now;
                since = allocated;
                continue;
            }
            if (allocated - since < _budget)
            {
                continue;
            }
            GC.Collect(0, GCCollectionMode.Forced, blocking: true);
            Interlocked.Increment(ref _induced);
            collections = GC.CollectionCount(0);
            since = GC.GetTotalAllocatedBytes(precise: false);
        }
    }
}
