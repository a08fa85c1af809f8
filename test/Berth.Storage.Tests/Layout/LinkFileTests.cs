using System.Text;
using Berth.Storage.InMemory;
using Berth.Storage.Layout;

namespace Berth.Storage.Tests.Layout;

/// <summary>Link files hold exactly what Distribution writes: "sha256:&lt;hex&gt;", ASCII, no newline.</summary>
public sealed class LinkFileTests
{
    private const string Text = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    private static readonly Digest Abc = Digest.Parse(Text);

    [Fact]
    public void Encode_IsDigestAsciiWithoutNewline()
    {
        Assert.Equal(Encoding.ASCII.GetBytes(Text), LinkFile.Encode(Abc));
        Assert.Equal(71, LinkFile.Encode(Abc).Length);
    }

    [Fact]
    public void Decode_EncodedLink_RoundTrips()
    {
        var result = LinkFile.Decode(LinkFile.Encode(Abc));

        Assert.True(result.IsOk);
        Assert.Equal(LinkFile.Status.Ok, result.Status);
        Assert.Equal(Abc, result.Digest);
        Assert.Equal("", result.Detail);
    }

    [Fact]
    public void Decode_Sha512_RoundTrips()
    {
        var digest = Digest.Compute([], Digest.Sha512);

        Assert.Equal(digest, LinkFile.Decode(LinkFile.Encode(digest)).Digest);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("\n")]
    [InlineData(" \r\n\t ")]
    public void Decode_EmptyOrWhitespace_IsEmpty(string content)
    {
        var result = LinkFile.Decode(Encoding.ASCII.GetBytes(content));

        Assert.Equal(LinkFile.Status.Empty, result.Status);
        Assert.False(result.IsOk);
        Assert.Equal(default, result.Digest);
    }

    /// <summary>Lenient on read: surrounding whitespace (a hand-edited link) is ignored. Distribution itself
    /// would refuse such a link, so Berth never writes one.</summary>
    [Theory]
    [InlineData(Text + "\n")]
    [InlineData(Text + "\r\n")]
    [InlineData("  " + Text + "\t")]
    [InlineData("\u00a0" + Text + "\u2003")] // non-ASCII whitespace: the general path
    public void Decode_SurroundingWhitespace_IsIgnored(string content)
    {
        var result = LinkFile.Decode(Encoding.UTF8.GetBytes(content));

        Assert.True(result.IsOk);
        Assert.Equal(Abc, result.Digest);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("sha256:")]
    [InlineData("sha256:ba7816bf")]
    [InlineData("SHA256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    [InlineData("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD")]
    [InlineData("md5:d41d8cd98f00b204e9800998ecf8427e")]
    [InlineData("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    [InlineData("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    [InlineData("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a\n")]
    public void Decode_NotADigest_IsInvalid(string content)
    {
        var result = LinkFile.Decode(Encoding.ASCII.GetBytes(content));

        Assert.Equal(LinkFile.Status.Invalid, result.Status);
        Assert.Equal(default, result.Digest);
        Assert.StartsWith("link file does not hold a valid digest", result.Detail);
    }

    [Fact]
    public void Decode_BinaryGarbage_IsInvalid()
    {
        var result = LinkFile.Decode([0xff, 0xfe, 0x00, 0x80, 0x73, 0x68, 0x61]);

        Assert.Equal(LinkFile.Status.Invalid, result.Status);
    }

    [Fact]
    public async Task WriteAsync_StoresExactBytes()
    {
        var driver = new InMemoryDriver();

        await LinkFile.WriteAsync(driver, "/repo/_layers/sha256/x/link", Abc);

        Assert.Equal(Encoding.ASCII.GetBytes(Text), await driver.GetContentAsync("/repo/_layers/sha256/x/link"));
    }

    [Fact]
    public async Task ReadAsync_WrittenLink_IsOk()
    {
        var driver = new InMemoryDriver();
        await LinkFile.WriteAsync(driver, "/link", Abc);

        var result = await LinkFile.ReadAsync(driver, "/link");

        Assert.Equal(LinkFile.Status.Ok, result.Status);
        Assert.Equal(Abc, result.Digest);
    }

    [Fact]
    public async Task ReadAsync_MissingLink_IsMissing()
    {
        var result = await LinkFile.ReadAsync(new InMemoryDriver(), "/no/such/link");

        Assert.Equal(LinkFile.Status.Missing, result.Status);
        Assert.False(result.IsOk);
    }

    [Fact]
    public async Task ReadAsync_EmptyLink_IsEmpty()
    {
        var driver = new InMemoryDriver();
        await driver.PutContentAsync("/link", ReadOnlyMemory<byte>.Empty);

        Assert.Equal(LinkFile.Status.Empty, (await LinkFile.ReadAsync(driver, "/link")).Status);
    }
}
