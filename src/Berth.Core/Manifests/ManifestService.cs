using Berth.Core.Blobs;
using Berth.Core.Naming;
using Berth.Storage;
using Berth.Storage.Layout;
using Microsoft.Extensions.Logging;

namespace Berth.Core.Manifests;

public sealed record ManifestContent(byte[] Content, string MediaType, Digest Digest);

public sealed record ManifestPutResult(Digest Digest, Digest? Subject);

/// <summary>
/// Manifests, tags and referrers of a repository.
/// A PUT writes the manifest's blob data, its revision link and its referrer link (when it has a subject), and
/// once those are durable, the tag's current/link and its index link (the tag's history). Every blob
/// and child manifest it names must already be present. A crash at any step therefore leaves at worst an
/// unreferenced blob, an untagged revision or a tag without its history entry, never a tag that points at
/// missing content, and never a listed tag without current/link. The history link is durable too although
/// no pull reads it: Distribution's `garbage-collect --delete-untagged` decides "tagged" from it, so a lost
/// history link would let that tool delete a tagged manifest.
/// </summary>
public sealed partial class ManifestService(IStorageDriver driver, BlobService blobs, RegistryOptions options, ILogger<ManifestService> logger)
{
    public async Task<ManifestContent> GetAsync(string repository, Reference reference, CancellationToken cancellationToken = default)
    {
        Digest digest;
        if (reference.Tag is { } tag)
        {
            digest = await ResolveTagAsync(repository, tag, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            digest = reference.Digest!.Value;
            var revision = await LinkFile.ReadAsync(driver, StoragePaths.RevisionLink(repository, digest), cancellationToken).ConfigureAwait(false);
            if (!revision.IsOk || revision.Digest != digest)
            {
                await ThrowUnknownAsync(repository, reference.ToString(), cancellationToken).ConfigureAwait(false);
            }
        }
        byte[] content;
        try
        {
            content = await driver.GetContentAsync(StoragePaths.BlobData(digest), cancellationToken).ConfigureAwait(false);
        }
        catch (PathNotFoundException)
        {
            throw Broken(repository, reference.ToString(), "manifest-blob-missing", $"the manifest blob {digest} has no data", StoragePaths.BlobData(digest));
        }
        return new ManifestContent(content, ManifestParser.DetectMediaType(content), digest);
    }

    /// <summary>The digest a tag points at, or a clear MANIFEST_UNKNOWN naming what is broken.</summary>
    public async Task<Digest> ResolveTagAsync(string repository, string tag, CancellationToken cancellationToken = default)
    {
        var currentPath = StoragePaths.TagCurrentLink(repository, tag);
        var current = await LinkFile.ReadAsync(driver, currentPath, cancellationToken).ConfigureAwait(false);
        switch (current.Status)
        {
            case LinkFile.Status.Missing:
                await ThrowUnknownAsync(repository, tag, cancellationToken).ConfigureAwait(false);
                break;
            case LinkFile.Status.Empty:
                throw Broken(repository, tag, "tag-link-empty", "the tag's current/link is empty (an upload failed half-way); push the tag again or delete it", currentPath);
            case LinkFile.Status.Invalid:
                throw Broken(repository, tag, "tag-link-invalid", "the tag's current/link does not hold a valid digest; push the tag again or delete it", currentPath);
        }
        var revisionPath = StoragePaths.RevisionLink(repository, current.Digest);
        var revision = await LinkFile.ReadAsync(driver, revisionPath, cancellationToken).ConfigureAwait(false);
        if (!revision.IsOk || revision.Digest != current.Digest)
        {
            throw Broken(repository, tag, "tag-revision-missing", $"the tag points at {current.Digest}, which is not a manifest of this repository; push the tag again or delete it", revisionPath);
        }
        return current.Digest;
    }

    public async Task<ManifestPutResult> PutAsync(string repository, Reference reference, byte[] content, string? contentType, CancellationToken cancellationToken = default)
    {
        if (content.Length > options.MaxManifestBytes)
        {
            throw new RegistryException(RegistryErrorCode.ManifestTooLarge, "manifest too large", new { size = content.Length, limit = options.MaxManifestBytes });
        }
        var algorithm = reference.Digest?.Algorithm ?? Digest.Sha256;
        var digest = Digest.Compute(content, algorithm);
        if (reference.Digest is { } expected && expected != digest)
        {
            throw new RegistryException(RegistryErrorCode.DigestInvalid, "provided digest did not match uploaded content",
                new { expected = expected.ToString(), actual = digest.ToString() });
        }
        ParsedManifest manifest;
        try
        {
            manifest = ManifestParser.Parse(content, contentType);
        }
        catch (ManifestFormatException e)
        {
            throw new RegistryException(RegistryErrorCode.ManifestInvalid, "manifest invalid", new { reason = e.Message });
        }
        // Online GC (see GcProtocol): announce what this PUT relies on before checking any of it.
        var admission = await blobs.Fence.AdmitManifestAsync(repository,
            [digest, .. manifest.RequiredBlobs.Select(b => b.Digest), .. manifest.Manifests.Select(m => m.Digest)], cancellationToken).ConfigureAwait(false);
        await VerifyReferencesAsync(repository, manifest, cancellationToken).ConfigureAwait(false);

        // The manifest's data, its revision link and its referrer link are written at once, each on its own thread
        // (a filesystem write blocks its thread in fsync): none of them makes anything reachable by tag. A crash in
        // between can leave a revision link without data, which reads as "manifest unknown" (404) and which doctor
        // reports; it can never leave a tag pointing at missing content.
        admission.ThrowIfExpired();
        var writes = new List<Task>(3)
        {
            Task.Run(() => PutManifestDataAsync(digest, content, cancellationToken), CancellationToken.None),
            Task.Run(() => LinkFile.WriteAsync(driver, StoragePaths.RevisionLink(repository, digest), digest, cancellationToken), CancellationToken.None),
        };
        if (manifest.Subject is { } subject)
        {
            writes.Add(Task.Run(() => LinkFile.WriteAsync(driver, StoragePaths.ReferrerLink(repository, subject.Digest, digest), digest, cancellationToken), CancellationToken.None));
        }
        var contentWritten = Task.WhenAll(writes);
        if (reference.Tag is { } tag)
        {
            // Meanwhile a new tag's folder is built and flushed; it is put in place once the content is durable.
            if (driver is IAtomicDirectoryCreator creator)
            {
                bool created;
                try
                {
                    created = await CreateTagAsync(creator, repository, tag, digest, async () =>
                    {
                        await contentWritten.ConfigureAwait(false);
                        admission.ThrowIfExpired();
                    }, cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    // The tag's folder failed, or the content did (through beforePublish): nothing is tagged. Let the
                    // content writes finish before answering; the exception thrown here is the one reported.
                    await contentWritten.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    throw;
                }
                if (created)
                {
                    return new ManifestPutResult(digest, manifest.Subject?.Digest);
                }
            }
            await contentWritten.ConfigureAwait(false);
            admission.ThrowIfExpired();
            var currentLink = StoragePaths.TagCurrentLink(repository, tag);
            var indexLink = StoragePaths.TagIndexLink(repository, tag, digest);
            if (await driver.ExistsAsync(currentLink, cancellationToken).ConfigureAwait(false))
            {
                // A tag moved: its current link and its new history link at once. Either can be durable without the
                // other after a crash, and both point at durable content: neither state is a broken tag (doctor asks
                // for no history link of the current manifest).
                await Task.WhenAll(
                    Task.Run(() => LinkFile.WriteAsync(driver, currentLink, digest, cancellationToken), CancellationToken.None),
                    LinkFile.WriteAsync(driver, indexLink, digest, cancellationToken)).ConfigureAwait(false);
            }
            else
            {
                // A new tag written link by link: current first, so that the tag never shows in a listing without it.
                await LinkFile.WriteAsync(driver, currentLink, digest, cancellationToken).ConfigureAwait(false);
                await LinkFile.WriteAsync(driver, indexLink, digest, cancellationToken).ConfigureAwait(false);
            }
            return new ManifestPutResult(digest, manifest.Subject?.Digest);
        }
        await contentWritten.ConfigureAwait(false);
        return new ManifestPutResult(digest, manifest.Subject?.Digest);
    }

    /// <summary>A new tag appears with its current link and its history link at once (one flush round and one
    /// rename on the filesystem driver, instead of the two links one after the other); false when the tag exists
    /// already, or the driver cannot do it, and the links are then written by the caller.</summary>
    private static Task<bool> CreateTagAsync(IAtomicDirectoryCreator creator, string repository, string tag, Digest digest, Func<Task> beforePublish, CancellationToken cancellationToken)
    {
        var tagDirectory = StoragePaths.TagDirectory(repository, tag);
        var link = LinkFile.Encode(digest);
        return creator.TryCreateDirectoryAsync(tagDirectory,
        [
            new("current/link", link),
            new(StoragePaths.TagIndexLink(repository, tag, digest)[(tagDirectory.Length + 1)..], link),
        ], beforePublish, cancellationToken);
    }

    private async Task PutManifestDataAsync(Digest digest, byte[] content, CancellationToken cancellationToken)
    {
        if (await blobs.StatDataAsync(digest, cancellationToken).ConfigureAwait(false) != content.Length)
        {
            await driver.PutContentAsync(StoragePaths.BlobData(digest), content, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task VerifyReferencesAsync(string repository, ParsedManifest manifest, CancellationToken cancellationToken)
    {
        var checks = new List<Task<(Descriptor Descriptor, bool Present)>>();
        foreach (var blob in manifest.RequiredBlobs)
        {
            checks.Add(CheckBlobAsync(repository, blob, cancellationToken));
        }
        foreach (var child in manifest.Manifests)
        {
            checks.Add(CheckManifestAsync(repository, child, cancellationToken));
        }
        var missing = (await Task.WhenAll(checks).ConfigureAwait(false)).Where(r => !r.Present).Select(r => r.Descriptor.Digest.ToString()).Distinct().ToList();
        if (missing.Count > 0)
        {
            throw new RegistryException(RegistryErrorCode.ManifestBlobUnknown, "blob unknown to registry", new { repository, digests = missing });
        }
    }

    private async Task<(Descriptor, bool)> CheckBlobAsync(string repository, Descriptor blob, CancellationToken cancellationToken)
    {
        var present = await blobs.IsLinkedAsync(repository, blob.Digest, cancellationToken).ConfigureAwait(false)
            && await blobs.StatDataAsync(blob.Digest, cancellationToken).ConfigureAwait(false) is not null;
        return (blob, present);
    }

    private async Task<(Descriptor, bool)> CheckManifestAsync(string repository, Descriptor child, CancellationToken cancellationToken)
    {
        var link = await LinkFile.ReadAsync(driver, StoragePaths.RevisionLink(repository, child.Digest), cancellationToken).ConfigureAwait(false);
        var present = link.IsOk && link.Digest == child.Digest
            && await blobs.StatDataAsync(child.Digest, cancellationToken).ConfigureAwait(false) is not null;
        return (child, present);
    }

    /// <summary>
    /// DELETE by tag removes that tag only, whatever state it is in. DELETE by digest removes the revision
    /// and every tag that currently points at it (as Distribution does), and its referrer link.
    /// </summary>
    public async Task DeleteAsync(string repository, Reference reference, CancellationToken cancellationToken = default)
    {
        if (!options.DeleteEnabled)
        {
            throw new RegistryException(RegistryErrorCode.Unsupported, "the operation is unsupported", new { reason = "deletes are disabled (storage.delete.enabled: false)" });
        }
        if (reference.Tag is { } tag)
        {
            try
            {
                await driver.DeleteAsync(StoragePaths.TagDirectory(repository, tag), cancellationToken).ConfigureAwait(false);
            }
            catch (PathNotFoundException)
            {
                await ThrowUnknownAsync(repository, tag, cancellationToken).ConfigureAwait(false);
            }
            return;
        }
        var digest = reference.Digest!.Value;
        var revision = await LinkFile.ReadAsync(driver, StoragePaths.RevisionLink(repository, digest), cancellationToken).ConfigureAwait(false);
        if (revision.Status == LinkFile.Status.Missing)
        {
            await ThrowUnknownAsync(repository, digest.ToString(), cancellationToken).ConfigureAwait(false);
        }
        foreach (var t in await ListTagDirectoriesAsync(repository, cancellationToken).ConfigureAwait(false))
        {
            var current = await LinkFile.ReadAsync(driver, StoragePaths.TagCurrentLink(repository, t), cancellationToken).ConfigureAwait(false);
            if (current.IsOk && current.Digest == digest)
            {
                await TryDeleteAsync(StoragePaths.TagDirectory(repository, t), cancellationToken).ConfigureAwait(false);
            }
        }
        try
        {
            var content = await driver.GetContentAsync(StoragePaths.BlobData(digest), cancellationToken).ConfigureAwait(false);
            if (ManifestParser.Parse(content).Subject is { } subject)
            {
                await TryDeleteAsync(StoragePaths.ReferrerDirectory(repository, subject.Digest, digest), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is PathNotFoundException or ManifestFormatException)
        {
            // Nothing to unlink: the manifest data is gone or unreadable.
        }
        await TryDeleteAsync(StoragePaths.RevisionDirectory(repository, digest), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every tag folder's name, healthy or not, unsorted.</summary>
    public async Task<IReadOnlyList<string>> ListTagDirectoriesAsync(string repository, CancellationToken cancellationToken = default)
    {
        try
        {
            var children = await driver.ListAsync(StoragePaths.TagsDirectory(repository), cancellationToken).ConfigureAwait(false);
            return [.. children.Select(StoragePath.FileName)];
        }
        catch (PathNotFoundException)
        {
            return [];
        }
    }

    public async Task<bool> RepositoryExistsAsync(string repository, CancellationToken cancellationToken = default)
    {
        try
        {
            var entry = await driver.StatAsync(StoragePaths.Repository(repository), cancellationToken).ConfigureAwait(false);
            return entry.IsDirectory;
        }
        catch (PathNotFoundException)
        {
            return false;
        }
    }

    private async Task ThrowUnknownAsync(string repository, string reference, CancellationToken cancellationToken)
    {
        if (!await RepositoryExistsAsync(repository, cancellationToken).ConfigureAwait(false))
        {
            throw new RegistryException(RegistryErrorCode.NameUnknown, "repository name not known to registry", new { repository });
        }
        throw new RegistryException(RegistryErrorCode.ManifestUnknown, "manifest unknown", new { repository, reference });
    }

    private RegistryException Broken(string repository, string reference, string failureClass, string explanation, string path)
    {
        LogBrokenManifest(logger, repository, reference, failureClass, path);
        return new RegistryException(RegistryErrorCode.ManifestUnknown, "manifest unknown: the stored image is broken",
            new { repository, reference, @class = failureClass, explanation, path });
    }

    private async Task TryDeleteAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            await driver.DeleteAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (PathNotFoundException)
        {
        }
    }

    [LoggerMessage(EventId = 2001, EventName = "BrokenManifest", Level = LogLevel.Warning,
        Message = "broken manifest reference {Repository}:{Reference} ({FailureClass}) at {StoragePath}")]
    private static partial void LogBrokenManifest(ILogger logger, string repository, string reference, string failureClass, string storagePath);
}
