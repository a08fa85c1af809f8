using System.Text;

namespace Berth.Storage.Layout;

/// <summary>Reads and writes link files: "sha256:&lt;hex&gt;", no newline.</summary>
public static class LinkFile
{
    public static byte[] Encode(Digest digest) => Encoding.ASCII.GetBytes(digest.ToString());

    /// <summary>Outcome of reading a link: the digest, or why the link is broken.</summary>
    public enum Status
    {
        Ok,
        Missing,
        Empty,
        Invalid,
    }

    public readonly record struct Result(Status Status, Digest Digest, string Detail)
    {
        public bool IsOk => Status == Status.Ok;
    }

    public static Result Decode(ReadOnlySpan<byte> content)
    {
        // Fast path, what Distribution and Berth write: "<alg>:<hex>" in ASCII, perhaps with ASCII whitespace
        // around it; allocates only the hex string. Anything else takes the general path below, which gives
        // the same answer for these inputs and the detailed error for the rest.
        if (Digest.TryParse(content.Trim(" \t\n\v\f\r"u8), out var fast))
        {
            return new Result(Status.Ok, fast, "");
        }
        var text = Encoding.UTF8.GetString(content).Trim();
        if (text.Length == 0)
        {
            return new Result(Status.Empty, default, "link file is empty");
        }
        return Digest.TryParse(text, out var d, out var error)
            ? new Result(Status.Ok, d, "")
            : new Result(Status.Invalid, default, "link file does not hold a valid digest: " + error);
    }

    public static async Task<Result> ReadAsync(IStorageDriver driver, string path, CancellationToken cancellationToken = default)
    {
        byte[] content;
        try
        {
            content = await driver.GetContentAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (PathNotFoundException)
        {
            return new Result(Status.Missing, default, "link file is missing");
        }
        return Decode(content);
    }

    public static Task WriteAsync(IStorageDriver driver, string path, Digest digest, CancellationToken cancellationToken = default) =>
        driver.PutContentAsync(path, Encode(digest), cancellationToken);

    public static Task WriteAsync(IStorageDriver driver, string path, Digest digest, Durability durability, CancellationToken cancellationToken = default) =>
        driver.PutContentAsync(path, Encode(digest), durability, cancellationToken);
}
