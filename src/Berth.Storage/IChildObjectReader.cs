namespace Berth.Storage;

/// <summary>
/// Optional capability of a driver of local files: list a directory and, in the same pass, read (or stat) one
/// object at the same relative path inside each child: "&lt;directory&gt;/&lt;child&gt;/&lt;relativePath&gt;" (the link of
/// every "&lt;alg&gt;/&lt;hex&gt;" folder, the data of every blob folder). Cheaper than a listing and then one
/// <see cref="IStorageDriver.GetContentAsync"/> per child: no path check, task or path string per child, and the
/// filesystem resolves only the short relative path.
/// </summary>
public interface IChildObjectReader
{
    /// <summary>
    /// Lists <paramref name="directory"/> as <see cref="IStorageDriver.ListAsync"/> does (the same children; throws
    /// <see cref="PathNotFoundException"/> and <see cref="InvalidPathException"/> when it would) and looks at
    /// "&lt;child&gt;/<paramref name="relativePath"/>" of each child: with <paramref name="readContent"/> its content,
    /// else its size. A child whose object could not be looked at the cheap way (anything but a regular file, a
    /// directory or nothing there; an error) is <see cref="ChildObjectStatus.Unknown"/>: ask the driver the usual way.
    /// Returns false, having done nothing, when the driver cannot do this here (not Linux, for example).
    /// </summary>
    bool TryListChildObjects(string directory, string relativePath, bool readContent, out IReadOnlyList<ChildObject> children);
}

/// <summary>What <see cref="IChildObjectReader.TryListChildObjects"/> found in one child.</summary>
public enum ChildObjectStatus
{
    /// <summary>Nothing there (or, for a read, a directory): what GetContentAsync and StatAsync report as not found.</summary>
    Missing,

    /// <summary>A regular file: its <see cref="ChildObject.Content"/> (a read) or <see cref="ChildObject.Size"/> (a stat).</summary>
    File,

    /// <summary>A directory (a stat only).</summary>
    Directory,

    /// <summary>Not looked at: use GetContentAsync or StatAsync on the path, which answer (or fail) as they always do.</summary>
    Unknown,
}

/// <param name="Name">The child's name (the last segment of the listed path).</param>
public readonly record struct ChildObject(string Name, ChildObjectStatus Status, byte[]? Content, long Size);
