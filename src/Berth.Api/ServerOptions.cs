using Berth.Core;
using Microsoft.Extensions.Logging;

namespace Berth.Api;

/// <summary>Everything <c>berth serve</c> needs, validated before the server starts.</summary>
public sealed record ServerOptions
{
    /// <summary>HOST:PORT to listen on. "localhost" means 127.0.0.1.</summary>
    public string Listen { get; init; } = "127.0.0.1:5000";

    public RegistryOptions Registry { get; init; } = new();

    /// <summary>"json" (one flat JSON object per line) or "text".</summary>
    public string LogFormat { get; init; } = "json";

    public LogLevel LogLevel { get; init; } = LogLevel.Information;

    /// <summary>PEM certificate and key for HTTPS (Distribution's http.tls.certificate / key).</summary>
    public string? TlsCertificate { get; init; }

    public string? TlsKey { get; init; }

    /// <summary>How long a stopping server lets in-flight requests (uploads) finish.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>One log line per request (Distribution's log.accesslog.disabled turns it off).</summary>
    public bool AccessLogEnabled { get; init; } = true;

    /// <summary>Build or repair the catalog index (<see cref="Berth.Core.Catalog.RepositoryIndex.ReconcileAsync"/>) in the
    /// background when the server starts.</summary>
    public bool CatalogReconcileAtStart { get; init; } = true;

    /// <summary>How often the catalog index is reconciled with the tree after start-up (berth.catalog.reconcileinterval),
    /// to find repositories that other software wrote; zero: only at start-up.</summary>
    public TimeSpan CatalogReconcileInterval { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Bytes the server may allocate between two generation-0 collections (berth.gen0budgetmib); zero leaves
    /// the runtime's own budget, which it sizes from the CPU cache (see <see cref="Hosting.Gen0BudgetGovernor"/>).</summary>
    public long Gen0BudgetBytes { get; init; } = 8L * 1024 * 1024;

    /// <summary>Serve Prometheus metrics at /metrics.</summary>
    public bool MetricsEnabled { get; init; } = true;

    /// <summary>Parses <see cref="Listen"/>; throws <see cref="FormatException"/> with a clear message.</summary>
    public (string Host, int Port) ParseListen()
    {
        var value = Listen.Trim();
        var colon = value.LastIndexOf(':');
        if (colon < 0 || !int.TryParse(value[(colon + 1)..], out var port) || port is < 0 or > 65535)
        {
            throw new FormatException($"listen address '{Listen}' must be HOST:PORT, for example 127.0.0.1:5000");
        }
        var host = value[..colon].Trim('[', ']');
        if (host.Length > 0 && host != "*" && Uri.CheckHostName(host) == UriHostNameType.Unknown)
        {
            throw new FormatException($"listen address '{Listen}' must be HOST:PORT with a host name or IP address, for example 127.0.0.1:5000");
        }
        return (host.Length == 0 ? "0.0.0.0" : host, port);
    }
}
