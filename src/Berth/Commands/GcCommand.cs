using System.CommandLine;
using Berth.Configuration;
using Berth.Maintenance.GarbageCollection;
using Berth.Storage;
using Spectre.Console;

namespace Berth.Commands;

/// <summary><c>berth gc</c>: mark and sweep; <c>--dry-run</c> only reports. Exit 0 clean, 1 error findings, 2 could not run.</summary>
internal static class GcCommand
{
    public static Command Create()
    {
        var data = new Option<string?>("--data") { Description = "Filesystem storage root holding docker/registry/v2." };
        var config = new Option<string?>("--config") { Description = "A Distribution (or Berth) config.yml: the storage its storage section names (filesystem or s3, as berth serve opens it); --data wins." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Only report what would be deleted and the bytes freed." };
        var delete = new Option<bool>("--delete") { Description = "Delete (the default without --dry-run; accepted for scripts that say it explicitly). Safe while Berth instances push into the same storage." };
        var deleteUntagged = new Option<bool>("--delete-untagged") { Description = "Also delete manifests no tag reaches (through indexes and referrers)." };
        var grace = new Option<string>("--grace") { Description = "Never delete blob data younger than this (Go duration).", DefaultValueFactory = _ => "1h" };
        var uploadAge = new Option<string>("--upload-age") { Description = "Delete upload sessions untouched for this long.", DefaultValueFactory = _ => "24h" };
        var format = new Option<string>("--format") { Description = "text or json.", DefaultValueFactory = _ => "text" };
        var command = new Command("gc", "Delete blobs, manifests, links and uploads nothing references (--dry-run: only report).")
        {
            data, config, dryRun, delete, deleteUntagged, grace, uploadAge, format,
        };
        // Usage errors are exit status 2 ("could not run"), like every other reason not to run.
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parse, cancellationToken) =>
        {
            MaintenanceStorage? storage = null;
            GcOptions options;
            try
            {
                if (parse.UnmatchedTokens.Count > 0)
                {
                    throw new ConfigException("unexpected argument " + string.Join(' ', parse.UnmatchedTokens) + " (see berth gc --help)");
                }
                if (parse.GetValue(format) is not ("text" or "json"))
                {
                    throw new ConfigException($"--format must be text or json, not '{parse.GetValue(format)}'");
                }
                if (parse.GetValue(dryRun) && parse.GetValue(delete))
                {
                    throw new ConfigException("--dry-run and --delete contradict each other");
                }
                storage = parse.GetValue(data) is { } root ? MaintenanceStorage.FromDirectory(root)
                    : parse.GetValue(config) is { } file ? MaintenanceStorage.FromConfig(file)
                    : throw new ConfigException("name the storage with --data DIR or --config FILE");
                options = new GcOptions
                {
                    DryRun = parse.GetValue(dryRun),
                    DeleteUntagged = parse.GetValue(deleteUntagged),
                    Grace = ConfigLoader.ParseDuration(parse.GetValue(grace)!, "--grace"),
                    UploadAge = ConfigLoader.ParseDuration(parse.GetValue(uploadAge)!, "--upload-age"),
                    // Directories are listed on a filesystem, an object store is walked by prefix (a thousand keys a request).
                    ListDirectories = storage.IsLocal,
                };
            }
            catch (ConfigException e)
            {
                storage?.Dispose();
                await Console.Error.WriteLineAsync("berth gc: " + e.Message).ConfigureAwait(false);
                return 2;
            }
            using var owned = storage;
            if (await storage.CheckAsync(requireRegistry: false, cancellationToken).ConfigureAwait(false) is { } problem)
            {
                await Console.Error.WriteLineAsync("berth gc: " + problem).ConfigureAwait(false);
                return 2;
            }
            // Collection is bound by storage latency, and filesystem calls block their thread: give the pool
            // enough threads up front for the parallel walks and reads instead of letting it grow slowly.
            ThreadPool.GetMinThreads(out var workers, out var io);
            ThreadPool.SetMinThreads(Math.Max(workers, 2 * options.Concurrency), io);
            var driver = storage.Driver;
            GcReport report;
            try
            {
                report = await RunWithProgressAsync(new GarbageCollector(driver, options), cancellationToken).ConfigureAwait(false);
            }
            catch (GcAbortedException e)
            {
                await Console.Error.WriteLineAsync("berth gc: " + e.Message).ConfigureAwait(false);
                return 2;
            }
            catch (Exception e) when (e is StorageException or IOException or UnauthorizedAccessException)
            {
                await Console.Error.WriteLineAsync("berth gc: storage failed: " + e.Message).ConfigureAwait(false);
                return 2;
            }
            if (parse.GetValue(format) == "json")
            {
                await using var stdout = Console.OpenStandardOutput();
                GcReportWriter.WriteJson(report, stdout);
            }
            else
            {
                GcReportWriter.WriteText(report, Console.Out);
            }
            return report.HasErrors ? 1 : 0;
        });
        return command;
    }

    /// <summary>Progress on stderr, only when a person is watching.</summary>
    private static async Task<GcReport> RunWithProgressAsync(GarbageCollector collector, CancellationToken cancellationToken)
    {
        if (Console.IsErrorRedirected)
        {
            return await collector.RunAsync(null, cancellationToken).ConfigureAwait(false);
        }
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        GcReport? report = null;
        await console.Progress().AutoClear(true).HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var tasks = new Dictionary<string, ProgressTask>(StringComparer.Ordinal);
                var progress = new SynchronousProgress(p =>
                {
                    lock (tasks)
                    {
                        if (!tasks.TryGetValue(p.Phase, out var task))
                        {
                            foreach (var previous in tasks.Values)
                            {
                                previous.Value = previous.MaxValue;
                                previous.StopTask();
                            }
                            tasks[p.Phase] = task = context.AddTask(p.Phase, maxValue: Math.Max(1, p.Total ?? 1));
                            task.IsIndeterminate = p.Total is null;
                        }
                        if (p.Total is { } total)
                        {
                            task.IsIndeterminate = false;
                            task.MaxValue = Math.Max(1, total);
                        }
                        task.Value = p.Done;
                    }
                });
                report = await collector.RunAsync(progress, cancellationToken).ConfigureAwait(false);
            }).ConfigureAwait(false);
        return report!;
    }

    /// <summary>Applies each report at once, in order (<see cref="Progress{T}"/> would post them to the thread pool).</summary>
    private sealed class SynchronousProgress(Action<GcProgress> report) : IProgress<GcProgress>
    {
        public void Report(GcProgress value) => report(value);
    }
}
