using System.Diagnostics;
using System.Text;

namespace Berth.EndToEnd.Tests.Infrastructure;

/// <summary>What a finished (or timed-out) child process left behind.</summary>
public sealed record ProcessResult(string CommandLine, int ExitCode, byte[] StdoutBytes, string Stderr, TimeSpan Elapsed, bool TimedOut)
{
    public string Stdout => Encoding.UTF8.GetString(StdoutBytes);

    public bool Succeeded => !TimedOut && ExitCode == 0;

    public string Describe() =>
        $"command: {CommandLine}\nexit code: {(TimedOut ? "timed out after " + Elapsed.TotalSeconds.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture) + " s" : ExitCode.ToString(System.Globalization.CultureInfo.InvariantCulture))}\n" +
        $"stdout:\n{Tail(Stdout)}\nstderr:\n{Tail(Stderr)}";

    private static string Tail(string text) => text.Length <= 8000 ? text : "..." + text[^8000..];
}

/// <summary>Runs short-lived tools (skopeo) with an argument list, a timeout and captured output.</summary>
public static class ProcessRunner
{
    public static async Task<ProcessResult> RunAsync(string fileName, IReadOnlyList<string> arguments, TimeSpan timeout, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                if (value is null)
                {
                    start.Environment.Remove(key);
                }
                else
                {
                    start.Environment[key] = value;
                }
            }
        }
        var commandLine = fileName + " " + string.Join(' ', arguments.Select(Quote));
        var watch = Stopwatch.StartNew();
        using var process = new Process { StartInfo = start };
        process.Start();
        process.StandardInput.Close();
        // stdout as bytes (skopeo inspect --raw prints a manifest exactly as stored), stderr as text.
        var stdout = new MemoryStream();
        var stdoutDone = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        var stderrDone = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        var timedOut = false;
        try
        {
            await process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            timedOut = true;
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
            }
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }
        await stdoutDone.ConfigureAwait(false);
        var errText = await stderrDone.ConfigureAwait(false);
        watch.Stop();
        return new ProcessResult(commandLine, timedOut ? -1 : process.ExitCode, stdout.ToArray(), errText, watch.Elapsed, timedOut);
    }

    public static string Quote(string argument) =>
        argument.Length > 0 && argument.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=@,+".Contains(c)) ? argument : "'" + argument.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
