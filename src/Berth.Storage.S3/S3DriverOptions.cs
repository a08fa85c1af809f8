namespace Berth.Storage.S3;

/// <summary>
/// Settings of <see cref="S3Driver"/>, named after Distribution's <c>storage.s3</c> keys so that a Distribution or
/// GitLab registry configuration maps one to one (see docs/storage-s3.md).
/// </summary>
public sealed record S3DriverOptions
{
    /// <summary>Smallest part S3 accepts in a multipart upload, except for the last part.</summary>
    public const long MinimumPartSize = 5L * 1024 * 1024;

    /// <summary>Largest object a single CopyObject may copy.</summary>
    public const long MaximumCopyObjectSize = 5L * 1024 * 1024 * 1024;

    /// <summary><c>bucket</c>: the bucket holding the registry. It must exist.</summary>
    public required string Bucket { get; init; }

    /// <summary><c>region</c>: the AWS region, also the signing region for other endpoints (default us-east-1).</summary>
    public string Region { get; init; } = "us-east-1";

    /// <summary><c>regionendpoint</c>: the S3 endpoint of a non-AWS store (Ceph RGW, MinIO), "http://host:port" or
    /// "host:port" (scheme from <see cref="Secure"/>). Null for AWS itself.</summary>
    public string? RegionEndpoint { get; init; }

    /// <summary><c>accesskey</c> / <c>secretkey</c> (and <c>sessiontoken</c>). When absent, AWS_ACCESS_KEY_ID /
    /// AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, then the AWS SDK's default chain (profile, instance role).</summary>
    public string? AccessKey { get; init; }

    public string? SecretKey { get; init; }

    public string? SessionToken { get; init; }

    /// <summary><c>rootdirectory</c>: key prefix of every object ("/registry" stores "registry/docker/registry/v2/...").</summary>
    public string RootDirectory { get; init; } = "";

    /// <summary><c>forcepathstyle</c>: "endpoint/bucket/key" addressing instead of "bucket.endpoint/key". Null means
    /// true with a <see cref="RegionEndpoint"/> (as Distribution 2.x does) and false for AWS.</summary>
    public bool? ForcePathStyle { get; init; }

    /// <summary><c>secure</c>: HTTPS (default) or plain HTTP when the endpoint has no scheme.</summary>
    public bool Secure { get; init; } = true;

    /// <summary><c>skipverify</c>: do not verify the endpoint's TLS certificate.</summary>
    public bool SkipVerify { get; init; }

    /// <summary><c>chunksize</c>: part size of the resumable writer (default 10 MiB, at least 5 MiB).</summary>
    public long ChunkSize { get; init; } = 10L * 1024 * 1024;

    /// <summary><c>multipartcopythresholdsize</c>: Move copies objects larger than this with a server-side
    /// multipart copy, smaller ones with one CopyObject (default and maximum 5 GiB, the CopyObject limit).</summary>
    public long MultipartCopyThresholdSize { get; init; } = MaximumCopyObjectSize;

    /// <summary><c>multipartcopychunksize</c>: part size of a multipart copy (default 32 MiB).</summary>
    public long MultipartCopyChunkSize { get; init; } = 32L * 1024 * 1024;

    /// <summary><c>multipartcopymaxconcurrency</c>: parts copied at once (default 100).</summary>
    public int MultipartCopyMaxConcurrency { get; init; } = 100;

    /// <summary><c>encrypt</c>: server-side encryption (AES256, or aws:kms with <see cref="KeyId"/>).</summary>
    public bool Encrypt { get; init; }

    /// <summary><c>keyid</c>: the KMS key for <see cref="Encrypt"/>.</summary>
    public string? KeyId { get; init; }

    /// <summary><c>storageclass</c>: STANDARD (default, not sent), REDUCED_REDUNDANCY, ... or NONE (not sent).</summary>
    public string StorageClass { get; init; } = "STANDARD";

    /// <summary><c>objectacl</c>: canned ACL of stored objects (default private, not sent).</summary>
    public string ObjectAcl { get; init; } = "private";

    /// <summary><c>usedualstack</c>: the AWS dual-stack endpoint.</summary>
    public bool UseDualStack { get; init; }

    /// <summary><c>accelerate</c>: the AWS transfer acceleration endpoint.</summary>
    public bool Accelerate { get; init; }

    /// <summary>Checks the values; throws <see cref="ArgumentException"/> naming the key.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Bucket))
        {
            throw new ArgumentException("storage.s3.bucket is required");
        }
        if (string.IsNullOrWhiteSpace(Region))
        {
            throw new ArgumentException("storage.s3.region is required");
        }
        if (ChunkSize < MinimumPartSize || ChunkSize > int.MaxValue / 2)
        {
            throw new ArgumentException($"storage.s3.chunksize must be between {MinimumPartSize} (5 MiB) and {int.MaxValue / 2}, not {ChunkSize}");
        }
        if (MultipartCopyChunkSize < MinimumPartSize || MultipartCopyChunkSize > MaximumCopyObjectSize)
        {
            throw new ArgumentException($"storage.s3.multipartcopychunksize must be between 5 MiB and 5 GiB, not {MultipartCopyChunkSize}");
        }
        if (MultipartCopyThresholdSize < 0 || MultipartCopyThresholdSize > MaximumCopyObjectSize)
        {
            throw new ArgumentException($"storage.s3.multipartcopythresholdsize must be between 0 and 5 GiB, not {MultipartCopyThresholdSize}");
        }
        if (MultipartCopyMaxConcurrency < 1)
        {
            throw new ArgumentException("storage.s3.multipartcopymaxconcurrency must be at least 1");
        }
        if ((AccessKey is null) != (SecretKey is null))
        {
            throw new ArgumentException("storage.s3: accesskey and secretkey go together");
        }
    }

    /// <summary>"s3://bucket/root (endpoint)" for logs and messages; never shows keys.</summary>
    public string Describe()
    {
        var root = RootDirectory.Trim('/');
        return $"s3://{Bucket}/{root}" + (RegionEndpoint is { Length: > 0 } e ? $" at {e}" : $" in {Region}");
    }
}
