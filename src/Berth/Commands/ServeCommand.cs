using System.Collections;
using System.CommandLine;
using Berth.Api;
using Berth.Configuration;
using Berth.Core.Instances;
using Berth.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Berth.Commands;

internal static partial class ServeCommand
{
    public static Command Create()
    {
        var config = new Argument<string?>("config") { Description = "A Distribution config.yml (optional).", Arity = ArgumentArity.ZeroOrOne };
        var listen = new Option<string?>("--listen") { Description = "HOST:PORT to listen on (default 127.0.0.1:5000; env BERTH_LISTEN)." };
        var data = new Option<string?>("--data") { Description = "Filesystem storage root holding docker/registry/v2 (default ./data; env BERTH_DATA)." };
        var logLevel = new Option<string?>("--log-level") { Description = "error, warn, info or debug (env BERTH_LOG_LEVEL)." };
        var logFormat = new Option<string?>("--log-format") { Description = "json or text (env BERTH_LOG_FORMAT)." };
        var command = new Command("serve", "Run the registry.") { config, listen, data, logLevel, logFormat };
        command.SetAction(async (parse, cancellationToken) =>
        {
            LoadedConfig loaded;
            try
            {
                loaded = ConfigLoader.Load(parse.GetValue(config), Environment(),
                    new ConfigOverrides(parse.GetValue(listen), parse.GetValue(data), parse.GetValue(logLevel), parse.GetValue(logFormat)));
            }
            catch (ConfigException e)
            {
                await Console.Error.WriteLineAsync("berth serve: configuration error: " + e.Message).ConfigureAwait(false);
                return 2;
            }
            IStorageDriver driver;
            try
            {
                driver = StorageFactory.Create(loaded);
            }
            catch (Exception e) when (e is ConfigException or IOException or UnauthorizedAccessException)
            {
                await Console.Error.WriteLineAsync("berth serve: configuration error: storage: " + e.Message).ConfigureAwait(false);
                return 2;
            }
            using var owned = driver as IDisposable;
            driver = new InstrumentedStorageDriver(driver);
            var app = RegistryServer.Build(loaded.Server, driver);
            var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Berth.Serve");
            foreach (var warning in loaded.Warnings)
            {
                LogConfigWarning(logger, warning);
            }
            LogStarting(logger, loaded.Server.Listen, loaded.Storage.Driver, loaded.Storage.Describe(), VersionCommand.Version);
            try
            {
                await RegistryServer.ProbeStorageAsync(driver, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is StorageException or IOException or UnauthorizedAccessException)
            {
                await Console.Error.WriteLineAsync($"berth serve: storage at {loaded.Storage.Describe()} is not usable: {e.Message}").ConfigureAwait(false);
                return 2;
            }
            // Lets `berth doctor --repair` see that this storage is live (refreshed every 10 s, removed on stop).
            await using var heartbeat = await InstanceHeartbeat.StartAsync(driver, loaded.Server.Listen, TimeProvider.System, cancellationToken).ConfigureAwait(false);
            try
            {
                await app.RunAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                await Console.Error.WriteLineAsync($"berth serve: cannot listen on {loaded.Server.Listen}: {e.Message}").ConfigureAwait(false);
                return 2;
            }
            return 0;
        });
        return command;
    }

    internal static Dictionary<string, string> Environment()
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in System.Environment.GetEnvironmentVariables())
        {
            result[(string)e.Key] = (string?)e.Value ?? "";
        }
        return result;
    }

    [LoggerMessage(EventId = 1, EventName = "ConfigWarning", Level = LogLevel.Warning, Message = "configuration: {Warning}")]
    private static partial void LogConfigWarning(ILogger logger, string warning);

    [LoggerMessage(EventId = 2, EventName = "Starting", Level = LogLevel.Information, Message = "berth {Version} serving on {Listen}, {Driver} storage at {Root}")]
    private static partial void LogStarting(ILogger logger, string listen, string driver, string root, string version);
}
