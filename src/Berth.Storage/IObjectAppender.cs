namespace Berth.Storage;

/// <summary>
/// Optional capability of a driver that can append to an object in place (a local or shared filesystem). The GC
/// journal uses it to add one line per announced write to a per-process file instead of creating an object per
/// write: on a filesystem each new object costs an inode, a temporary name and a rename.
/// </summary>
public interface IObjectAppender
{
    /// <summary>
    /// Appends <paramref name="content"/> to the object at <paramref name="path"/>, creating the object and its folders
    /// when missing. The bytes of one call land together, after those of every call that returned before this one
    /// started; they are visible to readers at once, but a reader may see the last append only partly written (a
    /// line format with a terminator tells). Volatile: nothing is flushed, a machine crash may lose the tail.
    /// Returns false, having written nothing, when the driver cannot append here (the caller then puts objects).
    /// </summary>
    Task<bool> TryAppendAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default);
}
