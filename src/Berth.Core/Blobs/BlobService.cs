using Berth.Core.Gc;
using Berth.Storage;
using Berth.Storage.Layout;

namespace Berth.Core.Blobs;

public sealed record BlobInfo(Digest Digest, long Size);

/// <summary>Content-addressed blobs and the links that give a repository access to them.</summary>
public sealed class BlobService(IStorageDriver driver, GcFence? fence = null)
{
    /// <summary>The registry's side of the online garbage-collection protocol (see <see cref="GcProtocol"/>).</summary>
    public GcFence Fence { get; } = fence ?? new GcFence(driver);

    /// <summary>Size of the blob's data, or null when the data does not exist.</summary>
    public async Task<long?> StatDataAsync(Digest digest, CancellationToken cancellationToken = default)
    {
        try
        {
            var entry = await driver.StatAsync(StoragePaths.BlobData(digest), cancellationToken).ConfigureAwait(false);
            return entry.IsDirectory ? null : entry.Size;
        }
        catch (PathNotFoundException)
        {
            return null;
        }
    }

    /// <summary>True when the repository links the digest as a layer (or as a manifest revision).</summary>
    public async Task<bool> IsLinkedAsync(string repository, Digest digest, CancellationToken cancellationToken = default)
    {
        var layer = await LinkFile.ReadAsync(driver, StoragePaths.LayerLink(repository, digest), cancellationToken).ConfigureAwait(false);
        if (layer.IsOk && layer.Digest == digest)
        {
            return true;
        }
        var revision = await LinkFile.ReadAsync(driver, StoragePaths.RevisionLink(repository, digest), cancellationToken).ConfigureAwait(false);
        return revision.IsOk && revision.Digest == digest;
    }

    /// <summary>The blob as the repository serves it; <see cref="RegistryErrorCode.BlobUnknown"/> when it is not linked there or its data is gone.</summary>
    public async Task<BlobInfo> StatAsync(string repository, Digest digest, CancellationToken cancellationToken = default)
    {
        if (await IsLinkedAsync(repository, digest, cancellationToken).ConfigureAwait(false)
            && await StatDataAsync(digest, cancellationToken).ConfigureAwait(false) is { } size
            && !await Fence.IsTombstonedAsync(digest, cancellationToken).ConfigureAwait(false))
        {
            return new BlobInfo(digest, size);
        }
        throw Unknown(repository, digest);
    }

    public Task<Stream> OpenAsync(Digest digest, long offset, CancellationToken cancellationToken = default) =>
        driver.OpenReadAsync(StoragePaths.BlobData(digest), offset, cancellationToken);

    /// <summary>A local file for sendfile, when the driver keeps blobs as files.</summary>
    public string? LocalPath(Digest digest) => (driver as ILocalFileAccess)?.GetLocalPath(StoragePaths.BlobData(digest));

    /// <summary>A URL the client can fetch the blob's data from directly (an object store's presigned URL), when
    /// the driver gives one. The blob's existence is not checked.</summary>
    public Task<Uri?> RedirectUrlAsync(Digest digest, string method, TimeSpan expiry, CancellationToken cancellationToken = default) =>
        driver is IRedirectUrlProvider provider
            ? provider.GetRedirectUrlAsync(StoragePaths.BlobData(digest), method, expiry, cancellationToken)
            : Task.FromResult<Uri?>(null);

    public Task LinkAsync(string repository, Digest digest, CancellationToken cancellationToken = default) =>
        LinkFile.WriteAsync(driver, StoragePaths.LayerLink(repository, digest), digest, cancellationToken);

    /// <summary>Links a blob of another repository into this one, when that repository has it.</summary>
    public async Task<BlobInfo?> TryMountAsync(string repository, string from, Digest digest, CancellationToken cancellationToken = default)
    {
        if (!await IsLinkedAsync(from, digest, cancellationToken).ConfigureAwait(false)
            || !await Fence.TryAdmitMountAsync(repository, digest, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }
        if (await StatDataAsync(digest, cancellationToken).ConfigureAwait(false) is not { } size)
        {
            return null;
        }
        await LinkAsync(repository, digest, cancellationToken).ConfigureAwait(false);
        return new BlobInfo(digest, size);
    }

    /// <summary>Removes the repository's link to the blob (the data itself is GC's to remove).</summary>
    public async Task DeleteAsync(string repository, Digest digest, CancellationToken cancellationToken = default)
    {
        try
        {
            await driver.DeleteAsync(StoragePaths.LayerLinkDirectory(repository, digest), cancellationToken).ConfigureAwait(false);
        }
        catch (PathNotFoundException)
        {
            throw Unknown(repository, digest);
        }
    }

    private static RegistryException Unknown(string repository, Digest digest) =>
        new(RegistryErrorCode.BlobUnknown, "blob unknown to registry", new { repository, digest = digest.ToString() });
}
