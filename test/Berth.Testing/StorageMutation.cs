namespace Berth.Testing;

/// <summary>The storage operations that change what is stored.</summary>
public enum StorageMutationKind
{
    PutContent,
    WriterCommit,
    Move,
    Delete,
}

/// <summary>A mutation that reached the wrapped driver and succeeded. <paramref name="DestinationPath"/> is set
/// for moves only.</summary>
public sealed record StorageMutation(StorageMutationKind Kind, string Path, string? DestinationPath = null)
{
    public override string ToString() => DestinationPath is null ? $"{Kind} {Path}" : $"{Kind} {Path} -> {DestinationPath}";
}
