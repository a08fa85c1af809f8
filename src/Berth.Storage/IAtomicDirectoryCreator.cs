namespace Berth.Storage;

/// <summary>
/// Optional capability of a driver with real directories: create a new directory together with its files in one
/// step. Readers (and a crash, at any moment) see either no directory or the directory with every file complete.
/// A manifest PUT that creates a tag publishes the tag's <c>current/link</c> and its history link this way: one
/// round of flushes and one rename instead of two links written one after the other, each flushed and renamed.
/// </summary>
public interface IAtomicDirectoryCreator
{
    /// <summary>
    /// Creates the directory <paramref name="path"/> holding <paramref name="files"/> (paths relative to it, with
    /// their content), durable when the task completes. Returns false, having changed nothing visible, when
    /// <paramref name="path"/> already exists with something in it, or when the driver cannot do this here (the
    /// caller then writes the files one by one).
    /// </summary>
    /// <param name="beforePublish">Awaited once the directory is built and durable but not yet visible, right before
    /// it is put in place: what must be durable before the directory appears (a tag's manifest) can be written
    /// meanwhile. If it throws, nothing is published and the exception propagates. It may not be called at all
    /// when the method returns false.</param>
    Task<bool> TryCreateDirectoryAsync(string path, IReadOnlyList<KeyValuePair<string, byte[]>> files, Func<Task>? beforePublish = null, CancellationToken cancellationToken = default);
}
