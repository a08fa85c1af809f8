using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

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
        var algorithm = value[..colon];
        var hex = value[(colon + 1)..];
        var expected = algorithm switch
        {
            Sha256 => 64,
            Sha512 => 128,
            _ => -1,
        };
        if (expected < 0)
        {
            error = $"unsupported digest algorithm '{Truncate(algorithm)}' (sha256 and sha512 are supported)";
            return false;
        }
        if (hex.Length != expected || !IsLowerHex(hex))
        {
            error = $"{algorithm} digest must be {expected} lower-case hex characters";
            return false;
        }
        digest = new Digest(algorithm == Sha256 ? Sha256 : Sha512, hex);
        error = "";
        return true;
    }

    public static Digest FromHash(string algorithm, ReadOnlySpan<byte> hash) =>
        new(algorithm, Convert.ToHexStringLower(hash));

    public static Digest Compute(ReadOnlySpan<byte> content, string algorithm = Sha256) =>
        FromHash(algorithm, algorithm == Sha512 ? SHA512.HashData(content) : SHA256.HashData(content));

    public HashAlgorithmName HashAlgorithm => Algorithm == Sha512 ? HashAlgorithmName.SHA512 : HashAlgorithmName.SHA256;

    public IncrementalHash CreateHash() => IncrementalHash.CreateHash(HashAlgorithm);

    private static bool IsLowerHex(string s)
    {
        foreach (var c in s)
        {
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f')))
            {
                return false;
            }
        }
        return true;
    }

    private static string Truncate(string s) => s.Length <= 80 ? s : s[..80] + "...";
}
