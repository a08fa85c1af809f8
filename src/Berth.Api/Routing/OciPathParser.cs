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
    public static OciRoute Parse(string path)
    {
        if (!path.StartsWith("/v2", StringComparison.Ordinal))
        {
            return default;
        }
        var rest = path[3..];
        if (rest is "" or "/")
        {
            return new OciRoute(OciRouteKind.Base);
        }
        if (rest[0] != '/')
        {
            return default;
        }
        rest = rest[1..];
        if (rest is "_catalog")
        {
            return new OciRoute(OciRouteKind.Catalog);
        }
        var trailingSlash = rest.EndsWith('/');
        var segments = rest.TrimEnd('/').Split('/');
        var n = segments.Length;
        if (n >= 3 && !trailingSlash && segments[n - 2] == "tags" && segments[n - 1] == "list")
        {
            return new OciRoute(OciRouteKind.Tags, Join(segments, n - 2));
        }
        if (n >= 3 && segments[n - 2] == "blobs" && segments[n - 1] == "uploads")
        {
            return new OciRoute(OciRouteKind.UploadStart, Join(segments, n - 2));
        }
        if (trailingSlash)
        {
            return default;
        }
        if (n >= 4 && segments[n - 3] == "blobs" && segments[n - 2] == "uploads")
        {
            return new OciRoute(OciRouteKind.Upload, Join(segments, n - 3), segments[n - 1]);
        }
        if (n >= 3)
        {
            var kind = segments[n - 2] switch
            {
                "manifests" => OciRouteKind.Manifest,
                "blobs" => OciRouteKind.Blob,
                "referrers" => OciRouteKind.Referrers,
                _ => OciRouteKind.None,
            };
            if (kind != OciRouteKind.None)
            {
                return new OciRoute(kind, Join(segments, n - 2), segments[n - 1]);
            }
        }
        return default;
    }

    private static string Join(string[] segments, int count) => string.Join('/', segments, 0, count);
}
