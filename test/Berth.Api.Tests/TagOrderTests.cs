using Berth.Core.Tags;

namespace Berth.Api.Tests;

/// <summary>The allocation-free lexical comparer agrees with its definition (lower-cased copies compared
/// ordinally, then the originals) on ASCII, on case variants and on characters whose lower case is ASCII.</summary>
public sealed class TagOrderTests
{
    private static int Reference(string a, string b)
    {
        var byLowerCase = string.CompareOrdinal(a.ToLowerInvariant(), b.ToLowerInvariant());
        return byLowerCase != 0 ? byLowerCase : string.CompareOrdinal(a, b);
    }

    [Fact]
    public void LexicalOrder_AgreesWithLowerCasedOrdinalThenOrdinal()
    {
        var alphabet = "aAbBzZkK09_.-\u00e9\u00c9\u212a\u0130\u00df".ToCharArray();
        var random = new Random(7);
        string Next() => new([.. Enumerable.Range(0, random.Next(0, 6)).Select(_ => alphabet[random.Next(alphabet.Length)])]);
        for (var i = 0; i < 50_000; i++)
        {
            var a = Next();
            var b = Next();
            Assert.True(Math.Sign(Reference(a, b)) == Math.Sign(TagService.LexicalOrder.Compare(a, b)), $"'{a}' vs '{b}'");
        }
    }

    [Theory]
    [InlineData("v2 V1 alpha Alpha _build 1.0 latest v10 beta")]
    [InlineData("t00003 t00001 t00002 t00000")]
    [InlineData("b \u00e9 A a \u212a k K")]
    public void SortLexically_EqualsSortingWithTheDefinition(string spaceSeparated)
    {
        var tags = spaceSeparated.Split(' ');
        var expected = tags.ToArray();
        Array.Sort(expected, Comparer<string>.Create(Reference));

        Assert.Equal(expected, TagService.SortLexically(tags.ToArray()));
    }
}
