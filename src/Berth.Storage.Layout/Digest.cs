using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;

namespace Berth.Storage.Layout;

/// <summary>A content digest, "algorithm:hex". Only sha256 and sha512 are accepted, lower-case hex of the right length.</summary>
public readonly record struct Digest
{
    public const string Sha256 = "sha256";
    public const string Sha512 = "sha512";

    private Digest(string algorithm, string hex)
    {
        Algorithm = algorithm;
        Hex = hex;
    }

    public string Algorithm { get; }

    public string Hex { get; }

    public override string ToString() => Algorithm + ":" + Hex;

    public static Digest Parse(string value) =>
        TryParse(value, out var d, out var error) ? d : throw new FormatException(error);

    public static bool TryParse([NotNullWhen(true)] string? value, out Digest digest) => TryParse(value, out digest, out _);

    public static bool TryParse([NotNullWhen(true)] string? value, out Digest digest, out string error)
    {
        digest = default;
        if (string.IsNullOrEmpty(value))
        {
            error = "digest is empty";
            return false;
        }
        var colon = value.IndexOf(':');
        if (colon <= 0)
        {
            error = $"'{Truncate(value)}' is not of the form algorithm:hex";
            return false;
        }
        var algorithmSpan = value.AsSpan(0, colon);
        var (algorithm, expected) = algorithmSpan switch
        {
            Sha256 => (Sha256, 64),
            Sha512 => (Sha512, 128),
            _ => ("", -1),
        };
        if (expected < 0)
        {
            error = $"unsupported digest algorithm '{Truncate(value[..colon])}' (sha256 and sha512 are supported)";
            return false;
        }
        var hex = value.AsSpan(colon + 1);
        if (hex.Length != expected || !IsLowerHex(hex))
        {
            error = $"{algorithm} digest must be {expected} lower-case hex characters";
            return false;
        }
        // The one allocation: the hex part. The algorithm is the interned constant.
        digest = new Digest(algorithm, value[(colon + 1)..]);
        error = "";
        return true;
    }

    /// <summary>Parses "algorithm:hex" from UTF-8 bytes (a link file, a JSON string) with the same rules as
    /// <see cref="TryParse(string?, out Digest)"/>, allocating only the hex string. No error text: callers that
    /// need one parse the decoded string when this fails.</summary>
    public static bool TryParse(ReadOnlySpan<byte> utf8, out Digest digest)
    {
        digest = default;
        var colon = utf8.IndexOf((byte)':');
        if (colon <= 0)
        {
            return false;
        }
        var algorithm = utf8[..colon];
        var (name, expected) = algorithm.SequenceEqual("sha256"u8) ? (Sha256, 64) : algorithm.SequenceEqual("sha512"u8) ? (Sha512, 128) : ("", -1);
        var hex = utf8[(colon + 1)..];
        if (expected < 0 || hex.Length != expected || hex.ContainsAnyExcept(LowerHexUtf8))
        {
            return false;
        }
        digest = new Digest(name, Encoding.ASCII.GetString(hex));
        return true;
    }

    /// <summary>A digest from its two parts as a path spells them ("sha256", "&lt;hex&gt;"), keeping
    /// <paramref name="hex"/> as is: no allocation. Same rules as <see cref="TryParse(string?, out Digest)"/>.</summary>
    internal static bool TryCreate(ReadOnlySpan<char> algorithm, string hex, out Digest digest)
    {
        var (name, expected) = algorithm switch
        {
            Sha256 => (Sha256, 64),
            Sha512 => (Sha512, 128),
            _ => ("", -1),
        };
        if (expected < 0 || hex.Length != expected || !IsLowerHex(hex))
        {
            digest = default;
            return false;
        }
        digest = new Digest(name, hex);
        return true;
    }

    public static Digest FromHash(string algorithm, ReadOnlySpan<byte> hash) =>
        new(algorithm, Convert.ToHexStringLower(hash));

    public static Digest Compute(ReadOnlySpan<byte> content, string algorithm = Sha256) =>
        FromHash(algorithm, algorithm == Sha512 ? SHA512.HashData(content) : SHA256.HashData(content));

    public HashAlgorithmName HashAlgorithm => Algorithm == Sha512 ? HashAlgorithmName.SHA512 : HashAlgorithmName.SHA256;

    public IncrementalHash CreateHash() => IncrementalHash.CreateHash(HashAlgorithm);

    private static readonly SearchValues<char> LowerHex = SearchValues.Create("0123456789abcdef");
    private static readonly SearchValues<byte> LowerHexUtf8 = SearchValues.Create("0123456789abcdef"u8);

    private static bool IsLowerHex(ReadOnlySpan<char> s) => !s.ContainsAnyExcept(LowerHex);

    private static string Truncate(string s) => s.Length <= 80 ? s : s[..80] + "...";
}
