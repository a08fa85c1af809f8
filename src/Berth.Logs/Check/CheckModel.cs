namespace Berth.Logs.Check;

/// <summary>What <c>berth check</c> probes.</summary>
public sealed record CheckOptions
{
    /// <summary>Registry base URLs (<c>http://127.0.0.1:5000</c>, <c>https://registry.example.com</c>).</summary>
    public required IReadOnlyList<Uri> Targets { get; init; }

    /// <summary>An image to pull (manifest) and verify (HEAD of every blob it references); null: only <c>/v2/</c>.</summary>
    public ImageReference? Image { get; init; }

    /// <summary>Per-request timeout.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Accept any TLS certificate (the expiry is still reported).</summary>
    public bool Insecure { get; init; }

    /// <summary>A target whose certificate expires within this many days is unhealthy; null: expiry is only reported.</summary>
    public int? TlsMinDays { get; init; }
}

/// <summary><c>name:tag</c> or <c>name@sha256:...</c>; names nest (<c>group/sub/image</c>).</summary>
public sealed record ImageReference(string Name, string Reference)
{
    public bool IsDigest => Reference.Contains(':', StringComparison.Ordinal);

    public static bool TryParse(string text, out ImageReference reference)
    {
        reference = null!;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        string name, r;
        var at = text.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            name = text[..at];
            r = text[(at + 1)..];
            if (!r.Contains(':', StringComparison.Ordinal))
            {
                return false;
            }
        }
        else
        {
            var colon = text.LastIndexOf(':');
            if (colon > text.LastIndexOf('/'))
            {
                name = text[..colon];
                r = text[(colon + 1)..];
            }
            else
            {
                name = text;
                r = "latest";
            }
        }

        if (name.Length == 0 || r.Length == 0 || name.StartsWith('/') || name.EndsWith('/') || name.Contains("//", StringComparison.Ordinal)
            || name.Any(c => !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '_' or '-' or '/')))
        {
            return false;
        }

        reference = new ImageReference(name, r);
        return true;
    }

    public override string ToString() => IsDigest ? $"{Name}@{Reference}" : $"{Name}:{Reference}";
}

/// <summary>The answer for all targets of one round.</summary>
public sealed record CheckReport(IReadOnlyList<TargetResult> Targets, DateTimeOffset CheckedAt)
{
    public bool Healthy => Targets.All(t => t.Healthy);

    /// <summary>0 every target healthy, 1 something unhealthy (2, could not run, is the command's).</summary>
    public int ExitCode => Healthy ? 0 : 1;
}

/// <summary>One registry instance.</summary>
/// <param name="Up">GET /v2/ answered 200, or 401 with a WWW-Authenticate challenge.</param>
/// <param name="Status">The status of GET /v2/; null when no answer came.</param>
/// <param name="LatencyMs">Time to the response headers of GET /v2/ (connection set-up included).</param>
/// <param name="TlsExpires">The server certificate's NotAfter (https only).</param>
/// <param name="Error">Why there was no answer (connection refused, timeout, TLS).</param>
public sealed record TargetResult(
    string Url,
    bool Up,
    int? Status,
    double? LatencyMs,
    DateTimeOffset? TlsExpires,
    string? Error,
    ImageResult? Image)
{
    /// <summary>Set when <see cref="CheckOptions.TlsMinDays"/> is given and the certificate expires sooner.</summary>
    public bool TlsExpiresSoon { get; init; }

    public bool Healthy => Up && !TlsExpiresSoon && (Image is null || Image.Problems.Count == 0);
}

/// <summary>The image canary on one target.</summary>
/// <param name="Digest">The digest of the manifest as served (computed from its bytes).</param>
/// <param name="Manifests">Manifests fetched: 1, or 1 + children for an index / manifest list.</param>
/// <param name="Blobs">Distinct blobs HEADed (configs and layers).</param>
public sealed record ImageResult(
    string Image,
    string? Digest,
    string? MediaType,
    int Manifests,
    int Blobs,
    double LatencyMs,
    IReadOnlyList<ImageProblem> Problems);

/// <summary>One thing wrong with the image.</summary>
/// <param name="Kind">manifest, child-manifest, config, layer, blob.</param>
/// <param name="Digest">The digest (or tag, for the top manifest) that failed.</param>
/// <param name="Parent">The manifest digest that references it; null for the top manifest.</param>
/// <param name="Status">HTTP status; null when the request got no answer.</param>
public sealed record ImageProblem(string Kind, string Digest, string? Parent, int? Status, string Message);
