using System.Buffers;

namespace Berth.Storage;

/// <summary>Checks and combines driver paths.</summary>
public static class StoragePath
{
    /// <summary>The root directory. It names no object and cannot be deleted.</summary>
    public const string Root = "/";

    private static readonly SearchValues<char> s_segmentCharsAndSlash = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-/");

    /// <summary>True for the root and for absolute, '/'-separated paths made of [A-Za-z0-9._:-]
    /// with no '.' or '..' segment, no empty segment and no trailing '/'.</summary>
    public static bool IsValid(string path) =>
        path == Root || (HasValidSegments(path) && !HasDotSegment(path));

    /// <summary>Accepts any valid path, the root included: for Stat, List and Walk.</summary>
    public static void Validate(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!HasValidSegments(path) && path != Root)
        {
            throw new InvalidPathException(path, "paths are absolute, '/'-separated, made of [A-Za-z0-9._:-]");
        }
        if (HasDotSegment(path))
        {
            throw new InvalidPathException(path, "'.' and '..' segments are not allowed");
        }
    }

    /// <summary>Accepts a valid path other than the root: for operations on objects (get, put, read, write,
    /// move) and for Delete, which never removes the root.</summary>
    public static void ValidateObjectPath(string path)
    {
        Validate(path);
        if (path == Root)
        {
            throw new InvalidPathException(path, "the root is a directory, not an object, and cannot be deleted");
        }
    }

    public static string Combine(string directory, string name) => directory == Root ? "/" + name : directory + "/" + name;

    public static string Parent(string path)
    {
        var i = path.LastIndexOf('/');
        return i <= 0 ? Root : path[..i];
    }

    public static string FileName(string path) => path[(path.LastIndexOf('/') + 1)..];

    /// <summary>The path matches <c>^(/[A-Za-z0-9._:-]+)+$</c>, as a .NET regex does: checked on every storage call,
    /// so by hand (one pass, no allocation). Like the regex's <c>$</c>, a single final '\n' is let through.</summary>
    private static bool HasValidSegments(string path)
    {
        var span = path.AsSpan();
        if (span.EndsWith('\n'))
        {
            span = span[..^1];
        }
        if (span.Length < 2 || span[0] != '/' || span[^1] == '/')
        {
            return false;
        }
        // No empty segment ("//"), and nothing but the allowed characters and '/'.
        return !span.Contains("//", StringComparison.Ordinal) && span.IndexOfAnyExcept(s_segmentCharsAndSlash) < 0;
    }

    private static bool HasDotSegment(string path)
    {
        foreach (var range in path.AsSpan().Split('/'))
        {
            var segment = path.AsSpan()[range];
            if (segment is "." or "..")
            {
                return true;
            }
        }
        return false;
    }
}
