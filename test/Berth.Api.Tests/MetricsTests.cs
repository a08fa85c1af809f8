using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Berth.Storage.InMemory;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Logging;

namespace Berth.Api.Tests;

/// <summary>
/// What /metrics exports, before and after it has been scraped. prometheus-net's defaults, left on, start a second
/// listener at the first scrape: every storage operation was then counted twice, and ASP.NET Core's and Kestrel's own
/// meters and event counters measured every request again.
/// </summary>
public sealed partial class MetricsTests
{
    [Fact]
    public async Task StorageOperations_AreCountedOnce_BeforeAndAfterScrapes()
    {
        // A driver name of its own: the Prometheus registry is process-wide, and other tests use storage too.
        var driver = new CountingDriver(new InMemoryDriver(), "metrics-test-" + Guid.NewGuid().ToString("N")[..8]);
        await using var app = await StartAsync(driver);
        using var client = app.GetTestClient();

        await PushBlobAsync(client, 1);
        var first = await ScrapeAsync(client);
        Assert.Equal(driver.Puts, Count(first, driver.Name, "put_content"));
        Assert.Equal(driver.Stats, Count(first, driver.Name, "stat"));

        for (var i = 2; i <= 4; i++)
        {
            var putsBefore = driver.Puts;
            var statsBefore = driver.Stats;
            var before = await ScrapeAsync(client);
            await PushBlobAsync(client, i);
            var after = await ScrapeAsync(client);
            Assert.True(driver.Puts > putsBefore, "a blob push puts something");
            Assert.Equal(driver.Puts - putsBefore, Count(after, driver.Name, "put_content") - Count(before, driver.Name, "put_content"));
            Assert.Equal(driver.Stats - statsBefore, Count(after, driver.Name, "stat") - Count(before, driver.Name, "stat"));
        }
    }

    [Fact]
    public async Task Scrapes_ExportBerthRuntimeAndProcessMetrics_AndNoFrameworkMeters()
    {
        await using var app = await StartAsync(new InMemoryDriver());
        using var client = app.GetTestClient();

        await PushBlobAsync(client, 1);
        await ScrapeAsync(client);
        await PushBlobAsync(client, 2);
        var text = await ScrapeAsync(client);

        var families = FamilyLine().Matches(text).Select(m => m.Groups["name"].Value).ToHashSet();
        Assert.Contains("berth_http_requests_total", families);
        Assert.Contains("berth_storage_operation_duration_seconds", families);
        Assert.Contains("process_cpu_seconds_total", families);
        Assert.Contains("system_runtime_dotnet_gc_collections", families);
        // ASP.NET Core's, Kestrel's and the sockets' own instruments would cost every request and connection.
        Assert.DoesNotContain(families, f => f.StartsWith("microsoft_", StringComparison.Ordinal));
        Assert.DoesNotContain(families, f => f.StartsWith("system_net_", StringComparison.Ordinal));
        // The runtime's EventCounters (system_runtime_cpu_usage, ...) duplicate its meter and need an EventListener.
        Assert.DoesNotContain(families, f => f.StartsWith("system_runtime_", StringComparison.Ordinal) && !f.StartsWith("system_runtime_dotnet_", StringComparison.Ordinal));
    }

    /// <summary>A test-host server with metrics on, over the driver wrapped as `berth serve` wraps it.</summary>
    private static async Task<WebApplication> StartAsync(IStorageDriver driver)
    {
        var app = RegistryServer.Build(
            new ServerOptions { MetricsEnabled = true, LogLevel = LogLevel.None, Listen = "127.0.0.1:0", CatalogReconcileAtStart = false },
            new InstrumentedStorageDriver(driver),
            b =>
            {
                b.WebHost.UseTestServer();
                b.Logging.ClearProviders();
            });
        await app.StartAsync();
        return app;
    }

    private static async Task PushBlobAsync(HttpClient client, int i)
    {
        var content = RandomNumberGenerator.GetBytes(100 + i);
        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));
        using var response = await client.PostAsync($"/v2/metrics/test/blobs/uploads/?digest={digest}", new ByteArrayContent(content));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    private static async Task<string> ScrapeAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>The _count of the storage histogram for one driver and operation, summed over outcomes.</summary>
    private static long Count(string text, string driver, string operation) =>
        CountLine().Matches(text)
            .Where(m => m.Groups["driver"].Value == driver && m.Groups["operation"].Value == operation)
            .Sum(m => long.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture));

    [GeneratedRegex("""^berth_storage_operation_duration_seconds_count\{driver="(?<driver>[^"]*)",operation="(?<operation>[^"]*)",outcome="[^"]*"\} (?<value>\d+)$""", RegexOptions.Multiline)]
    private static partial Regex CountLine();

    [GeneratedRegex(@"^# TYPE (?<name>\S+) ", RegexOptions.Multiline)]
    private static partial Regex FamilyLine();

    /// <summary>Passes everything through under a name of its own, counting puts and stats.</summary>
    private sealed class CountingDriver(IStorageDriver inner, string name) : IStorageDriver
    {
        private long _puts;
        private long _stats;

        public long Puts => Interlocked.Read(ref _puts);

        public long Stats => Interlocked.Read(ref _stats);

        public string Name => name;

        public Task<byte[]> GetContentAsync(string path, CancellationToken cancellationToken = default) => inner.GetContentAsync(path, cancellationToken);

        public Task PutContentAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _puts);
            return inner.PutContentAsync(path, content, cancellationToken);
        }

        public Task PutContentAsync(string path, ReadOnlyMemory<byte> content, Durability durability, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _puts);
            return inner.PutContentAsync(path, content, durability, cancellationToken);
        }

        public Task<Stream> OpenReadAsync(string path, long offset = 0, CancellationToken cancellationToken = default) => inner.OpenReadAsync(path, offset, cancellationToken);

        public Task<IStorageWriter> CreateWriterAsync(string path, bool append, CancellationToken cancellationToken = default) => inner.CreateWriterAsync(path, append, cancellationToken);

        public Task<StorageEntry> StatAsync(string path, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _stats);
            return inner.StatAsync(path, cancellationToken);
        }

        public Task<IReadOnlyList<string>> ListAsync(string path, CancellationToken cancellationToken = default) => inner.ListAsync(path, cancellationToken);

        public IAsyncEnumerable<StorageEntry> WalkAsync(string path, CancellationToken cancellationToken = default) => inner.WalkAsync(path, cancellationToken);

        public Task MoveAsync(string sourcePath, string destinationPath, CancellationToken cancellationToken = default) => inner.MoveAsync(sourcePath, destinationPath, cancellationToken);

        public Task DeleteAsync(string path, CancellationToken cancellationToken = default) => inner.DeleteAsync(path, cancellationToken);

        public Task DeleteAsync(string path, Durability durability, CancellationToken cancellationToken = default) => inner.DeleteAsync(path, durability, cancellationToken);
    }
}
