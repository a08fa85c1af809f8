using System.Diagnostics.Metrics;
using Berth.Storage.InMemory;
using Berth.Testing;

namespace Berth.Storage.Tests.Conformance;

/// <summary>Decorators pass the contract through unchanged.</summary>
public sealed class InstrumentedInMemoryDriverConformanceTests : StorageDriverConformanceTests, IDisposable
{
    private readonly Meter _meter = new(InstrumentedStorageDriver.MeterName);

    protected override IStorageDriver CreateDriver() => new InstrumentedStorageDriver(new InMemoryDriver(), _meter);

    public void Dispose() => _meter.Dispose();
}

/// <summary>With no fault configured the fault-injecting driver is transparent.</summary>
public sealed class FaultInjectingInMemoryDriverConformanceTests : StorageDriverConformanceTests
{
    protected override IStorageDriver CreateDriver() => new FaultInjectingStorageDriver(new InMemoryDriver());
}
