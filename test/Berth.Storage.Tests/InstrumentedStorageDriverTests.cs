using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Berth.Storage.FileSystem;
using Berth.Storage.InMemory;
using Berth.Testing;

namespace Berth.Storage.Tests;

public sealed class InstrumentedStorageDriverTests : IDisposable
{
    private readonly Meter _meter = new(InstrumentedStorageDriver.MeterName);
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<Measurement> _measurements = new();
    private readonly FaultInjectingStorageDriver _inner = new(new InMemoryDriver());
    private readonly InstrumentedStorageDriver _driver;

    private sealed record Measurement(string Instrument, string? Unit, double Seconds, IReadOnlyDictionary<string, object?> Tags)
    {
        public string Operation => (string)Tags["operation"]!;

        public string Outcome => (string)Tags["outcome"]!;
    }

    public InstrumentedStorageDriverTests()
    {
        // Only this test's meter: other tests' instrumented drivers record on meters of their own.
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, _meter))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            var copy = new Dictionary<string, object?>();
            foreach (var tag in tags)
            {
                copy[tag.Key] = tag.Value;
            }
            _measurements.Enqueue(new Measurement(instrument.Name, instrument.Unit, value, copy));
        });
        _listener.Start();
        _driver = new InstrumentedStorageDriver(_inner, _meter);
    }

    public void Dispose()
    {
        _listener.Dispose();
        _meter.Dispose();
    }

    [Fact]
    public async Task SuccessfulCall_RecordsDurationWithBoundedTags()
    {
        await _inner.Inner.PutContentAsync("/repo/link", new byte[3]);

        await _driver.GetContentAsync("/repo/link");

        var m = Assert.Single(_measurements);
        Assert.Equal("operation_duration_seconds", m.Instrument);
        Assert.Equal("s", m.Unit);
        Assert.InRange(m.Seconds, 0, 60);
        Assert.Equal(new Dictionary<string, object?> { ["driver"] = "inmemory", ["operation"] = "get_content", ["outcome"] = "ok" }, m.Tags);
    }

    [Fact]
    public async Task MissingPath_RecordsNotFound_AndRethrows()
    {
        await Assert.ThrowsAsync<PathNotFoundException>(() => _driver.StatAsync("/missing"));

        var m = Assert.Single(_measurements);
        Assert.Equal(("stat", "not_found"), (m.Operation, m.Outcome));
    }

    [Fact]
    public async Task OtherFailure_RecordsError_AndRethrows()
    {
        _inner.CrashOnNextMutation();

        await Assert.ThrowsAsync<SimulatedCrashException>(() => _driver.PutContentAsync("/object", new byte[1]));

        var m = Assert.Single(_measurements);
        Assert.Equal(("put_content", "error"), (m.Operation, m.Outcome));
    }

    [Fact]
    public async Task InvalidOffset_RecordsError()
    {
        await _inner.Inner.PutContentAsync("/object", new byte[10]);

        await Assert.ThrowsAsync<InvalidOffsetException>(() => _driver.OpenReadAsync("/object", 11));

        Assert.Equal(("open_read", "error"), (Assert.Single(_measurements).Operation, Assert.Single(_measurements).Outcome));
    }

    [Theory]
    [InlineData("relative")]
    [InlineData("/a/../b")]
    [InlineData("/trailing/")]
    [InlineData("/")]
    public async Task InvalidPath_IsRefusedBeforeTheDriver_AndNotMeasured(string path)
    {
        await Assert.ThrowsAsync<InvalidPathException>(() => _driver.PutContentAsync(path, new byte[1]));
        await Assert.ThrowsAsync<InvalidPathException>(() => _driver.DeleteAsync(path));
        await Assert.ThrowsAsync<InvalidPathException>(() => _driver.MoveAsync("/valid", path));
        await Assert.ThrowsAsync<InvalidPathException>(() => _driver.CreateWriterAsync(path, append: false));

        Assert.Equal(0, _inner.MutationCount);
        Assert.Empty(_measurements);
    }

    [Fact]
    public async Task EveryOperation_HasItsOwnName()
    {
        await _driver.PutContentAsync("/dir/a", new byte[4]);
        await _driver.GetContentAsync("/dir/a");
        await (await _driver.OpenReadAsync("/dir/a", 2)).DisposeAsync();
        await _driver.StatAsync("/dir");
        await _driver.ListAsync("/dir");
        await foreach (var _ in _driver.WalkAsync("/"))
        {
        }
        await _driver.MoveAsync("/dir/a", "/dir/b");
        await using (var writer = await _driver.CreateWriterAsync("/dir/c", append: false))
        {
            await writer.WriteAsync(new byte[2]);
            await writer.CommitAsync();
        }
        await using (var writer = await _driver.CreateWriterAsync("/dir/d", append: false))
        {
            await writer.CancelAsync();
        }
        await _driver.DeleteAsync("/dir");

        // Pinned: dashboards and alerts use these names.
        Assert.Equal(
            ["put_content", "get_content", "open_read", "stat", "list", "walk", "move", "create_writer", "writer_write", "writer_commit", "create_writer", "writer_cancel", "delete"],
            _measurements.Select(m => m.Operation));
        Assert.All(_measurements, m => Assert.Equal("ok", m.Outcome));
        Assert.All(_measurements, m => Assert.Equal(["driver", "operation", "outcome"], m.Tags.Keys.Order(StringComparer.Ordinal)));
    }

    [Fact]
    public async Task Walk_IsMeasuredOnce_WhenEnumerationEnds()
    {
        for (var i = 0; i < 5; i++)
        {
            await _driver.PutContentAsync($"/dir/o{i}", new byte[1]);
        }
        _measurements.Clear();

        var seen = 0;
        await foreach (var _ in _driver.WalkAsync("/dir"))
        {
            Assert.Empty(_measurements);
            seen++;
        }

        Assert.Equal(5, seen);
        Assert.Equal(("walk", "ok"), (Assert.Single(_measurements).Operation, Assert.Single(_measurements).Outcome));
    }

    [Fact]
    public async Task Walk_InvalidPath_ThrowsWhenEnumerated()
    {
        var walk = _driver.WalkAsync("no-slash");

        await Assert.ThrowsAsync<InvalidPathException>(async () =>
        {
            await foreach (var _ in walk)
            {
            }
        });
        Assert.Empty(_measurements);
    }

    [Fact]
    public async Task NoListener_RecordsNothing_AndStillDelegates()
    {
        _listener.Dispose();

        await _driver.PutContentAsync("/object", new byte[1]);

        Assert.Empty(_measurements);
        Assert.Single(await _inner.Inner.GetContentAsync("/object"));
    }

    [Fact]
    public void Name_IsTheWrappedDriversName()
    {
        Assert.Equal("inmemory", _driver.Name);
    }

    [Fact]
    public async Task LocalFileAccess_IsForwarded_WhenTheWrappedDriverHasIt()
    {
        var root = Path.Combine(Path.GetTempPath(), "berth-instrumented-" + Guid.NewGuid().ToString("N"));
        try
        {
            var filesystem = new InstrumentedStorageDriver(new FileSystemDriver(root), _meter);
            await filesystem.PutContentAsync("/object", new byte[1]);

            Assert.Equal(Path.Combine(root, "object"), filesystem.GetLocalPath("/object"));
            Assert.Null(_driver.GetLocalPath("/object"));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void DefaultMeter_IsNamedBerthStorage()
    {
        Instrument? published = null;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Name == InstrumentedStorageDriver.DurationHistogramName && instrument.Meter.Name == "Berth.Storage" && !ReferenceEquals(instrument.Meter, _meter))
                {
                    published = instrument;
                }
            },
        };
        listener.Start();

        _ = new InstrumentedStorageDriver(new InMemoryDriver());

        Assert.NotNull(published);
    }
}
