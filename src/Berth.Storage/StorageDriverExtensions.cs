namespace Berth.Storage;

/// <summary>Small conveniences over <see cref="IStorageDriver"/> that every layer asks for.</summary>
public static class StorageDriverExtensions
{
    /// <summary>Whether something (an object or a folder) is at <paramref name="path"/>: one stat, not-found is false.</summary>
    public static async Task<bool> ExistsAsync(this IStorageDriver driver, string path, CancellationToken cancellationToken = default)
    {
        try
        {
            await driver.StatAsync(path, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (PathNotFoundException)
        {
            return false;
        }
    }
}
