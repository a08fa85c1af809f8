using System.Net;

namespace Berth.Api.Tests;

/// <summary>Malformed digests, names and tags are client errors (400) wherever they appear, never 5xx.</summary>
public abstract class ValidationTests<TDriver> : RegistryTestBase<TDriver> where TDriver : IDriverFactory, new()
{
    private const string Hex64 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    /// <summary>Digests with a colon (so that a manifest reference is read as a digest) that are not valid.</summary>
    public static TheoryData<string> MalformedDigests => new()
    {
        "sha256:abc",
        "sha256:" + Hex64.ToUpperInvariant(),
        "sha256:" + Hex64 + "00",
        "sha256:" + Hex64[..63] + "g",
        "sha256:",
        ":" + Hex64,
        "md5:d41d8cd98f00b204e9800998ecf8427e",
        "SHA256:" + Hex64,
        "sha256:" + Hex64 + "%0A",
        "sha256:%20" + Hex64,
        "sha256+b64:abc",
        "sha512:" + Hex64,
    };

    [Theory]
    [MemberData(nameof(MalformedDigests))]
    public async Task MalformedDigest_InBlobPath_Returns400DigestInvalid(string digest)
    {
        await PushImageAsync(Repo);
        using (var get = await GetAsync($"/v2/{Repo}/blobs/{digest}"))
        {
            await AssertErrorAsync(get, HttpStatusCode.BadRequest, "DIGEST_INVALID");
        }
        using (var head = await HeadAsync($"/v2/{Repo}/blobs/{digest}"))
        {
            AssertStatus(HttpStatusCode.BadRequest, head);
        }
        using var delete = await DeleteAsync($"/v2/{Repo}/blobs/{digest}");
        await AssertErrorAsync(delete, HttpStatusCode.BadRequest, "DIGEST_INVALID");
    }

    [Theory]
    [InlineData("latest")]
    [InlineData("sha256")]
    public async Task NotADigest_InBlobPath_Returns400DigestInvalid(string digest)
    {
        using var get = await GetAsync($"/v2/{Repo}/blobs/{digest}");
        await AssertErrorAsync(get, HttpStatusCode.BadRequest, "DIGEST_INVALID");
    }

    [Theory]
    [MemberData(nameof(MalformedDigests))]
    [InlineData("")]
    [InlineData("latest")]
    public async Task MalformedDigest_InQuery_Returns400DigestInvalid(string digest)
    {
        var escaped = digest.Contains('%') ? digest : Uri.EscapeDataString(digest);
        using (var post = await SendAsync(HttpMethod.Post, $"/v2/{Repo}/blobs/uploads/?digest={escaped}", [1, 2, 3], "application/octet-stream"))
        {
            await AssertErrorAsync(post, HttpStatusCode.BadRequest, "DIGEST_INVALID");
        }
        var location = await StartUploadAsync(Repo);
        using (var put = await SendAsync(HttpMethod.Put, $"{location}?digest={escaped}", [1, 2, 3], "application/octet-stream"))
        {
            await AssertErrorAsync(put, HttpStatusCode.BadRequest, "DIGEST_INVALID");
        }
        using var mount = await SendAsync(HttpMethod.Post, $"/v2/{Repo}/blobs/uploads/?mount={escaped}&from=other/repo", [], null);
        await AssertErrorAsync(mount, HttpStatusCode.BadRequest, "DIGEST_INVALID");
    }

    [Theory]
    [MemberData(nameof(MalformedDigests))]
    public async Task MalformedDigest_AsManifestReference_Returns400DigestInvalid(string digest)
    {
        var image = await PushImageAsync(Repo);
        using (var get = await GetAsync($"/v2/{Repo}/manifests/{digest}"))
        {
            await AssertErrorAsync(get, HttpStatusCode.BadRequest, "DIGEST_INVALID");
        }
        using (var head = await HeadAsync($"/v2/{Repo}/manifests/{digest}"))
        {
            AssertStatus(HttpStatusCode.BadRequest, head);
        }
        using (var put = await PutManifestAsync(Repo, digest, image.Manifest))
        {
            await AssertErrorAsync(put, HttpStatusCode.BadRequest, "DIGEST_INVALID");
        }
        using var delete = await DeleteAsync($"/v2/{Repo}/manifests/{digest}");
        await AssertErrorAsync(delete, HttpStatusCode.BadRequest, "DIGEST_INVALID");
    }

    [Theory]
    [MemberData(nameof(MalformedDigests))]
    [InlineData("latest")]
    public async Task MalformedDigest_InReferrers_Returns400DigestInvalid(string digest)
    {
        using var get = await GetAsync($"/v2/{Repo}/referrers/{digest}");
        await AssertErrorAsync(get, HttpStatusCode.BadRequest, "DIGEST_INVALID");
    }

    public static TheoryData<string> InvalidNames => new()
    {
        "Upper/case",
        "group/Sub",
        "-lead",
        "trail-",
        "a..b",
        "a___b",
        "a/.b",
        "a/b.",
        "a%2Fb",
        "a//b",
        "_layers/x",
        "a/_manifests",
        "name%0A",
        "na%20me",
        new string('a', 256),
        string.Join('/', Enumerable.Repeat("abcdefghijklmnop", 16)),
    };

    [Theory]
    [MemberData(nameof(InvalidNames))]
    public async Task InvalidName_Returns400NameInvalid(string name)
    {
        string[] urls =
        [
            $"/v2/{name}/tags/list",
            $"/v2/{name}/manifests/latest",
            $"/v2/{name}/manifests/sha256:{Hex64}",
            $"/v2/{name}/blobs/sha256:{Hex64}",
            $"/v2/{name}/referrers/sha256:{Hex64}",
            $"/v2/{name}/blobs/uploads/{Guid.NewGuid():D}",
        ];
        foreach (var url in urls)
        {
            using var get = await GetAsync(url);
            await AssertErrorAsync(get, HttpStatusCode.BadRequest, "NAME_INVALID");
        }
        using (var post = await SendAsync(HttpMethod.Post, $"/v2/{name}/blobs/uploads/", [], null))
        {
            await AssertErrorAsync(post, HttpStatusCode.BadRequest, "NAME_INVALID");
        }
        using var put = await PutManifestAsync(name, "latest", Oci.Index([]), Oci.ImageIndex);
        await AssertErrorAsync(put, HttpStatusCode.BadRequest, "NAME_INVALID");
    }

    [Fact]
    public async Task LongestValidName_Works()
    {
        var name = string.Join('/', Enumerable.Repeat("abcdefghijklmno", 16)); // 16*15 + 15 = 255
        Assert.Equal(255, name.Length);
        await PushImageAsync(name);
        using var get = await GetAsync($"/v2/{name}/manifests/latest");
        AssertStatus(HttpStatusCode.OK, get);
    }

    public static TheoryData<string> InvalidTags => new()
    {
        "-tag",
        ".tag",
        "ta%20g",
        "tag%0A",
        "t%C3%A4g",
        "tag+1",
        new string('t', 129),
    };

    [Theory]
    [MemberData(nameof(InvalidTags))]
    public async Task InvalidTag_Returns400(string tag)
    {
        var image = await PushImageAsync(Repo);
        using (var put = await PutManifestAsync(Repo, tag, image.Manifest))
        {
            AssertStatus(HttpStatusCode.BadRequest, put);
        }
        using (var get = await GetAsync($"/v2/{Repo}/manifests/{tag}"))
        {
            AssertStatus(HttpStatusCode.BadRequest, get);
        }
        using (var head = await HeadAsync($"/v2/{Repo}/manifests/{tag}"))
        {
            AssertStatus(HttpStatusCode.BadRequest, head);
        }
        using var delete = await DeleteAsync($"/v2/{Repo}/manifests/{tag}");
        AssertStatus(HttpStatusCode.BadRequest, delete);
    }

    [Fact]
    public async Task LongestValidTag_Works()
    {
        var tag = "_" + new string('T', 127);
        await PushImageAsync(Repo, tag);
        using var get = await GetAsync($"/v2/{Repo}/manifests/{tag}");
        AssertStatus(HttpStatusCode.OK, get);
    }

    [Theory]
    [InlineData("/v2/group/sub/project/image")]
    [InlineData("/v2/group/sub/project/image/")]
    [InlineData("/v2/group/sub/project/image/tags/list/")]
    [InlineData("/v2/group/sub/project/image/manifests/")]
    [InlineData("/v2/group/sub/project/image/unknown/thing")]
    public async Task PathThatIsNoEndpoint_Returns404(string url)
    {
        using var get = await GetAsync(url);
        AssertStatus(HttpStatusCode.NotFound, get);
    }

    [Fact]
    public async Task WrongMethod_Returns405Unsupported()
    {
        await PushImageAsync(Repo);
        using (var post = await SendAsync(HttpMethod.Post, $"/v2/{Repo}/manifests/latest", [], null))
        {
            await AssertErrorAsync(post, HttpStatusCode.MethodNotAllowed, "UNSUPPORTED");
        }
        using var put = await SendAsync(HttpMethod.Put, $"/v2/{Repo}/tags/list", [], null);
        await AssertErrorAsync(put, HttpStatusCode.MethodNotAllowed, "UNSUPPORTED");
    }
}

public sealed class ValidationTestsInMemory : ValidationTests<InMemoryDriverFactory>;

public sealed class ValidationTestsFileSystem : ValidationTests<FileSystemDriverFactory>;
