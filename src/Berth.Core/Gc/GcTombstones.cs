using System.Text;
using Berth.Storage;
using Berth.Storage.Layout;

namespace Berth.Core.Gc;

/// <summary>The tombstones of <see cref="GcProtocol"/>: one empty-ish object per digest a collection is about to delete or unlink.</summary>
public static class GcTombstones
{
    public static Task WriteAsync(IStorageDriver driver, Digest digest, string runId, CancellationToken cancellationToken = default) =>
        driver.PutContentAsync(StoragePaths.GcTombstone(digest), Encoding.ASCII.GetBytes(runId), cancellationToken);

    /// <summary>Removes a tombstone; a missing one is fine.</summary>
    public static async Task RemoveAsync(IStorageDriver driver, Digest digest, CancellationToken cancellationToken = default)
    {
        try
        {
            await driver.DeleteAsync(StoragePaths.GcTombstone(digest), cancellationToken).ConfigureAwait(false);
        }
        catch (PathNotFoundException)
        {
        }
    }

    /// <summary>Removes every tombstone (those a dead collection left). Returns whether there were any.</summary>
    public static async Task<bool> RemoveAllAsync(IStorageDriver driver, CancellationToken cancellationToken = default)
    {
        try
        {
            await driver.DeleteAsync(StoragePaths.GcTombstonesRoot, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (PathNotFoundException)
        {
            return false;
        }
    }

    /// <summary>The hex part of every tombstoned digest of one algorithm: one list, usually of a missing directory.</summary>
    public static async Task<HashSet<string>> ListAsync(IStorageDriver driver, string algorithm, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<string> children;
        try
        {
            children = await driver.ListAsync(StoragePaths.GcTombstonesDirectory(algorithm), cancellationToken).ConfigureAwait(false);
        }
        catch (PathNotFoundException)
        {
            return [];
        }
        return new HashSet<string>(children.Select(StoragePath.FileName), StringComparer.Ordinal);
    }

    public static async Task<bool> ExistsAsync(IStorageDriver driver, Digest digest, CancellationToken cancellationToken = default)
    {
        try
        {
            await driver.StatAsync(StoragePaths.GcTombstone(digest), cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (PathNotFoundException)
        {
            return false;
        }
    }
}
