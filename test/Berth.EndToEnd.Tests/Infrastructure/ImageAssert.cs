using System.Security.Cryptography;

namespace Berth.EndToEnd.Tests.Infrastructure;

public static class ImageAssert
{
    /// <summary>The layout skopeo copied back holds <paramref name="tag"/> at the image's manifest digest,
    /// and every manifest and blob of the image with the same bytes as the source layout.</summary>
    public static void SameImage(string sourceLayout, string copiedLayout, string tag, WrittenImage image)
    {
        var descriptor = OciLayout.Find(copiedLayout, tag);
        Assert.True(descriptor is not null, $"the copied layout {copiedLayout} has no tag {tag}");
        Assert.Equal(image.Digest, descriptor.Digest);
        foreach (var digest in image.AllDigests())
        {
            var copied = OciLayout.BlobPath(copiedLayout, digest);
            Assert.True(File.Exists(copied), $"the copied layout {copiedLayout} lacks blob {digest}");
            var bytes = File.ReadAllBytes(copied);
            Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes)), digest);
            Assert.True(bytes.AsSpan().SequenceEqual(OciLayout.ReadBlob(sourceLayout, digest)), $"blob {digest} differs from the source");
        }
    }

    public static string Sha256(byte[] content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));

    /// <summary>The operation failed and said the manifest (or repository) is unknown.</summary>
    public static void NotFound(ProcessResult result)
    {
        Assert.False(result.Succeeded, $"expected the image to be gone, but skopeo succeeded:\n{result.Describe()}");
        var text = result.Stderr.ToLowerInvariant();
        Assert.True(text.Contains("manifest unknown", StringComparison.Ordinal) || text.Contains("name unknown", StringComparison.Ordinal)
            || text.Contains("not found", StringComparison.Ordinal), $"expected 'manifest unknown' from skopeo:\n{result.Describe()}");
    }
}
