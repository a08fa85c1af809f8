namespace Berth.Storage;

/// <summary>
/// Optional: drivers that can tell cheaply (one local system call, no I/O to a remote store) whether a
/// directory exists and give a version of its listing. A cache of a directory's listing keyed on that version
/// stays correct across processes: any change of the direct children (an entry added, removed or renamed, by
/// this or another process) changes the version. Decorators forward it when the driver they wrap supports it.
/// <para>Object stores have no such cheap validator; they do not implement this and callers list.</para>
/// </summary>
public interface IDirectoryVersionSource
{
    /// <summary>The directory's version, <see cref="DirectoryVersion.Missing"/> when nothing is stored at the
    /// path as a directory, or null when the driver cannot tell for this path (callers then use
    /// <see cref="IStorageDriver.StatAsync"/> and <see cref="IStorageDriver.ListAsync"/>). Checks the path like
    /// <see cref="IStorageDriver.StatAsync"/>.</summary>
    DirectoryVersion? GetDirectoryVersion(string path);
}

/// <summary>
/// What identifies one state of a directory's listing. <see cref="Stable"/> is false when the directory changed
/// so recently that a later change could still get the same timestamps (timestamps are coarse: a kernel tick,
/// or a second on some filesystems); such a version may be compared but must not be cached. Compare whole
/// values: two versions are the same listing only when every field is equal.
/// </summary>
public readonly record struct DirectoryVersion(bool Exists, bool Stable, ulong Device, ulong Inode, long ModifiedNanoseconds, long ChangedNanoseconds, ulong Size)
{
    public static readonly DirectoryVersion Missing = new(false, true, 0, 0, 0, 0, 0);

    /// <summary>True when a listing read between two equal reads of this version may be cached under it.</summary>
    public bool IsCacheable => Exists && Stable;
}
