using System.Text.Json;
using Berth.Storage;
using Berth.Storage.Layout;

namespace Berth.Core.Manifests;

public sealed record ReferrersResult(byte[] Index, bool Filtered);

/// <summary>The OCI referrers API, answered from the _referrers links a manifest PUT writes.</summary>
public sealed class ReferrersService(IStorageDriver driver)
{
    public async Task<ReferrersResult> ListAsync(string repository, Digest subject, string? artifactType, CancellationToken cancellationToken = default)
    {
        var descriptors = new List<Descriptor>();
        IReadOnlyList<string> algorithms;
        try
        {
            algorithms = await driver.ListAsync(StoragePaths.ReferrersDirectory(repository, subject), cancellationToken).ConfigureAwait(false);
        }
        catch (PathNotFoundException)
        {
            algorithms = [];
        }
        foreach (var algorithmPath in algorithms)
        {
            IReadOnlyList<string> entries;
            try
            {
                entries = await driver.ListAsync(algorithmPath, cancellationToken).ConfigureAwait(false);
            }
            catch (PathNotFoundException)
            {
                continue;
            }
            foreach (var entry in entries)
            {
                if (await ReadReferrerAsync(repository, entry + "/link", cancellationToken).ConfigureAwait(false) is { } d
                    && (artifactType is null || d.ArtifactType == artifactType))
                {
                    descriptors.Add(d);
                }
            }
        }
        descriptors.Sort((a, b) => string.CompareOrdinal(a.Digest.ToString(), b.Digest.ToString()));
        return new ReferrersResult(Serialize(descriptors), artifactType is not null);
    }

    private async Task<Descriptor?> ReadReferrerAsync(string repository, string linkPath, CancellationToken cancellationToken)
    {
        var link = await LinkFile.ReadAsync(driver, linkPath, cancellationToken).ConfigureAwait(false);
        if (!link.IsOk)
        {
            return null;
        }
        var revision = await LinkFile.ReadAsync(driver, StoragePaths.RevisionLink(repository, link.Digest), cancellationToken).ConfigureAwait(false);
        if (!revision.IsOk)
        {
            return null;
        }
        try
        {
            var content = await driver.GetContentAsync(StoragePaths.BlobData(link.Digest), cancellationToken).ConfigureAwait(false);
            var manifest = ManifestParser.Parse(content);
            return new Descriptor(manifest.MediaType, link.Digest, content.LongLength, manifest.EffectiveArtifactType, manifest.Annotations);
        }
        catch (Exception e) when (e is PathNotFoundException or ManifestFormatException)
        {
            return null;
        }
    }

    private static byte[] Serialize(List<Descriptor> descriptors)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("schemaVersion", 2);
            w.WriteString("mediaType", MediaTypes.OciIndex);
            w.WriteStartArray("manifests");
            foreach (var d in descriptors)
            {
                w.WriteStartObject();
                w.WriteString("mediaType", d.MediaType);
                w.WriteString("digest", d.Digest.ToString());
                w.WriteNumber("size", d.Size);
                if (d.ArtifactType is not null)
                {
                    w.WriteString("artifactType", d.ArtifactType);
                }
                if (d.Annotations is { Count: > 0 })
                {
                    w.WriteStartObject("annotations");
                    foreach (var (k, v) in d.Annotations)
                    {
                        w.WriteString(k, v);
                    }
                    w.WriteEndObject();
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }
}
