using Berth.Storage;
using Berth.Storage.Layout;

namespace Berth.Core.Catalog;

/// <summary>
/// Keeps the catalog index complete for everything this process writes: before any put, writer or move whose
/// path lies inside a repository's own folders (<c>repositories/&lt;name&gt;/_layers|_manifests|_uploads|_referrers/...</c>),
/// it makes sure the repository has its marker (<see cref="RepositoryIndex.EnsureIndexedAsync"/>: a dictionary
/// lookup once the process knows the repository). A decorator rather than calls in the upload, blob and manifest
/// services, so that no write path, present or future, can create a repository without its marker, and the
/// services stay as they are. Reads, stats, lists and deletes pass straight through.
/// </summary>
public sealed class IndexingStorageDriver(IStorageDriver inner, RepositoryIndex index)
    : IStorageDriver, ILocalFileAccess, IRedirectUrlProvider, IDirectoryVersionSource, IAtomicDirectoryCreator, IObjectAppender
{
    public IStorageDriver Inner => inner;

    public RepositoryIndex Index => index;

    public string Name => inner.Name;

    /// <summary>The repository a path inside a repository's own folders belongs to: the segments after
    /// repositories/ up to the first one that starts with '_'.</summary>
    public static bool TryGetRepository(string path, out string repository)
    {
        repository = "";
        const string Prefix = StoragePaths.RepositoriesRoot + "/";
        if (!path.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }
        var at = Prefix.Length;
        while (at < path.Length)
        {
            if (path[at] == '_')
            {
                if (at == Prefix.Length)
                {
                    return false;
                }
                repository = path[Prefix.Length..(at - 1)];
                return true;
            }
            var slash = path.IndexOf('/', at);
            if (slash < 0)
            {
                return false;
            }
            at = slash + 1;
        }
        return false;
    }

    private ValueTask BeforeWriteAsync(string path, CancellationToken cancellationToken) =>
        TryGetRepository(path, out var repository) ? index.EnsureIndexedAsync(repository, cancellationToken) : ValueTask.CompletedTask;

    public Task PutContentAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) =>
        PutContentAsync(path, content, Durability.Durable, cancellationToken);

    public async Task PutContentAsync(string path, ReadOnlyMemory<byte> content, Durability durability, CancellationToken cancellationToken = default)
    {
        await BeforeWriteAsync(path, cancellationToken).ConfigureAwait(false);
        await inner.PutContentAsync(path, content, durability, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Forwards to the wrapped driver, with the same bookkeeping as a put; false when it cannot.</summary>
    public async Task<bool> TryCreateDirectoryAsync(string path, IReadOnlyList<KeyValuePair<string, byte[]>> files, Func<Task>? beforePublish = null, CancellationToken cancellationToken = default)
    {
        if (inner is not IAtomicDirectoryCreator creator)
        {
            return false;
        }
        await BeforeWriteAsync(path, cancellationToken).ConfigureAwait(false);
        return await creator.TryCreateDirectoryAsync(path, files, beforePublish, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Forwards to the wrapped driver, with the same bookkeeping as a put; false when it cannot.</summary>
    public async Task<bool> TryAppendAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        if (inner is not IObjectAppender appender)
        {
            return false;
        }
        await BeforeWriteAsync(path, cancellationToken).ConfigureAwait(false);
        return await appender.TryAppendAsync(path, content, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IStorageWriter> CreateWriterAsync(string path, bool append, CancellationToken cancellationToken = default)
    {
        await BeforeWriteAsync(path, cancellationToken).ConfigureAwait(false);
        return await inner.CreateWriterAsync(path, append, cancellationToken).ConfigureAwait(false);
    }

    public async Task MoveAsync(string sourcePath, string destinationPath, CancellationToken cancellationToken = default)
    {
        await BeforeWriteAsync(destinationPath, cancellationToken).ConfigureAwait(false);
        await inner.MoveAsync(sourcePath, destinationPath, cancellationToken).ConfigureAwait(false);
    }

    public Task<byte[]> GetContentAsync(string path, CancellationToken cancellationToken = default) => inner.GetContentAsync(path, cancellationToken);

    public Task<Stream> OpenReadAsync(string path, long offset = 0, CancellationToken cancellationToken = default) => inner.OpenReadAsync(path, offset, cancellationToken);

    public Task<StorageEntry> StatAsync(string path, CancellationToken cancellationToken = default) => inner.StatAsync(path, cancellationToken);

    public Task<IReadOnlyList<string>> ListAsync(string path, CancellationToken cancellationToken = default) => inner.ListAsync(path, cancellationToken);

    public IAsyncEnumerable<StorageEntry> WalkAsync(string path, CancellationToken cancellationToken = default) => inner.WalkAsync(path, cancellationToken);

    public Task DeleteAsync(string path, CancellationToken cancellationToken = default) => inner.DeleteAsync(path, cancellationToken);

    public Task DeleteAsync(string path, Durability durability, CancellationToken cancellationToken = default) => inner.DeleteAsync(path, durability, cancellationToken);

    public string? GetLocalPath(string path) => (inner as ILocalFileAccess)?.GetLocalPath(path);

    public Task<Uri?> GetRedirectUrlAsync(string path, string method, TimeSpan expiry, CancellationToken cancellationToken = default) =>
        inner is IRedirectUrlProvider provider ? provider.GetRedirectUrlAsync(path, method, expiry, cancellationToken) : Task.FromResult<Uri?>(null);

    public DirectoryVersion? GetDirectoryVersion(string path) => (inner as IDirectoryVersionSource)?.GetDirectoryVersion(path);
}
