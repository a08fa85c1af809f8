using System.CommandLine;
using Berth.Logs.Analysis;
using Berth.Logs.Diagnosis;
using Berth.Configuration;
using Berth.Logs.Input;
using Berth.Logs.Reporting;

namespace Berth.Commands;

/// <summary>
/// <c>berth logs FILE...</c>: the runbook's "which paths fail" pipeline as one command. Parsing and
/// reporting live in Berth.Logs; this only reads flags. Exit: 0 report written, 1 report written but an
/// input could not be read to its end, 2 bad usage or no input. Options are read as text and checked
/// here so that every usage error exits 2 (System.CommandLine's own parse errors exit 1).
/// </summary>
internal static class LogsCommand
{
    public static Command Create()
    {
        var files = new Argument<string[]>("files")
        {
            Description = "Log files: plain or gzip (several at once, rotated sets). '-' or none: standard input.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var status = Text("--status", "Statuses to count: a code (500), a class (5xx, 4xx), a comma list, or 'all'. Default 5xx.");
        var top = Text("--top", "How many paths to show. Default 5.");
        var format = Text("--format", "text (default) or json.");
        var method = Text("--method", "Count only these methods (comma list, e.g. GET,HEAD). Default: all methods.");
        var by = Text("--by", "Also count requests by status per 'minute' or 'hour' and draw them as a chart.");
        var grep = Text("--grep", "Count JSON log lines containing TEXT (case-insensitive), by error class and repository.");
        var since = Text("--since", "Only lines at or after this time: ISO 8601 (no zone = UTC) or an age such as 30m, 2h, 7d.");
        var until = Text("--until", "Only lines before this time (same forms as --since).");
        var pathsOut = Text("--paths-out", "Write the failing manifest paths (/v2/<name>/manifests/<ref>, one per line, most frequent first) to FILE, for 'berth doctor --paths FILE'.");
        var threads = Text("--threads", "Worker threads. Default: one per core.");
        var doctor = new Option<bool>("--doctor") { Description = "Run berth doctor on exactly the failing manifest paths and show each path's failure class beside its count (needs --data or --config)." };
        var data = Text("--data", "Filesystem storage root (holding docker/registry/v2) that --doctor reads.");
        var config = Text("--config", "A Distribution (or Berth) config.yml: --doctor reads the storage it names (filesystem or s3, as berth serve opens it).");

        var command = new Command("logs", "Find the failing request paths in HAProxy, registry (JSON) and NGINX/Apache logs.")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        command.Arguments.Add(files);
        foreach (var option in new[] { status, top, format, method, by, grep, since, until, pathsOut, threads, data, config })
        {
            command.Options.Add(option);
        }
        command.Options.Add(doctor);

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            if (parseResult.UnmatchedTokens.Count > 0)
            {
                return Usage($"unknown argument '{parseResult.UnmatchedTokens[0]}'");
            }

            foreach (var option in new[] { status, top, format, method, by, grep, since, until, pathsOut, threads, data, config })
            {
                if (parseResult.GetResult(option) is { Implicit: false, Tokens.Count: 0 })
                {
                    return Usage($"{option.Name} needs a value");
                }
            }

            var query = new LogQuery();
            if (parseResult.GetValue(status) is { } statusText)
            {
                if (!StatusFilter.TryParse(statusText, out var filter, out var error))
                {
                    return Usage(error);
                }

                query = query with { Status = filter };
            }

            if (parseResult.GetValue(top) is { } topText)
            {
                if (!int.TryParse(topText, out var n) || n < 0)
                {
                    return Usage($"--top wants a number >= 0, not '{topText}'");
                }

                query = query with { Top = n };
            }

            var json = false;
            switch (parseResult.GetValue(format))
            {
                case null or "text": break;
                case "json": json = true; break;
                case var other: return Usage($"--format is text or json, not '{other}'");
            }

            if (parseResult.GetValue(method) is { } methodText)
            {
                var methods = methodText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(m => m.ToUpperInvariant()).ToHashSet(StringComparer.Ordinal);
                if (methods.Count == 0)
                {
                    return Usage("--method wants one or more methods, e.g. GET or GET,HEAD");
                }

                query = query with { Methods = methods };
            }

            switch (parseResult.GetValue(by))
            {
                case null: break;
                case "minute": query = query with { By = TimeBucketSize.Minute }; break;
                case "hour": query = query with { By = TimeBucketSize.Hour }; break;
                case var other: return Usage($"--by is minute or hour, not '{other}'");
            }

            if (parseResult.GetValue(grep) is { } grepText)
            {
                if (grepText.Length == 0)
                {
                    return Usage("--grep wants a text");
                }

                query = query with { Grep = grepText };
            }

            var now = DateTimeOffset.UtcNow;
            foreach (var (option, isSince) in new[] { (since, true), (until, false) })
            {
                if (parseResult.GetValue(option) is not { } timeText)
                {
                    continue;
                }

                if (!LogQuery.TryParseTime(timeText, now, out var time))
                {
                    return Usage($"{option.Name} wants an ISO 8601 time or an age like 30m, 2h, 7d; not '{timeText}'");
                }

                query = isSince ? query with { Since = time } : query with { Until = time };
            }

            if (parseResult.GetValue(threads) is { } threadText)
            {
                if (!int.TryParse(threadText, out var n) || n < 1)
                {
                    return Usage($"--threads wants a number >= 1, not '{threadText}'");
                }

                query = query with { Parallelism = n };
            }

            var names = parseResult.GetValue(files) ?? [];
            if (names.Length == 0)
            {
                if (!Console.IsInputRedirected)
                {
                    return Usage("give log files, or pipe a log into standard input");
                }

                names = ["-"];
            }

            var inputs = new List<LogInput>();
            foreach (var name in names)
            {
                if (name == "-")
                {
                    inputs.Add(LogInput.FromStream("-", Console.OpenStandardInput()));
                }
                else if (File.Exists(name))
                {
                    inputs.Add(LogInput.File(name));
                }
                else
                {
                    await Console.Error.WriteLineAsync($"berth logs: no such file: {name}").ConfigureAwait(false);
                    return 2;
                }
            }

            var dataDir = parseResult.GetValue(data);
            var configFile = parseResult.GetValue(config);
            var runDoctor = parseResult.GetValue(doctor);
            if (runDoctor && dataDir is null && configFile is null)
            {
                return Usage("--doctor needs --data DIR or --config FILE (the storage to diagnose)");
            }
            if (runDoctor && dataDir is not null && configFile is not null)
            {
                return Usage("--data and --config both name the storage: give one");
            }
            if (runDoctor && dataDir is not null && !Directory.Exists(dataDir))
            {
                return Usage($"--data: no such directory: {dataDir}");
            }
            MaintenanceStorage? storage = null;
            if (runDoctor)
            {
                try
                {
                    storage = dataDir is not null ? MaintenanceStorage.FromDirectory(dataDir) : MaintenanceStorage.FromConfig(configFile!);
                }
                catch (ConfigException e)
                {
                    return Usage($"--config {configFile}: {e.Message}");
                }
                if (await storage.CheckAsync(requireRegistry: false, cancellationToken).ConfigureAwait(false) is { } problem)
                {
                    storage.Dispose();
                    return Usage(problem);
                }
            }
            using var owned = storage;

            var report = await LogAnalyzer.AnalyzeAsync(inputs, query, cancellationToken).ConfigureAwait(false);
            if (storage is not null)
            {
                report = await PathDiagnosis.AttachAsync(report, new DoctorPathDiagnoser(storage.Driver), cancellationToken).ConfigureAwait(false);
            }
            if (parseResult.GetValue(pathsOut) is { } pathsFile)
            {
                await File.WriteAllLinesAsync(pathsFile, report.FailingManifestPaths, cancellationToken).ConfigureAwait(false);
            }

            if (json)
            {
                using var stdout = Console.OpenStandardOutput();
                LogReportJson.Write(report, stdout);
                stdout.WriteByte((byte)'\n');
            }
            else
            {
                LogReportText.Write(report, Console.Out);
            }

            return report.Incomplete ? 1 : 0;
        });
        return command;
    }

    private static Option<string?> Text(string name, string description) => new(name)
    {
        Description = description,
        Arity = ArgumentArity.ZeroOrOne,
    };

    private static int Usage(string message)
    {
        Console.Error.WriteLine($"berth logs: {message}");
        Console.Error.WriteLine("usage: berth logs FILE... [--status 500|5xx|4xx] [--top N] [--format text|json] [--method M] [--by minute|hour] [--grep TEXT] [--since T] [--until T] [--paths-out FILE]");
        return 2;
    }
}
