using System.Diagnostics;

namespace Berth.Logs.Tests.Infrastructure;

/// <summary>
/// A server process the test started: stdout and stderr go straight to files (through <c>sh -c 'exec
/// ...'</c>, so the PID is the server's own), and Dispose kills exactly that PID.
/// </summary>
internal sealed class ManagedProcess : IDisposable
{
    private readonly Process _process;

    private ManagedProcess(Process process, string stdoutPath, string stderrPath)
    {
        _process = process;
        StdoutPath = stdoutPath;
        StderrPath = stderrPath;
    }

    public string StdoutPath { get; }

    public string StderrPath { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public static ManagedProcess Start(string executable, IEnumerable<string> arguments, string stdoutPath, string stderrPath)
    {
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(stdoutPath == stderrPath
            ? "out=$1; shift 2; exec \"$@\" >\"$out\" 2>&1 </dev/null"
            : "out=$1; err=$2; shift 2; exec \"$@\" >\"$out\" 2>\"$err\" </dev/null");
        psi.ArgumentList.Add("sh");
        psi.ArgumentList.Add(stdoutPath);
        psi.ArgumentList.Add(stderrPath);
        psi.ArgumentList.Add(executable);
        foreach (var a in arguments)
        {
            psi.ArgumentList.Add(a);
        }

        var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {executable}");
        return new ManagedProcess(process, stdoutPath, stderrPath);
    }

    /// <summary>Polls <paramref name="ready"/> until true; fails with the process's output when it exits or times out.</summary>
    public async Task WaitUntilAsync(Func<Task<bool>> ready, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                Assert.Fail($"{what} exited with {_process.ExitCode} before it was ready: {Tail(StderrPath)} {Tail(StdoutPath)}");
            }

            if (await ready().ConfigureAwait(false))
            {
                return;
            }

            await Task.Delay(25).ConfigureAwait(false);
        }

        Assert.Fail($"{what} was not ready within {timeout.TotalSeconds} s: {Tail(StderrPath)} {Tail(StdoutPath)}");
    }

    public static string Tail(string path)
    {
        try
        {
            var text = File.ReadAllText(path);
            return text.Length > 2000 ? text[^2000..] : text;
        }
        catch (IOException)
        {
            return "";
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: false);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }

        _process.Dispose();
    }
}
