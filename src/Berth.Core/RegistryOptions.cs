namespace Berth.Core;

/// <summary>Registry behaviour that does not depend on HTTP.</summary>
public sealed record RegistryOptions
{
    /// <summary>DELETE of manifests and blobs (Distribution's storage.delete.enabled).</summary>
    public bool DeleteEnabled { get; init; } = true;

    /// <summary>Largest manifest accepted, in bytes (413 above).</summary>
    public int MaxManifestBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Answer blob GETs with a 307 to a presigned URL of the storage when the driver gives one
    /// (Distribution's storage.redirect; off unless configured). HEAD is always answered here.</summary>
    public bool RedirectBlobs { get; init; }

    /// <summary>How long a redirect URL stays valid (Distribution uses 20 minutes).</summary>
    public TimeSpan RedirectExpiry { get; init; } = TimeSpan.FromMinutes(20);
}
