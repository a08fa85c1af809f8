namespace Berth.Logs.Parsing;

/// <summary>What a registry API path addresses. Written in lower case in reports (<c>manifest</c>, <c>blob</c>, ...).</summary>
public enum RegistryPathKind
{
    /// <summary>Anything that is not an OCI distribution API path.</summary>
    Other,

    /// <summary><c>/v2/</c>: the API version check.</summary>
    Base,

    /// <summary><c>/v2/_catalog</c>.</summary>
    Catalog,

    /// <summary><c>/v2/&lt;name&gt;/manifests/&lt;reference&gt;</c>.</summary>
    Manifest,

    /// <summary><c>/v2/&lt;name&gt;/blobs/&lt;digest&gt;</c>.</summary>
    Blob,

    /// <summary><c>/v2/&lt;name&gt;/blobs/uploads/</c> and <c>/v2/&lt;name&gt;/blobs/uploads/&lt;id&gt;</c>.</summary>
    Upload,

    /// <summary><c>/v2/&lt;name&gt;/tags/list</c> (and GitLab's <c>/v2/&lt;name&gt;/tags/reference/&lt;tag&gt;</c>).</summary>
    Tags,

    /// <summary><c>/v2/&lt;name&gt;/referrers/&lt;digest&gt;</c>.</summary>
    Referrers,
}

/// <summary>
/// A request path split into repository and reference. Repository names nest to any depth
/// (<c>group/sub/project/image</c>) and references never contain '/', so the route is read from the
/// end of the path, as Distribution's router does.
/// </summary>
public readonly record struct RegistryPath(RegistryPathKind Kind, string? Repository, string? Reference)
{
    public static RegistryPath Parse(string path)
    {
        if (path is "/v2" or "/v2/")
        {
            return new RegistryPath(RegistryPathKind.Base, null, null);
        }

        if (!path.StartsWith("/v2/", StringComparison.Ordinal))
        {
            return default;
        }

        var rest = path.AsSpan(4);
        if (rest is "_catalog")
        {
            return new RegistryPath(RegistryPathKind.Catalog, null, null);
        }

        // Last three segments: a/b/c with c possibly empty ("blobs/uploads/").
        var lastSlash = rest.LastIndexOf('/');
        if (lastSlash <= 0)
        {
            return default;
        }

        var last = rest[(lastSlash + 1)..];
        var head = rest[..lastSlash];
        var secondSlash = head.LastIndexOf('/');
        if (secondSlash <= 0)
        {
            return default;
        }

        var second = head[(secondSlash + 1)..];
        var name = head[..secondSlash];

        switch (second)
        {
            case "manifests" when !last.IsEmpty:
                return Make(RegistryPathKind.Manifest, name, last);
            case "blobs" when last is "uploads":
                return Make(RegistryPathKind.Upload, name, default);
            case "blobs" when !last.IsEmpty:
                return Make(RegistryPathKind.Blob, name, last);
            case "tags" when last is "list":
                return Make(RegistryPathKind.Tags, name, default);
            case "referrers" when !last.IsEmpty:
                return Make(RegistryPathKind.Referrers, name, last);
        }

        // Three from the end: <name>/blobs/uploads/<id>, <name>/tags/reference/<tag>.
        var thirdSlash = name.LastIndexOf('/');
        if (thirdSlash <= 0)
        {
            return default;
        }

        var third = name[(thirdSlash + 1)..];
        var shortName = name[..thirdSlash];
        if (third is "blobs" && second is "uploads")
        {
            return Make(RegistryPathKind.Upload, shortName, last);
        }

        if (third is "tags" && second is "reference" && !last.IsEmpty)
        {
            return Make(RegistryPathKind.Tags, shortName, last);
        }

        return default;
    }

    private static RegistryPath Make(RegistryPathKind kind, ReadOnlySpan<char> name, ReadOnlySpan<char> reference) =>
        name.IsEmpty ? default : new RegistryPath(kind, name.ToString(), reference.IsEmpty ? null : reference.ToString());

    /// <summary>The kind as reports write it.</summary>
    public static string KindName(RegistryPathKind kind) => kind switch
    {
        RegistryPathKind.Base => "base",
        RegistryPathKind.Catalog => "catalog",
        RegistryPathKind.Manifest => "manifest",
        RegistryPathKind.Blob => "blob",
        RegistryPathKind.Upload => "upload",
        RegistryPathKind.Tags => "tags",
        RegistryPathKind.Referrers => "referrers",
        _ => "other",
    };
}
