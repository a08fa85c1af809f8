using System.Text.RegularExpressions;
using Berth.Storage;

namespace Berth.Storage.Tests;

/// <summary>StoragePath checks every path of every storage call by hand; these pin it to the regular expression it replaced.</summary>
public sealed class StoragePathTests
{
    private static readonly Regex s_reference = new(@"^(/[A-Za-z0-9._:-]+)+$");

    [Theory]
    [InlineData("/")]
    [InlineData("/a")]
    [InlineData("/docker/registry/v2/blobs/sha256/ab/abcdef/data")]
    [InlineData("/a.b/c_d/e-f/g:h")]
    [InlineData("")]
    [InlineData("a")]
    [InlineData("a/b")]
    [InlineData("//")]
    [InlineData("/a/")]
    [InlineData("/a//b")]
    [InlineData("/a b")]
    [InlineData("/a/./b")]
    [InlineData("/a/../b")]
    [InlineData("/.")]
    [InlineData("/..")]
    [InlineData("/...")]
    [InlineData("/.hidden")]
    [InlineData("/a\n")]
    [InlineData("/\n")]
    [InlineData("/a\n\n")]
    [InlineData("/a\nb")]
    [InlineData("/ä")]
    [InlineData("/a\\b")]
    [InlineData("/a?")]
    [InlineData("/a/b/")]
    public void IsValid_AgreesWithTheRegularExpression(string path)
    {
        var expected = path == StoragePath.Root || (s_reference.IsMatch(path) && !path.Split('/').Any(s => s is "." or ".."));
        Assert.Equal(expected, StoragePath.IsValid(path));
        if (expected)
        {
            StoragePath.Validate(path);
        }
        else
        {
            Assert.Throws<InvalidPathException>(() => StoragePath.Validate(path));
        }
    }

    [Fact]
    public void IsValid_AgreesWithTheRegularExpression_OnRandomPaths()
    {
        var random = new Random(7);
        const string alphabet = "/ab.:-_Z9 \n\\";
        for (var i = 0; i < 20000; i++)
        {
            var chars = new char[random.Next(0, 9)];
            for (var j = 0; j < chars.Length; j++)
            {
                chars[j] = alphabet[random.Next(alphabet.Length)];
            }
            var path = new string(chars);
            var expected = path == StoragePath.Root || (s_reference.IsMatch(path) && !path.Split('/').Any(s => s is "." or ".."));
            Assert.True(expected == StoragePath.IsValid(path), $"'{path.Replace("\n", "\\n")}': expected {expected}");
        }
    }
}
