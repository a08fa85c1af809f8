using Berth.Logs.Parsing;

namespace Berth.Logs.Tests.Parsing;

public sealed class RegistryPathTests
{
    [Theory]
    [InlineData("/v2/", RegistryPathKind.Base, null, null)]
    [InlineData("/v2", RegistryPathKind.Base, null, null)]
    [InlineData("/v2/_catalog", RegistryPathKind.Catalog, null, null)]
    [InlineData("/v2/app/manifests/latest", RegistryPathKind.Manifest, "app", "latest")]
    [InlineData("/v2/someuser/really-awesome-project/manifests/even-awesomer-build", RegistryPathKind.Manifest, "someuser/really-awesome-project", "even-awesomer-build")]
    [InlineData("/v2/popular-opensource-project/app-name/other-qualifier/manifests/latest", RegistryPathKind.Manifest, "popular-opensource-project/app-name/other-qualifier", "latest")]
    [InlineData("/v2/a/b/c/d/e/f/manifests/sha256:0123abcd", RegistryPathKind.Manifest, "a/b/c/d/e/f", "sha256:0123abcd")]
    [InlineData("/v2/group/manifests/manifests/v1", RegistryPathKind.Manifest, "group/manifests", "v1")]
    [InlineData("/v2/team/app/blobs/sha256:abc", RegistryPathKind.Blob, "team/app", "sha256:abc")]
    [InlineData("/v2/team/app/blobs/uploads/", RegistryPathKind.Upload, "team/app", null)]
    [InlineData("/v2/team/app/blobs/uploads", RegistryPathKind.Upload, "team/app", null)]
    [InlineData("/v2/team/app/blobs/uploads/8b3c-11", RegistryPathKind.Upload, "team/app", "8b3c-11")]
    [InlineData("/v2/team/sub/app/tags/list", RegistryPathKind.Tags, "team/sub/app", null)]
    [InlineData("/v2/team/app/tags/reference/v1", RegistryPathKind.Tags, "team/app", "v1")]
    [InlineData("/v2/team/app/referrers/sha256:abc", RegistryPathKind.Referrers, "team/app", "sha256:abc")]
    [InlineData("/status/500", RegistryPathKind.Other, null, null)]
    [InlineData("/v2/manifests/latest", RegistryPathKind.Other, null, null)]
    [InlineData("/v2/app/unknown/x", RegistryPathKind.Other, null, null)]
    [InlineData("/v2/app/manifests/", RegistryPathKind.Other, null, null)]
    [InlineData("", RegistryPathKind.Other, null, null)]
    public void Parse(string path, RegistryPathKind kind, string? repository, string? reference)
    {
        Assert.Equal(new RegistryPath(kind, repository, reference), RegistryPath.Parse(path));
    }
}
