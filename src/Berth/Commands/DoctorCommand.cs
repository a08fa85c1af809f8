using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Berth.Configuration;
using Berth.Maintenance.Doctor;
using Berth.Maintenance.Doctor.Repair;
using Berth.Maintenance.Doctor.Reports;
using Berth.Storage;
using Berth.Storage.Layout;
using Spectre.Console;

namespace Berth.Commands;

/// <summary>
/// <c>berth doctor</c>: the registry runbook as one command. Exit status: 0 no error finding, 1 at least one,
/// 2 could not run (bad arguments, storage root missing, storage live, repair or restore refused).
/// Parse problems are reported by the command itself so that they exit 2, never 1 (which means "broken storage").
/// </summary>
internal static class DoctorCommand
{
    public const int ExitHealthy = 0;
    public const int ExitErrors = 1;
    public const int ExitCouldNotRun = 2;

    /// <summary>Repositories checked at once on an object store (as many storage calls as <c>berth gc</c> keeps in flight).</summary>
    private const int ObjectStoreParallelism = 32;

    /// <summary>The options every doctor command takes (recursive: they work after the subcommand too).</summary>
    private sealed record StorageOptions(Option<string> Data, Option<string> Config, Option<bool> Force, Option<string> Format)
    {
        public static StorageOptions Create() => new(
            new Option<string>("--data") { Description = "Filesystem storage root holding docker/registry/v2 (default ./data; --config names any storage).", Recursive = true },
            new Option<string>("--config") { Description = "A Distribution (or Berth) config.yml: the storage its storage section names (filesystem or s3, as berth serve opens it) is used instead of --data.", Recursive = true },
            new Option<bool>("--force") { Description = "Repair or restore even though a running Berth reports this storage as live.", Recursive = true },
            new Option<string>("--format") { Description = "Output: text (default), json or prometheus (json and text for 'quarantine list').", Recursive = true });
    }

    public static Command Create()
    {
        var shared = StorageOptions.Create();
        var verify = new Option<bool>("--verify-content") { Description = "Hash every blob and compare with its digest (reads all data)." };
        var repository = new Option<string>("--repository") { Description = "Only repositories named PREFIX or nested below it." };
        var tag = new Option<string>("--tag") { Description = "Only this tag (in every repository in scope)." };
        var paths = new Option<string>("--paths") { Description = "Only the request paths listed in FILE ('/v2/<name>/manifests/<tag>' lines, counts as 'uniq -c' prints them allowed; '-' reads stdin)." };
        var uploadAge = new Option<string>("--upload-age") { Description = "Uploads older than this are stale (default 24h; e.g. 90m, 2d)." };
        var output = new Option<string>("--output") { Description = "Write the report to FILE (atomically) instead of stdout." };
        var repair = new Option<bool>("--repair") { Description = "Print the repair plan (dry run)." };
        var yes = new Option<bool>("--yes") { Description = "With --repair: carry the plan out (moves items to the quarantine)." };
        var parallelism = new Option<string>("--parallelism") { Description = "Repositories checked at once (default 4 x cores, at least 16, on a filesystem; 32 on an object store, where each request waits on the network)." };

        var command = new Command("doctor", "Check registry storage (Berth or any Distribution-based registry) and repair it without losing anything.")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        foreach (var o in new Option[] { shared.Data, shared.Config, verify, shared.Format, repository, tag, paths, uploadAge, output, repair, yes, shared.Force, parallelism })
        {
            command.Options.Add(o);
        }
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            if (!CheckParse(parseResult))
            {
                return ExitCouldNotRun;
            }
            var format = ParseFormat(parseResult.GetValue(shared.Format), allowPrometheus: true);
            if (format is null)
            {
                return ExitCouldNotRun;
            }
            var uploadMaxAge = TimeSpan.FromHours(24);
            if (parseResult.GetValue(uploadAge) is { } ageText && !Durations.TryParse(ageText, out uploadMaxAge))
            {
                return Fail($"--upload-age '{ageText}' is not a duration (examples: 24h, 90m, 2d)");
            }
            int? requestedDegree = null;
            if (parseResult.GetValue(parallelism) is { } pText)
            {
                if (!int.TryParse(pText, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1)
                {
                    return Fail($"--parallelism '{pText}' is not a positive number");
                }
                requestedDegree = n;
            }
            if (parseResult.GetValue(yes) && !parseResult.GetValue(repair))
            {
                return Fail("--yes only goes with --repair");
            }
            using var storage = await OpenStorageAsync(parseResult, shared, cancellationToken).ConfigureAwait(false);
            if (storage is null)
            {
                return ExitCouldNotRun;
            }
            var driver = storage.Driver;
            // A local scan keeps many reads outstanding (a cold page cache); an object store's is bound by request
            // latency (measured on Ceph RGW with 300 repositories: 95 s with 4 repositories at once, 24 s with 32).
            var degree = requestedDegree ?? (storage.IsLocal ? DoctorOptions.DefaultParallelism : ObjectStoreParallelism);

            var scope = new DoctorScope { RepositoryPrefix = parseResult.GetValue(repository)?.Trim('/'), Tag = parseResult.GetValue(tag) };
            if (parseResult.GetValue(paths) is { } pathsFile)
            {
                IEnumerable<string> lines;
                try
                {
                    lines = pathsFile == "-" ? ReadAllLines(Console.In) : File.ReadAllLines(pathsFile);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    return Fail($"cannot read --paths {pathsFile}: {e.Message}");
                }
                var list = RequestPathList.Parse(lines);
                if (list.Ignored.Count > 0)
                {
                    Console.Error.WriteLine($"berth doctor: ignored {list.Ignored.Count} line(s) of {pathsFile} that name no manifest or blob, e.g. {list.Ignored[0]}");
                }
                var targets = list.Targets;
                if (scope.Tag is not null)
                {
                    targets = [.. targets.Where(t => t.Kind != DoctorTargetKind.Tag || t.Reference == scope.Tag)];
                }
                scope = scope with { Targets = targets, Tag = null };
            }

            var progress = new DoctorProgress();
            var options = new DoctorOptions
            {
                VerifyContent = parseResult.GetValue(verify),
                UploadMaxAge = uploadMaxAge,
                MaxDegreeOfParallelism = degree,
                Progress = progress,
            };
            DoctorReport report;
            try
            {
                var scan = Doctor.ScanAsync(driver, scope, options, cancellationToken);
                report = await ShowProgressAsync(scan, progress, options.VerifyContent).ConfigureAwait(false);
            }
            catch (Exception e) when (e is StorageException or IOException or UnauthorizedAccessException)
            {
                return Fail($"scan failed: {e.Message}");
            }

            RepairResult? repairResult = null;
            if (parseResult.GetValue(repair))
            {
                try
                {
                    repairResult = await Doctor.RepairAsync(driver, report,
                        new RepairOptions { DryRun = !parseResult.GetValue(yes), Force = parseResult.GetValue(shared.Force) }, cancellationToken).ConfigureAwait(false);
                }
                catch (StorageLiveException e)
                {
                    Console.Error.WriteLine(ReportWriter.Render(ReportFormat.Text, report));
                    return Fail("refusing to repair: " + e.Message);
                }
            }

            if (!WriteOutput(ReportWriter.Render(format.Value, report, repairResult), parseResult.GetValue(output)))
            {
                return ExitCouldNotRun;
            }
            if (repairResult is { DryRun: false })
            {
                return repairResult.UnresolvedErrors > 0 || repairResult.Outcomes.Any(o => o.Status == RepairStatus.Failed) ? ExitErrors : ExitHealthy;
            }
            return report.HasErrors ? ExitErrors : ExitHealthy;
        });

        command.Subcommands.Add(CreateQuarantine(shared));
        command.Subcommands.Add(CreateRestore(shared));
        return command;
    }

    private static Command CreateQuarantine(StorageOptions shared)
    {
        var list = new Command("list", "List what doctor moved to the quarantine: id, time, class, repository, tag, objects.") { TreatUnmatchedTokensAsErrors = false };
        list.SetAction(async (parseResult, cancellationToken) =>
        {
            if (!CheckParse(parseResult))
            {
                return ExitCouldNotRun;
            }
            var format = ParseFormat(parseResult.GetValue(shared.Format), allowPrometheus: false);
            using var storage = format is null ? null : await OpenStorageAsync(parseResult, shared, cancellationToken).ConfigureAwait(false);
            if (storage is null)
            {
                return ExitCouldNotRun;
            }
            var items = await Doctor.ListQuarantineAsync(storage.Driver, cancellationToken).ConfigureAwait(false);
            if (format == ReportFormat.Json)
            {
                Console.Out.Write(JsonSerializer.Serialize(new { items }, new JsonSerializerOptions { WriteIndented = true }) + "\n");
                return ExitHealthy;
            }
            if (items.Count == 0)
            {
                Console.Out.WriteLine("the quarantine is empty");
                return ExitHealthy;
            }
            Console.Out.WriteLine($"{"ID",-25} {"TIME (UTC)",-20} {"STATE",-11} {"CLASS",-22} {"OBJECTS",7} {"BYTES",9}  WHAT");
            foreach (var j in items)
            {
                var what = j.Tag is not null ? $"{j.Repository}:{j.Tag}" : j.Root;
                Console.Out.WriteLine($"{j.Id,-25} {j.Time.UtcDateTime,-20:yyyy-MM-dd HH:mm:ss} {j.State,-11} {j.Class,-22} {j.Objects.Count,7} {j.Bytes,9}  {what}");
            }
            Console.Out.WriteLine("restore one with: berth doctor restore <id>");
            return ExitHealthy;
        });
        var quarantine = new Command("quarantine", "Inspect the quarantine.");
        quarantine.Subcommands.Add(list);
        return quarantine;
    }

    private static Command CreateRestore(StorageOptions shared)
    {
        var id = new Argument<string>("id") { Description = "The quarantine id (berth doctor quarantine list).", Arity = ArgumentArity.ZeroOrOne };
        var restore = new Command("restore", "Put a quarantined item back exactly (byte for byte) and remove it from the quarantine.") { TreatUnmatchedTokensAsErrors = false };
        restore.Arguments.Add(id);
        restore.SetAction(async (parseResult, cancellationToken) =>
        {
            if (!CheckParse(parseResult))
            {
                return ExitCouldNotRun;
            }
            if (string.IsNullOrWhiteSpace(parseResult.GetValue(id)))
            {
                return Fail("restore needs a quarantine id (see berth doctor quarantine list)");
            }
            using var storage = await OpenStorageAsync(parseResult, shared, cancellationToken).ConfigureAwait(false);
            if (storage is null)
            {
                return ExitCouldNotRun;
            }
            try
            {
                var journal = await Doctor.RestoreAsync(storage.Driver, parseResult.GetValue(id)!, new RepairOptions { DryRun = false, Force = parseResult.GetValue(shared.Force) }, cancellationToken).ConfigureAwait(false);
                var what = journal.Tag is not null ? $"{journal.Repository}:{journal.Tag}" : journal.Root;
                Console.Out.WriteLine($"restored {journal.Id} ({journal.Class}, {what}): {journal.Objects.Count(o => o.Removed)} object(s) back in place, quarantine item removed");
                return ExitHealthy;
            }
            catch (Exception e) when (e is QuarantineException or StorageLiveException or StorageException)
            {
                return Fail(e.Message);
            }
        });
        return restore;
    }

    private static bool CheckParse(ParseResult parseResult)
    {
        var problems = parseResult.Errors.Select(e => e.Message).Concat(parseResult.UnmatchedTokens.Select(t => $"unknown argument '{t}'")).ToList();
        foreach (var p in problems)
        {
            Console.Error.WriteLine("berth doctor: " + p);
        }
        if (problems.Count > 0)
        {
            Console.Error.WriteLine("berth doctor: see berth doctor --help");
        }
        return problems.Count == 0;
    }

    private static ReportFormat? ParseFormat(string? text, bool allowPrometheus)
    {
        switch (text?.ToLowerInvariant())
        {
            case null or "text":
                return ReportFormat.Text;
            case "json":
                return ReportFormat.Json;
            case "prometheus" when allowPrometheus:
                return ReportFormat.Prometheus;
            default:
                Fail($"--format '{text}' is not one of text, json{(allowPrometheus ? ", prometheus" : "")}");
                return null;
        }
    }

    /// <summary>The storage named by --config (any driver its storage section names, as berth serve opens it) or
    /// --data (a filesystem root, default ./data), or null (after saying why) when it cannot be opened or holds no registry.</summary>
    private static async Task<MaintenanceStorage?> OpenStorageAsync(ParseResult parseResult, StorageOptions shared, CancellationToken cancellationToken)
    {
        MaintenanceStorage storage;
        var config = parseResult.GetValue(shared.Config);
        try
        {
            storage = config is not null ? MaintenanceStorage.FromConfig(config) : MaintenanceStorage.FromDirectory(parseResult.GetValue(shared.Data) ?? "./data");
        }
        catch (ConfigException e)
        {
            Fail(config is not null ? $"cannot use --config {config}: {e.Message}" : e.Message);
            return null;
        }
        if (await storage.CheckAsync(requireRegistry: true, cancellationToken).ConfigureAwait(false) is { } problem)
        {
            storage.Dispose();
            Fail(problem);
            return null;
        }
        return storage;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine("berth doctor: " + message);
        return ExitCouldNotRun;
    }

    private static IEnumerable<string> ReadAllLines(TextReader reader)
    {
        while (reader.ReadLine() is { } line)
        {
            yield return line;
        }
    }

    /// <summary>Writes to stdout, or to FILE through a temporary file and a rename (a textfile collector never sees half a file).</summary>
    private static bool WriteOutput(string text, string? file)
    {
        if (file is null)
        {
            Console.Out.Write(text);
            Console.Out.Flush();
            return true;
        }
        var full = Path.GetFullPath(file);
        var temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        try
        {
            File.WriteAllText(temp, text);
            File.Move(temp, full, overwrite: true);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try
            {
                File.Delete(temp);
            }
            catch (IOException)
            {
            }
            Fail($"cannot write --output {file}: {e.Message}");
            return false;
        }
    }

    /// <summary>A live progress display on stderr when it is a terminal; nothing when stderr is redirected.</summary>
    private static Task<DoctorReport> ShowProgressAsync(Task<DoctorReport> scan, DoctorProgress progress, bool verifying) =>
        Console.IsErrorRedirected || Environment.GetEnvironmentVariable("TERM") == "dumb"
            ? scan
            : RenderProgressAsync(scan, progress, verifying);

    /// <summary>The progress display on a terminal. A method of its own, not inlined: a precompiled method loads the
    /// types it refers to before it first runs, and a scan whose stderr is not a terminal (a script, a monitor)
    /// then never loads Spectre.Console.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static async Task<DoctorReport> RenderProgressAsync(Task<DoctorReport> scan, DoctorProgress progress, bool verifying)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        return await console.Progress()
            .AutoClear(true)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(async ctx =>
            {
                var blobs = ctx.AddTask(verifying ? "blob store (verifying)" : "blob store", autoStart: false, maxValue: 1);
                var repositories = ctx.AddTask("repositories", autoStart: false, maxValue: 1);
                while (!scan.IsCompleted)
                {
                    if (progress.Phase == "blobs")
                    {
                        blobs.StartTask();
                        blobs.IsIndeterminate = true;
                        blobs.Description = $"blob store: {progress.BlobsChecked} blobs" + (verifying ? $", {progress.BytesVerified / (1024 * 1024)} MiB hashed" : "");
                    }
                    else if (progress.Phase == "repositories")
                    {
                        if (blobs.IsStarted)
                        {
                            blobs.IsIndeterminate = false;
                            blobs.Value = blobs.MaxValue;
                        }
                        repositories.StartTask();
                        var found = Math.Max(1, progress.RepositoriesFound);
                        repositories.MaxValue = progress.DiscoveryDone ? found : found + 1;
                        repositories.Value = progress.RepositoriesScanned;
                        repositories.Description = $"repositories {progress.RepositoriesScanned}/{progress.RepositoriesFound}, tags {progress.TagsScanned}, findings {progress.Findings}";
                    }
                    await Task.WhenAny(scan, Task.Delay(100)).ConfigureAwait(false);
                }
                repositories.Value = repositories.MaxValue;
                blobs.Value = blobs.MaxValue;
                return await scan.ConfigureAwait(false);
            }).ConfigureAwait(false);
    }
}
