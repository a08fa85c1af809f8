using Berth.Core;
using Berth.Core.Blobs;
using Berth.Core.Gc;
using Berth.Core.Manifests;
using Berth.Core.Naming;
using Berth.Core.Uploads;
using Berth.Storage;
using Berth.Storage.Layout;
using Microsoft.Extensions.Logging.Abstractions;

namespace Berth.GarbageCollection.Tests.Support;

/// <summary>One registry instance's Core services over a storage driver, and a client's push and pull on top.</summary>
public sealed class CoreRegistry
{
    public CoreRegistry(IStorageDriver driver, TimeProvider? time = null, GcTimings? timings = null)
    {
        Driver = driver;
        Blobs = new BlobService(driver, new GcFence(driver, time, timings));
        Uploads = new UploadService(driver, Blobs, time);
        Manifests = new ManifestService(driver, Blobs, new RegistryOptions(), NullLogger<ManifestService>.Instance);
    }

    public IStorageDriver Driver { get; }

    public BlobService Blobs { get; }

    public UploadService Uploads { get; }

    public ManifestService Manifests { get; }

    /// <summary>As a client does: HEAD, and upload only when the registry does not have the blob.</summary>
    public async Task EnsureBlobAsync(string repository, Blob blob, string? mountFrom = null)
    {
        try
        {
            await Blobs.StatAsync(repository, blob.Digest);
            return;
        }
        catch (RegistryException e) when (e.Code == RegistryErrorCode.BlobUnknown)
        {
        }
        if (mountFrom is not null && await Blobs.TryMountAsync(repository, mountFrom, blob.Digest) is not null)
        {
            return;
        }
        await Uploads.UploadAsync(repository, blob.Digest, new MemoryStream(blob.Content));
    }

    public async Task<Digest> PutManifestAsync(string repository, string? tag, Blob manifest)
    {
        var reference = tag is null ? new Reference(null, manifest.Digest) : new Reference(tag, null);
        var result = await Manifests.PutAsync(repository, reference, manifest.Content, null);
        return result.Digest;
    }

    /// <summary>Pushes an image (layers, config, manifest) and returns its manifest.</summary>
    public async Task<Blob> PushImageAsync(string repository, string? tag, Blob config, IReadOnlyList<Blob> layers, string? mountFrom = null)
    {
        foreach (var layer in layers)
        {
            await EnsureBlobAsync(repository, layer, mountFrom);
        }
        await EnsureBlobAsync(repository, config, mountFrom);
        var manifest = Support.Manifests.Image(config, layers);
        await PutManifestAsync(repository, tag, manifest);
        return manifest;
    }

    /// <summary>Pulls a tag completely: manifest, children, configs and layers, checking every digest. Null when fine, else what failed.</summary>
    public async Task<string?> PullProblemAsync(string repository, string tag)
    {
        try
        {
            var manifest = await Manifests.GetAsync(repository, new Reference(tag, null));
            return await CheckManifestAsync(repository, manifest.Content);
        }
        catch (RegistryException e)
        {
            return $"{repository}:{tag}: {e.Code} {e.Message}";
        }
    }

    private async Task<string?> CheckManifestAsync(string repository, byte[] content)
    {
        var parsed = ManifestParser.Parse(content);
        foreach (var child in parsed.Manifests)
        {
            try
            {
                var c = await Manifests.GetAsync(repository, new Reference(null, child.Digest));
                if (await CheckManifestAsync(repository, c.Content) is { } problem)
                {
                    return problem;
                }
            }
            catch (RegistryException e)
            {
                return $"{repository}@{child.Digest}: {e.Code} {e.Message}";
            }
        }
        foreach (var blob in parsed.RequiredBlobs)
        {
            try
            {
                await Blobs.StatAsync(repository, blob.Digest);
                await using var stream = await Blobs.OpenAsync(blob.Digest, 0);
                using var copy = new MemoryStream();
                await stream.CopyToAsync(copy);
                if (Digest.Compute(copy.ToArray()) != blob.Digest)
                {
                    return $"{repository}: {blob.Digest} has other content";
                }
            }
            catch (Exception e) when (e is RegistryException or StorageException)
            {
                return $"{repository}: blob {blob.Digest}: {e.Message}";
            }
        }
        return null;
    }
}
