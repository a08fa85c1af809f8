using System.Diagnostics;
using System.Net;

namespace Berth.EndToEnd.Tests.Infrastructure;

/// <summary>A registry server running as a child process on 127.0.0.1:<see cref="Port"/>: output kept
/// (last lines), ready when GET /v2/ answers 200, stopped with SIGTERM or killed with SIGKILL by PID.</summary>
public abstract class ServerProcess : IAsyncDisposable
{
    private const int MaxLines = 400;
    private readonly Process _process;
    private readonly Queue<string> _lines = new();
    private readonly List<string> _errors = [];
    private readonly Stopwatch _started = Stopwatch.StartNew();
    private int _disposed;

    protected ServerProcess(string name, ProcessStartInfo start, int port)
    {
        Name = name;
        Port = port;
        start.UseShellExecute = false;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.RedirectStandardInput = true;
        foreach (var key in start.Environment.Keys.ToList())
        {
            // The servers read their configuration from these too; the tests' settings must win.
            if (key.StartsWith("REGISTRY_", StringComparison.Ordinal) || key.StartsWith("BERTH_", StringComparison.Ordinal)
                || key is "ASPNETCORE_URLS" or "DOTNET_URLS" or "ASPNETCORE_ENVIRONMENT")
            {
                start.Environment.Remove(key);
            }
        }
        _process = new Process { StartInfo = start, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.Start();
        _process.StandardInput.Close();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        Pid = _process.Id;
    }

    public string Name { get; }

    public int Port { get; }

    public int Pid { get; }

    /// <summary>host:port, as skopeo and docker references want it.</summary>
    public string Address => $"127.0.0.1:{Port}";

    public Uri BaseUri => new($"http://{Address}/");

    public bool HasExited => _process.HasExited;

    public string RecentOutput
    {
        get
        {
            lock (_lines)
            {
                return string.Join('\n', _lines);
            }
        }
    }

    /// <summary>Every output line at level error or above (JSON "level":"error"/"critical", or logrus
    /// level=error/fatal/panic; docker-registry logs plain 404s at level=error, so mind whose lines these are).</summary>
    public IReadOnlyList<string> ErrorLines
    {
        get
        {
            lock (_lines)
            {
                return [.. _errors];
            }
        }
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_lines)
        {
            if (line.Contains("\"level\":\"error\"", StringComparison.Ordinal) || line.Contains("\"level\":\"critical\"", StringComparison.Ordinal)
                || line.Contains("level=error", StringComparison.Ordinal) || line.Contains("level=fatal", StringComparison.Ordinal) || line.Contains("level=panic", StringComparison.Ordinal))
            {
                _errors.Add(line);
            }
            _lines.Enqueue(line);
            while (_lines.Count > MaxLines)
            {
                _lines.Dequeue();
            }
        }
    }

    /// <summary>Polls GET /v2/ until it answers 200; throws with the server's output when it exits or times out.</summary>
    public async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new ServerExitedException($"{Name} (pid {Pid}) exited with code {_process.ExitCode} before answering GET /v2/ on {Address}.\nOutput:\n{RecentOutput}", RecentOutput);
            }
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                using var response = await Http.Client.GetAsync(new Uri(BaseUri, "v2/"), cts.Token).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
                last = new HttpRequestException($"GET /v2/ answered {(int)response.StatusCode}");
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
            {
                last = e;
            }
            await Task.Delay(40).ConfigureAwait(false);
        }
        KillHard();
        throw new TimeoutException($"{Name} (pid {Pid}) did not answer GET /v2/ with 200 on {Address} within {timeout.TotalSeconds} s (last: {last?.Message}).\nOutput:\n{RecentOutput}");
    }

    /// <summary>SIGTERM, then SIGKILL if it has not exited within <paramref name="grace"/>. Returns the exit code.</summary>
    public async Task<int> StopAsync(TimeSpan? grace = null)
    {
        if (!_process.HasExited)
        {
            Signals.Send(Pid, Signals.SigTerm);
            using var cts = new CancellationTokenSource(grace ?? TimeSpan.FromSeconds(15));
            try
            {
                await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                KillHard();
            }
        }
        await _process.WaitForExitAsync().ConfigureAwait(false);
        return _process.ExitCode;
    }

    /// <summary>kill -9 by PID, and wait until the process is gone.</summary>
    public void KillHard()
    {
        if (!_process.HasExited)
        {
            Signals.Send(Pid, Signals.SigKill);
        }
        if (!_process.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            throw new InvalidOperationException($"{Name} (pid {Pid}) survived SIGKILL for 30 s");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        try
        {
            await StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        finally
        {
            _process.Dispose();
            GC.SuppressFinalize(this);
        }
    }

    public override string ToString() => $"{Name} pid {Pid} on {Address}, up {_started.Elapsed.TotalSeconds:0.0} s";

    /// <summary>Starts a server on a free port, again on another port if the first one was taken meanwhile.</summary>
    protected static async Task<T> StartOnFreePortAsync<T>(Func<int, T> create, TimeSpan readyTimeout)
        where T : ServerProcess
    {
        for (var attempt = 1; ; attempt++)
        {
            var server = create(FreePort.Next());
            try
            {
                await server.WaitUntilReadyAsync(readyTimeout).ConfigureAwait(false);
                return server;
            }
            catch (ServerExitedException e) when (attempt < 3 && e.Output.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                await server.DisposeAsync().ConfigureAwait(false);
            }
            catch
            {
                await server.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
    }
}

public sealed class ServerExitedException(string message, string output) : Exception(message)
{
    public string Output { get; } = output;
}
