namespace Berth.Storage;

/// <summary>Base of the errors that belong to the driver contract.</summary>
public abstract class StorageException(string message, string path, Exception? inner = null) : Exception(message, inner)
{
    public string Path { get; } = path;
}

public sealed class PathNotFoundException(string path, string? driver = null)
    : StorageException($"{driver ?? "storage"}: path not found: {path}", path);

public sealed class InvalidPathException(string path, string reason)
    : StorageException($"invalid storage path '{path}': {reason}", path);

public sealed class InvalidOffsetException(string path, long offset)
    : StorageException($"invalid offset {offset} for {path}", path)
{
    public long Offset { get; } = offset;
}
