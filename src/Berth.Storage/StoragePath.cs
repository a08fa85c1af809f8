using System.Text.RegularExpressions;

namespace Berth.Storage;

/// <summary>Checks and combines driver paths.</summary>
public static partial class StoragePath
{
    [GeneratedRegex(@"^(/[A-Za-z0-9._:-]+)+$")]
    private static partial Regex ValidPath();

    public static bool IsValid(string path) => path == "/" || ValidPath().IsMatch(path);

    public static void Validate(string path)
    {
        if (!IsValid(path))
        {
            throw new InvalidPathException(path, "paths are absolute, '/'-separated, made of [A-Za-z0-9._:-]");
        }
        foreach (var segment in path.Split('/'))
        {
            if (segment is "." or "..")
            {
                throw new InvalidPathException(path, "'.' and '..' segments are not allowed");
            }
        }
    }

    public static string Combine(string directory, string name) => directory == "/" ? "/" + name : directory + "/" + name;

    public static string Parent(string path)
    {
        var i = path.LastIndexOf('/');
        return i <= 0 ? "/" : path[..i];
    }

    public static string FileName(string path) => path[(path.LastIndexOf('/') + 1)..];
}
