using System.Text.Json;
using System.Text.Json.Serialization;
using Berth.Storage;
using Berth.Storage.Layout;

namespace Berth.Core.Instances;

/// <summary>What a running Berth server says about itself in its heartbeat object.</summary>
public sealed record InstanceInfo(
    [property: JsonPropertyName("instanceId")] string InstanceId,
    [property: JsonPropertyName("pid")] int Pid,
    [property: JsonPropertyName("hostname")] string Hostname,
    [property: JsonPropertyName("listen")] string Listen,
    [property: JsonPropertyName("startedAt")] DateTimeOffset StartedAt,
    [property: JsonPropertyName("heartbeatAt")] DateTimeOffset HeartbeatAt)
{
    /// <summary>True when the heartbeat object could not be read as JSON; the times then come from the object's mtime.</summary>
    [JsonIgnore]
    public bool Unreadable { get; init; }
}

/// <summary>
/// The liveness protocol between <c>berth serve</c> and offline maintenance (<c>berth doctor --repair</c>).
/// A server writes <c>/docker/registry/v2/berth/instances/&lt;instance id&gt;</c> when it starts and every
/// <see cref="Interval"/>, and deletes it when it stops gracefully. Maintenance lists the instances whose
/// heartbeat is younger than <c>staleAfter</c> and refuses to change storage that one of them serves.
/// Writes go through <see cref="IStorageDriver.PutContentAsync"/>, so the protocol works on object stores too.
/// </summary>
public sealed class InstanceHeartbeat : IAsyncDisposable
{
    /// <summary>How often a server rewrites its heartbeat.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    /// <summary>A heartbeat older than this belongs to a server that has died.</summary>
    public static readonly TimeSpan DefaultStaleAfter = TimeSpan.FromSeconds(30);

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    private readonly IStorageDriver _driver;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop;
    private readonly InstanceInfo _first;
    private Task _loop = Task.CompletedTask;
    private int _disposed;

    private InstanceHeartbeat(IStorageDriver driver, TimeProvider time, InstanceInfo info, CancellationToken cancellationToken)
    {
        _driver = driver;
        _time = time;
        _first = info;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
    }

    /// <summary>This server's instance id (the heartbeat object's name).</summary>
    public string InstanceId => _first.InstanceId;

    /// <summary>The storage path of this server's heartbeat.</summary>
    public string Path => StoragePaths.Instance(InstanceId);

    /// <summary>Writes the first heartbeat (failing if storage cannot be written) and keeps it fresh until disposed.
    /// Disposing stops the loop and deletes the heartbeat.</summary>
    public static async Task<InstanceHeartbeat> StartAsync(IStorageDriver driver, string listen, TimeProvider timeProvider, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(driver);
        ArgumentNullException.ThrowIfNull(timeProvider);
        var now = timeProvider.GetUtcNow();
        var id = $"{SafeSegment(Environment.MachineName)}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..12]}";
        var info = new InstanceInfo(id, Environment.ProcessId, Environment.MachineName, listen, now, now);
        var heartbeat = new InstanceHeartbeat(driver, timeProvider, info, cancellationToken);
        await heartbeat.WriteAsync(now, cancellationToken).ConfigureAwait(false);
        heartbeat._loop = heartbeat.RunAsync();
        return heartbeat;
    }

    /// <summary>The instances whose heartbeat is not older than <paramref name="staleAfter"/> (default 30 s) at <paramref name="now"/>.
    /// A heartbeat that cannot be parsed counts by its modification time (fail closed).</summary>
    public static async Task<IReadOnlyList<InstanceInfo>> ListLiveAsync(IStorageDriver driver, DateTimeOffset now, TimeSpan? staleAfter = null, CancellationToken cancellationToken = default)
    {
        var limit = staleAfter ?? DefaultStaleAfter;
        IReadOnlyList<string> paths;
        try
        {
            paths = await driver.ListAsync(StoragePaths.InstancesRoot, cancellationToken).ConfigureAwait(false);
        }
        catch (PathNotFoundException)
        {
            return [];
        }
        var live = new List<InstanceInfo>();
        foreach (var path in paths.Order(StringComparer.Ordinal))
        {
            InstanceInfo? info;
            try
            {
                info = Parse(await driver.GetContentAsync(path, cancellationToken).ConfigureAwait(false));
                if (info is null)
                {
                    var entry = await driver.StatAsync(path, cancellationToken).ConfigureAwait(false);
                    if (entry.IsDirectory)
                    {
                        continue;
                    }
                    info = new InstanceInfo(StoragePath.FileName(path), 0, "", "", entry.ModifiedAt, entry.ModifiedAt) { Unreadable = true };
                }
            }
            catch (PathNotFoundException)
            {
                continue; // stopped while we listed
            }
            if (now - info.HeartbeatAt <= limit)
            {
                live.Add(info);
            }
        }
        return live;
    }

    private static InstanceInfo? Parse(byte[] content)
    {
        try
        {
            var info = JsonSerializer.Deserialize<InstanceInfo>(content, JsonOptions);
            return info is { InstanceId.Length: > 0 } ? info : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private Task WriteAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        _driver.PutContentAsync(Path, JsonSerializer.SerializeToUtf8Bytes(_first with { HeartbeatAt = now }, JsonOptions), Durability.Volatile, cancellationToken);

    private async Task RunAsync()
    {
        using var timer = new PeriodicTimer(Interval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                try
                {
                    await WriteAsync(_time.GetUtcNow(), _stop.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // A failed write is retried at the next tick; a server must not stop because storage hiccuped.
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Stops the heartbeat and deletes the object, so that maintenance may start at once.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
        try
        {
            await _driver.DeleteAsync(Path).ConfigureAwait(false);
        }
        catch (PathNotFoundException)
        {
        }
    }

    private static string SafeSegment(string s)
    {
        var chars = s.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '-').ToArray();
        var result = new string(chars).Trim('.');
        return result.Length == 0 ? "host" : result.Length > 60 ? result[..60] : result;
    }
}
