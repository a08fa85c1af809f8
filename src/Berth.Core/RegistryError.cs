namespace Berth.Core;

/// <summary>The registry's failure kinds. The HTTP edge maps each to an OCI error code and status.</summary>
public enum RegistryErrorCode
{
    BlobUnknown,
    BlobUploadInvalid,
    BlobUploadUnknown,
    DigestInvalid,
    ManifestBlobUnknown,
    ManifestInvalid,
    ManifestUnknown,
    NameInvalid,
    NameUnknown,
    SizeInvalid,
    TagInvalid,
    Unauthorized,
    Denied,
    Unsupported,
    TooManyRequests,

    /// <summary>A chunk that does not start where the upload ends (416).</summary>
    RangeInvalid,

    /// <summary>A manifest above the configured size limit (413).</summary>
    ManifestTooLarge,

    /// <summary>A requested blob range outside the blob (416).</summary>
    RangeNotSatisfiable,

    /// <summary>A bad n= on a paginated list.</summary>
    PaginationNumberInvalid,
}

/// <summary>A failure the client caused or must know about. <see cref="Detail"/> is serialised as the
/// OCI error's "detail".</summary>
public sealed class RegistryException(RegistryErrorCode code, string message, object? detail = null)
    : Exception(message)
{
    public RegistryErrorCode Code { get; } = code;

    public object? Detail { get; } = detail;

    /// <summary>For <see cref="RegistryErrorCode.RangeInvalid"/>: the bytes the upload holds.</summary>
    public long? CurrentSize { get; init; }
}
