using Berth.Configuration;
using Berth.Storage;
using Berth.Storage.FileSystem;
using Berth.Storage.Layout;

namespace Berth.Commands;

/// <summary>
/// The storage a maintenance command (doctor, gc, logs --doctor) works on: a filesystem root given with
/// <c>--data DIR</c>, or whatever storage a configuration file names (<c>--config FILE</c>), built the way
/// <c>berth serve</c> builds it (<see cref="ConfigLoader.LoadStorage"/> and <see cref="StorageFactory"/>), so
/// <c>storage.s3</c> works as well as <c>storage.filesystem</c>. Dispose it when the command ends (the S3
/// driver owns an HTTP client).
/// </summary>
internal sealed class MaintenanceStorage : IDisposable
{
    private MaintenanceStorage(IStorageDriver driver, string description)
    {
        Driver = driver;
        Description = description;
    }

    /// <summary>The bare driver (no decorator), so <see cref="IsLocal"/> tells the truth.</summary>
    public IStorageDriver Driver { get; }

    /// <summary>Where the storage is, for messages ("s3://bucket/prefix at endpoint" or a directory); never credentials.</summary>
    public string Description { get; }

    /// <summary>True when objects are local files: directories are then listed, an object store is walked by prefix.</summary>
    public bool IsLocal => Driver is ILocalFileAccess;

    /// <summary>The filesystem storage under <paramref name="root"/>. Throws <see cref="ConfigException"/> when the
    /// folder does not exist (it is not created: a mistyped path must not become an empty registry).</summary>
    public static MaintenanceStorage FromDirectory(string root) => Directory.Exists(root)
        ? new(new FileSystemDriver(root), root)
        : throw new ConfigException($"storage root {root} does not exist");

    /// <summary>The storage <paramref name="configPath"/> names. Throws <see cref="ConfigException"/> for a file that
    /// names none, or none Berth can open.</summary>
    public static MaintenanceStorage FromConfig(string configPath)
    {
        var settings = ConfigLoader.LoadStorage(configPath, ServeCommand.Environment());
        return settings.Driver == "filesystem" ? FromDirectory(settings.RootDirectory) : new MaintenanceStorage(StorageFactory.Create(settings), settings.Describe());
    }

    /// <summary>
    /// Checks that the storage answers and holds a registry (docker/registry/v2). Returns null when it does, else
    /// what is wrong: an object store that cannot be reached (or refuses the credentials) names the store's error.
    /// </summary>
    public async Task<string?> CheckAsync(bool requireRegistry, CancellationToken cancellationToken)
    {
        try
        {
            var root = await Driver.StatAsync(StoragePaths.Root, cancellationToken).ConfigureAwait(false);
            if (root.IsDirectory || !requireRegistry)
            {
                return null;
            }
        }
        catch (PathNotFoundException)
        {
            if (!requireRegistry)
            {
                return null;
            }
        }
        catch (Exception e) when (e is StorageException or IOException or UnauthorizedAccessException)
        {
            return $"storage at {Description} is not usable: {e.Message}";
        }
        return Driver is FileSystemDriver local
            ? $"{Path.GetFullPath(local.RootDirectory)} holds no docker/registry/v2: is it a registry's storage root?"
            : $"{Description} holds no docker/registry/v2: is it a registry's storage (check storage.s3.bucket and rootdirectory)?";
    }

    public void Dispose() => (Driver as IDisposable)?.Dispose();
}
