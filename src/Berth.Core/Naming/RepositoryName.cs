using System.Text.RegularExpressions;
using Berth.Storage.Layout;

namespace Berth.Core.Naming;

/// <summary>Names and references as the OCI Distribution Spec defines them.</summary>
public static partial class RepositoryName
{
    public const int MaxLength = 255;

    // \z, not $: $ also matches before a trailing newline, which would let "name\n" through to storage.
    [GeneratedRegex(@"^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*\z", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    [GeneratedRegex(@"^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}\z", RegexOptions.CultureInvariant)]
    private static partial Regex TagPattern();

    public static bool IsValid(string name) => name.Length is > 0 and <= MaxLength && NamePattern().IsMatch(name);

    public static bool IsValidTag(string tag) => TagPattern().IsMatch(tag);

    public static void Validate(string name)
    {
        if (!IsValid(name))
        {
            throw new RegistryException(RegistryErrorCode.NameInvalid, "invalid repository name",
                new { name, rule = $"[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)*, at most {MaxLength} characters" });
        }
    }

    public static Digest ParseDigest(string value)
    {
        return Digest.TryParse(value, out var digest, out var error)
            ? digest
            : throw new RegistryException(RegistryErrorCode.DigestInvalid, "provided digest did not match uploaded content", new { digest = Clip(value), reason = error });
    }

    public static string Clip(string value) => value.Length <= 200 ? value : value[..200] + "...";
}

/// <summary>A manifest reference: a tag or a digest.</summary>
public readonly record struct Reference(string? Tag, Digest? Digest)
{
    public bool IsDigest => Digest is not null;

    public override string ToString() => Tag ?? Digest!.Value.ToString();

    public static Reference Parse(string value)
    {
        if (value.Contains(':'))
        {
            return new Reference(null, RepositoryName.ParseDigest(value));
        }
        if (!RepositoryName.IsValidTag(value))
        {
            throw new RegistryException(RegistryErrorCode.TagInvalid, "invalid tag", new { tag = RepositoryName.Clip(value), rule = "[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}" });
        }
        return new Reference(value, null);
    }
}
