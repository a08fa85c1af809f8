using Berth.Api.Routing;

namespace Berth.Api.Tests.Routing;

/// <summary>The route parser reads the operation from the end of the path (names contain '/'). These cases
/// pin its answers, edge cases included, so that a faster parser keeps them.</summary>
public sealed class OciPathParserTests
{
    [Theory]
    [InlineData("/v2", OciRouteKind.Base, "", "")]
    [InlineData("/v2/", OciRouteKind.Base, "", "")]
    [InlineData("/v2/_catalog", OciRouteKind.Catalog, "", "")]
    [InlineData("/v2/library/ubuntu/tags/list", OciRouteKind.Tags, "library/ubuntu", "")]
    [InlineData("/v2/a/tags/list", OciRouteKind.Tags, "a", "")]
    [InlineData("/v2/a/b/c/manifests/latest", OciRouteKind.Manifest, "a/b/c", "latest")]
    [InlineData("/v2/a/manifests/sha256:abc", OciRouteKind.Manifest, "a", "sha256:abc")]
    [InlineData("/v2/a/b/blobs/sha256:abc", OciRouteKind.Blob, "a/b", "sha256:abc")]
    [InlineData("/v2/a/referrers/sha256:abc", OciRouteKind.Referrers, "a", "sha256:abc")]
    [InlineData("/v2/a/b/blobs/uploads/", OciRouteKind.UploadStart, "a/b", "")]
    [InlineData("/v2/a/b/blobs/uploads", OciRouteKind.UploadStart, "a/b", "")]
    [InlineData("/v2/a/blobs/uploads//", OciRouteKind.UploadStart, "a", "")]
    [InlineData("/v2/a/b/blobs/uploads/0c4c5b3e-3d8a-4f0e-9b8e-2f1d3c4b5a69", OciRouteKind.Upload, "a/b", "0c4c5b3e-3d8a-4f0e-9b8e-2f1d3c4b5a69")]
    [InlineData("/v2/blobs/uploads/id", OciRouteKind.None, "", "")] // no name before blobs/uploads
    [InlineData("/v2//manifests/x", OciRouteKind.Manifest, "", "x")] // empty name: refused later by name validation
    [InlineData("/v2/a/blobs/uploads/id/extra", OciRouteKind.None, "", "")]
    [InlineData("/v2/manifests/latest", OciRouteKind.None, "", "")]
    [InlineData("/v2/a/manifests/latest/", OciRouteKind.None, "", "")]
    [InlineData("/v2/a/manifests/", OciRouteKind.None, "", "")]
    [InlineData("/v2/a/tags/list/", OciRouteKind.None, "", "")]
    [InlineData("/v2/a/other/x", OciRouteKind.None, "", "")]
    [InlineData("/v2/_catalog/", OciRouteKind.None, "", "")]
    [InlineData("/v2//", OciRouteKind.None, "", "")]
    [InlineData("/v2x", OciRouteKind.None, "", "")]
    [InlineData("/v3/a/manifests/x", OciRouteKind.None, "", "")]
    [InlineData("/", OciRouteKind.None, "", "")]
    public void Parse_ReadsKindNameAndReference(string path, OciRouteKind kind, string name, string reference)
    {
        var route = OciPathParser.Parse(path);

        Assert.Equal(kind == OciRouteKind.None ? default : new OciRoute(kind, name, reference), route);
    }
}
