namespace Berth.Api.Routing;

public enum OciRouteKind
{
    None,
    Base,
    Catalog,
    Tags,
    Manifest,
    Blob,
    UploadStart,
    Upload,
    Referrers,
}

/// <summary>A parsed /v2/ path. <see cref="Name"/> is the repository (not yet validated) and
/// <see cref="Reference"/> the tag, digest or upload id.</summary>
public readonly record struct OciRoute(OciRouteKind Kind, string Name = "", string Reference = "")
{
    /// <summary>A bounded label for metrics and logs.</summary>
    public string Template => Kind switch
    {
        OciRouteKind.Base => "/v2/",
        OciRouteKind.Catalog => "/v2/_catalog",
        OciRouteKind.Tags => "/v2/{name}/tags/list",
        OciRouteKind.Manifest => "/v2/{name}/manifests/{reference}",
        OciRouteKind.Blob => "/v2/{name}/blobs/{digest}",
        OciRouteKind.UploadStart => "/v2/{name}/blobs/uploads/",
        OciRouteKind.Upload => "/v2/{name}/blobs/uploads/{uuid}",
        OciRouteKind.Referrers => "/v2/{name}/referrers/{digest}",
        _ => "other",
    };
}

/// <summary>
/// Repository names contain '/', so the operation is found from the end of the path: the last
/// segments say what is asked (manifests/&lt;ref&gt;, blobs/&lt;digest&gt;, blobs/uploads/[&lt;id&gt;],
/// tags/list, referrers/&lt;digest&gt;) and everything before them is the name.
/// </summary>
public static class OciPathParser
{
    // Works on spans of the path: only the returned name and reference are allocated.
    public static OciRoute Parse(string path)
    {
        if (!path.StartsWith("/v2", StringComparison.Ordinal))
        {
            return default;
        }
        var rest = path.AsSpan(3);
        if (rest is "" or "/")
        {
            return new OciRoute(OciRouteKind.Base);
        }
        if (rest[0] != '/')
        {
            return default;
        }
        const int bodyStart = 4; // after "/v2/"
        var body = path.AsSpan(bodyStart);
        if (body is "_catalog")
        {
            return new OciRoute(OciRouteKind.Catalog);
        }
        var trailingSlash = body.EndsWith('/');
        var trimmed = body.TrimEnd('/');

        // The last three segments, from the end: ".../<third>/<second>/<last>". Each "before" is everything
        // ahead of that segment, without the slash: the repository name when the segments after it match.
        var slash = trimmed.LastIndexOf('/');
        if (slash < 0)
        {
            return default; // one segment
        }
        var last = trimmed[(slash + 1)..];
        var beforeLast = trimmed[..slash];
        slash = beforeLast.LastIndexOf('/');
        if (slash < 0)
        {
            return default; // two segments
        }
        var second = beforeLast[(slash + 1)..];
        var beforeSecond = beforeLast[..slash];
        slash = beforeSecond.LastIndexOf('/');
        var third = slash < 0 ? beforeSecond : beforeSecond[(slash + 1)..];
        var hasFourth = slash >= 0;
        var beforeThird = hasFourth ? beforeSecond[..slash] : default;

        if (!trailingSlash && second is "tags" && last is "list")
        {
            return new OciRoute(OciRouteKind.Tags, Name(beforeSecond));
        }
        if (second is "blobs" && last is "uploads")
        {
            return new OciRoute(OciRouteKind.UploadStart, Name(beforeSecond));
        }
        if (trailingSlash)
        {
            return default;
        }
        if (hasFourth && third is "blobs" && second is "uploads")
        {
            return new OciRoute(OciRouteKind.Upload, Name(beforeThird), last.ToString());
        }
        var kind = second switch
        {
            "manifests" => OciRouteKind.Manifest,
            "blobs" => OciRouteKind.Blob,
            "referrers" => OciRouteKind.Referrers,
            _ => OciRouteKind.None,
        };
        return kind == OciRouteKind.None ? default : new OciRoute(kind, Name(beforeSecond), last.ToString());

        // Every prefix above starts where the body does.
        string Name(ReadOnlySpan<char> prefix) => path.Substring(bodyStart, prefix.Length);
    }
}
