namespace Berth.Core;

/// <summary>Registry behaviour that does not depend on HTTP.</summary>
public sealed record RegistryOptions
{
    /// <summary>DELETE of manifests and blobs (Distribution's storage.delete.enabled).</summary>
    public bool DeleteEnabled { get; init; } = true;

    /// <summary>Largest manifest accepted, in bytes (413 above).</summary>
    public int MaxManifestBytes { get; init; } = 4 * 1024 * 1024;
}
