using System.Net;
using System.Security.Cryptography.X509Certificates;
using Berth.Api.Catalog;
using Berth.Api.Endpoints;
using Berth.Api.Hosting;
using Berth.Api.Logging;
using Berth.Api.Middleware;
using Berth.Core;
using Berth.Core.Blobs;
using Berth.Core.Catalog;
using Berth.Core.Manifests;
using Berth.Core.Tags;
using Berth.Core.Uploads;
using Berth.Storage;
using Berth.Storage.Layout;
using Berth.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Berth.Api;

/// <summary>Builds the registry web application over a storage driver.</summary>
public static class RegistryServer
{
    public static WebApplication Build(ServerOptions options, IStorageDriver driver, Action<WebApplicationBuilder>? configure = null)
    {
        // No reload-on-change for the host's appsettings*.json: Berth's configuration is config.yml, and the
        // watcher ASP.NET Core starts for them recursively watches the working directory, so every file written
        // below it (the default storage root ./data, a client pulling into a folder there) costs inotify events
        // and stat calls in the registry process.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] });
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(options.LogLevel);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
        if (options.LogFormat == "json")
        {
            builder.Logging.AddConsole(o => o.FormatterName = JsonLinesFormatter.FormatterName).AddConsoleFormatter<JsonLinesFormatter, Microsoft.Extensions.Logging.Console.ConsoleFormatterOptions>();
        }
        else
        {
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        }
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.ShutdownTimeout);
        // The socket transport takes its pool from the last registered factory (see LargeBlockMemoryPoolFactory).
        builder.Services.AddSingleton<IMemoryPoolFactory<byte>, LargeBlockMemoryPoolFactory>();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = null;
            k.Limits.MinRequestBodyDataRate = null;
            var (host, port) = options.ParseListen();
            var addresses = host switch
            {
                "localhost" => [IPAddress.Loopback],
                "0.0.0.0" or "*" => [IPAddress.Any],
                _ when IPAddress.TryParse(host, out var ip) => [ip],
                _ => Dns.GetHostAddresses(host),
            };
            foreach (var address in addresses)
            {
                k.Listen(address, port, listen =>
                {
                    if (options.TlsCertificate is { } cert)
                    {
                        listen.UseHttps(X509Certificate2.CreateFromPemFile(cert, options.TlsKey));
                    }
                });
            }
        });

        // Every write into a repository's folders goes through the catalog index first (see IndexingStorageDriver).
        var index = new RepositoryIndex(driver, TimeProvider.System);
        driver = new IndexingStorageDriver(driver, index);

        var services = builder.Services;
        services.AddSingleton(index);
        services.AddHostedService<CatalogReconciler>();
        services.AddHostedService<Berth.Api.Gc.GcJournalPruner>();
        services.AddSingleton<Berth.Api.Hosting.Gen0BudgetGovernor>();
        services.AddHostedService(sp => sp.GetRequiredService<Berth.Api.Hosting.Gen0BudgetGovernor>());
        services.AddSingleton(options);
        services.AddSingleton(options.Registry);
        services.AddSingleton(driver);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<BlobService>();
        services.AddSingleton(sp => new UploadService(driver, sp.GetRequiredService<BlobService>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<ManifestService>();
        services.AddSingleton<TagService>();
        services.AddSingleton<CatalogService>();
        services.AddSingleton<ReferrersService>();
        services.AddSingleton<RegistryEndpoints>();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseMiddleware<RequestLoggingMiddleware>();
        var endpoints = app.Services.GetRequiredService<RegistryEndpoints>();
        var uploads = app.Services.GetRequiredService<UploadService>();
        app.Map("/v2", endpoints.DispatchAsync);
        app.Map("/v2/{**rest}", endpoints.DispatchAsync);
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/readyz", async (HttpContext context) =>
        {
            try
            {
                await ProbeStorageAsync(driver, context.RequestAborted).ConfigureAwait(false);
                return Results.Text("ok\n");
            }
            catch (Exception e) when (e is StorageException or IOException or UnauthorizedAccessException)
            {
                return Results.Text("storage unavailable: " + e.Message + "\n", statusCode: 503);
            }
        });
        if (options.MetricsEnabled)
        {
            // Storage latency is measured with System.Diagnostics.Metrics (Berth.Storage has no Prometheus
            // dependency); this publishes those instruments next to the registry's own, and adds no listener to
            // ASP.NET Core's per-request instruments.
            RegistryMetrics.StartExporting();
            app.Use(async (context, next) =>
            {
                if (context.Request.Path == "/metrics")
                {
                    RegistryMetrics.SetOpenUploads(uploads.OpenSessions);
                }
                await next(context).ConfigureAwait(false);
            });
            app.MapMetrics("/metrics");
        }
        app.MapGet("/", () => Results.Text(
            "<!doctype html><title>Berth</title><h1>Berth container registry</h1><p>OCI Distribution API at <a href=\"/v2/\">/v2/</a>, repositories at <a href=\"/v2/_catalog\">/v2/_catalog</a>, metrics at <a href=\"/metrics\">/metrics</a>.</p>",
            "text/html; charset=utf-8"));
        return app;
    }

    /// <summary>Writes, reads back and deletes a small object.</summary>
    public static async Task ProbeStorageAsync(IStorageDriver driver, CancellationToken cancellationToken)
    {
        var path = $"{StoragePaths.BerthRoot}/readyz/{Guid.NewGuid():N}";
        var payload = "ready"u8.ToArray();
        await driver.PutContentAsync(path, payload, cancellationToken).ConfigureAwait(false);
        var read = await driver.GetContentAsync(path, cancellationToken).ConfigureAwait(false);
        await driver.DeleteAsync(path, cancellationToken).ConfigureAwait(false);
        if (!read.AsSpan().SequenceEqual(payload))
        {
            throw new IOException("storage returned different bytes than were written");
        }
    }
}
