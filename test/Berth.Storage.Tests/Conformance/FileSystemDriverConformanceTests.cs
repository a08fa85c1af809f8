using Berth.Storage.FileSystem;

namespace Berth.Storage.Tests.Conformance;

public sealed class FileSystemDriverConformanceTests : StorageDriverConformanceTests
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "berth-conformance-" + Guid.NewGuid().ToString("N"));

    protected override IStorageDriver CreateDriver() => new FileSystemDriver(_root);

    /// <summary>Beyond the suite's check, nothing at all may remain on disk: no temporary file of a put, no
    /// uncommitted write, no empty directory.</summary>
    protected override Task DestroyDriverAsync(IStorageDriver driver)
    {
        var leftovers = Directory.Exists(_root)
            ? Directory.EnumerateFileSystemEntries(_root, "*", SearchOption.AllDirectories).ToList()
            : [];
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
        Assert.True(leftovers.Count == 0, "files left on disk: " + string.Join(", ", leftovers));
        return Task.CompletedTask;
    }
}
