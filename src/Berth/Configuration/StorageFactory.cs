using Berth.Storage;
using Berth.Storage.FileSystem;
using Berth.Storage.InMemory;
using Berth.Storage.S3;

namespace Berth.Configuration;

/// <summary>
/// Builds the storage driver a configuration names, for every command that opens a registry's storage
/// (<c>berth serve</c>, and <c>--config FILE</c> of the maintenance commands):
/// <code>
/// var loaded = ConfigLoader.Load(path, environment, new ConfigOverrides(Data: dataOption));
/// IStorageDriver driver = StorageFactory.Create(loaded);        // or StorageFactory.Create(loaded.Storage)
/// </code>
/// <list type="bullet">
/// <item>"filesystem": <see cref="FileSystemDriver"/> on <see cref="StorageSettings.RootDirectory"/> (storage.filesystem,
/// or <c>--data</c> / BERTH_DATA through <see cref="ConfigOverrides.Data"/>).</item>
/// <item>"s3": <see cref="S3Driver"/> on <see cref="StorageSettings.S3"/> (storage.s3). Building it does not contact the
/// store; the first operation does (<c>RegistryServer.ProbeStorageAsync</c> checks it).</item>
/// <item>"inmemory": an empty <see cref="InMemoryDriver"/>.</item>
/// </list>
/// The driver is returned bare: wrap it in <see cref="InstrumentedStorageDriver"/> for metrics. It may be
/// <see cref="IDisposable"/> (the S3 driver owns an HTTP client); dispose it when the command ends.
/// Throws <see cref="ConfigException"/> for settings no driver can be built from.
/// </summary>
public static class StorageFactory
{
    public static IStorageDriver Create(LoadedConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return Create(config.Storage);
    }

    public static IStorageDriver Create(StorageSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        try
        {
            return settings.Driver switch
            {
                "filesystem" => new FileSystemDriver(settings.RootDirectory),
                "inmemory" => new InMemoryDriver(),
                "s3" => CreateS3(settings),
                var other => throw new ConfigException($"storage driver '{other}' is not one of filesystem, s3, inmemory"),
            };
        }
        catch (ArgumentException e)
        {
            throw new ConfigException(e.Message);
        }
    }

    /// <summary>A method of its own, so that a filesystem or in-memory registry never loads the S3 driver and the AWS
    /// SDK (3.7 MiB of resident assemblies in an idle <c>berth serve</c>).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static IStorageDriver CreateS3(StorageSettings settings) =>
        new S3Driver(settings.S3 ?? throw new ConfigException("storage.s3: the settings are missing"));
}
