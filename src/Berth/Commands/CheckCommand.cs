using System.CommandLine;
using Berth.Logs.Check;
using Spectre.Console;

namespace Berth.Commands;

/// <summary>
/// <c>berth check URL...</c>: is the registry up, and (with <c>--image</c>) can an image really be
/// pulled. Probing lives in Berth.Logs.Check; this reads flags and renders (Spectre live table for
/// <c>--watch</c>). Exit: 0 all healthy, 1 something unhealthy, 2 could not run / bad usage. Options are
/// read as text and checked here so that usage errors exit 2 (System.CommandLine's own exit 1).
/// </summary>
internal static class CheckCommand
{
    public static Command Create()
    {
        var urls = new Argument<string[]>("urls")
        {
            Description = "Registry base URLs, e.g. http://127.0.0.1:5000 https://registry.example.com",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var image = Text("--image", "Also pull NAME:TAG (or NAME@DIGEST): its manifest (index children too) and a HEAD of every blob it references.");
        var format = Text("--format", "text (default) or json.");
        var watch = Text("--watch", "Check again every INTERVAL (5s, 1m, ...) in a live table until Ctrl-C; with --format json, one JSON line per round.");
        var timeout = Text("--timeout", "Per-request timeout (default 10s).");
        var tlsMinDays = Text("--tls-min-days", "Count a target unhealthy when its TLS certificate expires within N days.");
        var insecure = new Option<bool>("--insecure") { Description = "Accept any TLS certificate (its expiry is still reported)." };

        var command = new Command("check", "Probe registries: /v2/ up, latency, TLS expiry, and optionally an image's manifest and blobs.")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        command.Arguments.Add(urls);
        foreach (var option in new Option[] { image, format, watch, timeout, tlsMinDays, insecure })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            if (parseResult.UnmatchedTokens.Count > 0)
            {
                return Usage($"unknown argument '{parseResult.UnmatchedTokens[0]}'");
            }

            foreach (var option in new Option<string?>[] { image, format, watch, timeout, tlsMinDays })
            {
                if (parseResult.GetResult(option) is { Implicit: false, Tokens.Count: 0 })
                {
                    return Usage($"{option.Name} needs a value");
                }
            }

            var targets = new List<Uri>();
            foreach (var text in parseResult.GetValue(urls) ?? [])
            {
                if (!Uri.TryCreate(text.Contains("://", StringComparison.Ordinal) ? text : "http://" + text, UriKind.Absolute, out var uri)
                    || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
                {
                    return Usage($"not an http(s) URL: '{text}'");
                }

                targets.Add(uri);
            }

            if (targets.Count == 0)
            {
                return Usage("give at least one registry URL");
            }

            var options = new CheckOptions { Targets = targets, Insecure = parseResult.GetValue(insecure) };
            if (parseResult.GetValue(image) is { } imageText)
            {
                if (!ImageReference.TryParse(imageText, out var reference))
                {
                    return Usage($"--image wants NAME:TAG or NAME@DIGEST, not '{imageText}'");
                }

                options = options with { Image = reference };
            }

            if (parseResult.GetValue(timeout) is { } timeoutText)
            {
                if (!Durations.TryParse(timeoutText, out var t))
                {
                    return Usage($"--timeout wants a duration such as 5s, not '{timeoutText}'");
                }

                options = options with { Timeout = t };
            }

            if (parseResult.GetValue(tlsMinDays) is { } daysText)
            {
                if (!int.TryParse(daysText, out var days) || days < 0)
                {
                    return Usage($"--tls-min-days wants a number of days, not '{daysText}'");
                }

                options = options with { TlsMinDays = days };
            }

            var json = false;
            switch (parseResult.GetValue(format))
            {
                case null or "text": break;
                case "json": json = true; break;
                case var other: return Usage($"--format is text or json, not '{other}'");
            }

            TimeSpan? interval = null;
            if (parseResult.GetValue(watch) is { } watchText)
            {
                if (!Durations.TryParse(watchText, out var i))
                {
                    return Usage($"--watch wants an interval such as 5s or 1m, not '{watchText}'");
                }

                interval = i;
            }

            try
            {
                if (interval is null)
                {
                    var report = await RegistryChecker.CheckAsync(options, cancellationToken).ConfigureAwait(false);
                    Print(report, json);
                    return report.ExitCode;
                }

                return json
                    ? await WatchJsonAsync(options, interval.Value, cancellationToken).ConfigureAwait(false)
                    : await WatchTableAsync(options, interval.Value, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return 2;
            }
        });
        return command;
    }

    private static void Print(CheckReport report, bool json)
    {
        if (json)
        {
            using var stdout = Console.OpenStandardOutput();
            CheckReportJson.Write(report, stdout);
            stdout.WriteByte((byte)'\n');
        }
        else
        {
            CheckReportText.Write(report, Console.Out);
        }
    }

    private static async Task<int> WatchJsonAsync(CheckOptions options, TimeSpan interval, CancellationToken cancellationToken)
    {
        var last = 2;
        using var stdout = Console.OpenStandardOutput();
        while (true)
        {
            CheckReport report;
            try
            {
                report = await RegistryChecker.CheckAsync(options, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return last;
            }

            CheckReportJson.Write(report, stdout, indented: false);
            stdout.WriteByte((byte)'\n');
            stdout.Flush();
            last = report.ExitCode;
            if (!await DelayAsync(interval, cancellationToken).ConfigureAwait(false))
            {
                return last;
            }
        }
    }

    private static async Task<int> WatchTableAsync(CheckOptions options, TimeSpan interval, CancellationToken cancellationToken)
    {
        var last = 2;
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var column in new[] { "URL", "STATE", "STATUS", "LATENCY", "TLS EXPIRES", "DETAIL" })
        {
            table.AddColumn(column);
        }

        await AnsiConsole.Live(table).StartAsync(async context =>
        {
            while (true)
            {
                CheckReport report;
                try
                {
                    report = await RegistryChecker.CheckAsync(options, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    return;
                }

                last = report.ExitCode;
                table.Rows.Clear();
                foreach (var t in report.Targets)
                {
                    var colour = !t.Up ? "red" : t.Healthy ? "green" : "yellow";
                    var detail = CheckReportText.Describe(t);
                    if (t.Image is { Problems.Count: > 0 } image)
                    {
                        detail += "\n" + string.Join("\n", image.Problems.Take(5).Select(p => $"{p.Kind} {p.Digest}: {p.Message}"));
                    }

                    table.AddRow(
                        Markup.Escape(t.Url),
                        $"[{colour}]{Markup.Escape(CheckReportText.StateOf(t))}[/]",
                        t.Status?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-",
                        CheckReportText.LatencyOf(t),
                        CheckReportText.TlsOf(t),
                        Markup.Escape(detail));
                }

                table.Caption($"{(report.Healthy ? "[green]healthy[/]" : "[red]UNHEALTHY[/]")} at {report.CheckedAt:HH:mm:ss} UTC, every {interval.TotalSeconds:0.#} s; Ctrl-C to stop");
                context.Refresh();
                if (!await DelayAsync(interval, cancellationToken).ConfigureAwait(false))
                {
                    return;
                }
            }
        }).ConfigureAwait(false);
        return last;
    }

    private static async Task<bool> DelayAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static Option<string?> Text(string name, string description) => new(name)
    {
        Description = description,
        Arity = ArgumentArity.ZeroOrOne,
    };

    private static int Usage(string message)
    {
        Console.Error.WriteLine($"berth check: {message}");
        Console.Error.WriteLine("usage: berth check URL [URL...] [--image NAME:TAG] [--format text|json] [--watch INTERVAL] [--timeout 10s] [--insecure] [--tls-min-days N]");
        return 2;
    }
}
