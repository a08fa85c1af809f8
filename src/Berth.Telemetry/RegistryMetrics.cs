using Prometheus;

namespace Berth.Telemetry;

/// <summary>Registry metrics for Prometheus. Labels are bounded: method, route template, status code.
/// Never a repository name or a path.</summary>
public static class RegistryMetrics
{
    private static readonly Counter Requests = Metrics.CreateCounter(
        "berth_http_requests_total", "HTTP requests by method, route template and status.",
        new CounterConfiguration { LabelNames = ["method", "route", "status"] });

    private static readonly Histogram Duration = Metrics.CreateHistogram(
        "berth_http_request_duration_seconds", "HTTP request latency by method and route template.",
        new HistogramConfiguration
        {
            LabelNames = ["method", "route"],
            Buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
        });

    private static readonly Counter BytesIn = Metrics.CreateCounter("berth_http_request_bytes_total", "Bytes received in request bodies (blobs and manifests).");

    private static readonly Counter BytesOut = Metrics.CreateCounter("berth_http_response_bytes_total", "Bytes sent in blob and manifest bodies.");

    private static readonly Gauge OpenUploads = Metrics.CreateGauge("berth_upload_sessions_open", "Upload sessions this instance holds state for.");

    private static int _exporting;

    /// <summary>
    /// Sets up, once per process, what <c>/metrics</c> exports besides the metrics above: the System.Diagnostics.Metrics
    /// instruments of Berth's own meters (storage latency, <c>Berth.*</c>) and of the runtime (<c>System.Runtime</c>:
    /// GC, thread pool, lock contention; observed when scraped), and prometheus-net's process metrics. Without this,
    /// prometheus-net's defaults start at the first scrape a listener for every meter and every EventCounter source:
    /// ASP.NET Core and Kestrel then measured each request and connection a second time (a scraped server answered
    /// 20–27 % fewer HEAD and GET requests per second), and that listener counted each storage operation again next
    /// to Berth's own. Call before the first scrape; later calls do nothing.
    /// </summary>
    public static void StartExporting()
    {
        if (Interlocked.Exchange(ref _exporting, 1) != 0)
        {
            return;
        }
        Metrics.SuppressDefaultMetrics(new SuppressDefaultMetricOptions
        {
            SuppressMeters = true,
            SuppressEventCounters = true,
            SuppressProcessMetrics = false,
            SuppressDebugMetrics = false,
        });
        // Process-wide, like the registry it publishes into: one listener however many servers a process builds.
        MeterAdapter.StartListening(new MeterAdapterOptions
        {
            InstrumentFilterPredicate = instrument =>
                instrument.Meter.Name.StartsWith("Berth", StringComparison.Ordinal) || instrument.Meter.Name == "System.Runtime",
        });
    }

    public static void ObserveRequest(string method, string route, int status, double seconds)
    {
        Requests.WithLabels(method, route, StatusLabel(status)).Inc();
        Duration.WithLabels(method, route).Observe(seconds);
    }

    public static void AddRequestBytes(long bytes) => BytesIn.Inc(bytes);

    public static void AddResponseBytes(long bytes) => BytesOut.Inc(bytes);

    public static void SetOpenUploads(long count) => OpenUploads.Set(count);

    private static readonly string[] StatusLabels = [.. Enumerable.Range(0, 600).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    private static string StatusLabel(int status) => status is >= 0 and < 600 ? StatusLabels[status] : "other";
}
