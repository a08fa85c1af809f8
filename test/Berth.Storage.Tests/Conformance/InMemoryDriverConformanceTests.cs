using Berth.Storage.InMemory;

namespace Berth.Storage.Tests.Conformance;

public sealed class InMemoryDriverConformanceTests : StorageDriverConformanceTests
{
    protected override IStorageDriver CreateDriver() => new InMemoryDriver();
}
