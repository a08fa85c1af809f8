using Berth.Storage.FileSystem;
using Berth.Storage.InMemory;

namespace Berth.Api.Tests.Infrastructure;

/// <summary>Creates the storage driver one test runs on, and cleans it up.</summary>
public interface IDriverFactory : IDisposable
{
    IStorageDriver Create();

    /// <summary>The local directory holding the storage root, for drivers that have one.</summary>
    string? RootDirectory { get; }
}

public sealed class InMemoryDriverFactory : IDriverFactory
{
    public string? RootDirectory => null;

    public IStorageDriver Create() => new InMemoryDriver();

    public void Dispose()
    {
    }
}

public sealed class FileSystemDriverFactory : IDriverFactory
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "berth-api-tests-" + Guid.NewGuid().ToString("N"));

    public string? RootDirectory => _root;

    public IStorageDriver Create() => new FileSystemDriver(_root, syncToDisk: false);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
