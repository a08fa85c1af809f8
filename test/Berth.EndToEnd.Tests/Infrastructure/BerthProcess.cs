using System.Diagnostics;

namespace Berth.EndToEnd.Tests.Infrastructure;

/// <summary><c>dotnet berth.dll serve --data DIR --listen 127.0.0.1:PORT</c> as a child process.</summary>
public sealed class BerthProcess : ServerProcess
{
    private BerthProcess(ProcessStartInfo start, int port, string dataDirectory)
        : base("berth serve", start, port)
    {
        DataDirectory = dataDirectory;
    }

    public string DataDirectory { get; }

    /// <summary>Starts berth on a free port over <paramref name="dataDirectory"/> and waits for GET /v2/ 200.</summary>
    public static Task<BerthProcess> StartAsync(string dataDirectory, string logLevel = "info") =>
        StartOnFreePortAsync(port =>
        {
            var start = new ProcessStartInfo(BerthBinary.DotnetHost);
            foreach (var argument in new[] { BerthBinary.Dll, "serve", "--data", dataDirectory, "--listen", $"127.0.0.1:{port}", "--log-level", logLevel, "--log-format", "json" })
            {
                start.ArgumentList.Add(argument);
            }
            start.Environment["BERTH_SHUTDOWN_TIMEOUT"] = "5s";
            return new BerthProcess(start, port, dataDirectory);
        }, TimeSpan.FromSeconds(30));
}
