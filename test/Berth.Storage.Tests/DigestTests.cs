using Berth.Storage.Layout;

namespace Berth.Storage.Tests;

public sealed class DigestTests
{
    [Theory]
    [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e")]
    public void Parse_ValidDigest_RoundTrips(string text)
    {
        Assert.Equal(text, Digest.Parse(text).ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("sha256:")]
    [InlineData("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")]
    [InlineData("sha256:abc")]
    [InlineData("md5:d41d8cd98f00b204e9800998ecf8427e")]
    [InlineData("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    public void TryParse_Malformed_Fails(string text)
    {
        Assert.False(Digest.TryParse(text, out _, out var error));
        Assert.NotEmpty(error);
    }

    /// <summary>The UTF-8 overload (link files, manifests) gives the string overload's answer.</summary>
    [Theory]
    [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e")]
    [InlineData("")]
    [InlineData(":")]
    [InlineData("sha256:")]
    [InlineData("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")]
    [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85g")]
    [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 ")]
    [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855:")]
    [InlineData("sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("SHA256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("md5:d41d8cd98f00b204e9800998ecf8427e")]
    public void TryParseUtf8_AgreesWithString(string text)
    {
        var ok = Digest.TryParse(System.Text.Encoding.UTF8.GetBytes(text), out var fromBytes);

        Assert.Equal(Digest.TryParse(text, out var fromString), ok);
        Assert.Equal(fromString, fromBytes);
        if (ok)
        {
            Assert.Same(text.StartsWith("sha256", StringComparison.Ordinal) ? Digest.Sha256 : Digest.Sha512, fromBytes.Algorithm);
        }
    }

    [Fact]
    public void Compute_EmptyContent_IsKnownSha256()
    {
        Assert.Equal("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Digest.Compute([]).ToString());
    }
}
