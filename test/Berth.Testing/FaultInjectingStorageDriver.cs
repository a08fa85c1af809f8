using Berth.Storage;

namespace Berth.Testing;

/// <summary>
/// Wraps a driver to simulate a process that dies in the middle of its work, and to record the order of its
/// writes. A fault is configured per instance (<see cref="CrashOnMutation"/>), never globally.
/// <para>Mutations are <see cref="IStorageDriver.PutContentAsync"/>, <see cref="IStorageWriter.CommitAsync"/>,
/// <see cref="IStorageDriver.MoveAsync"/> and <see cref="IStorageDriver.DeleteAsync"/>. Each one is counted when
/// it is attempted. The one chosen to crash throws <see cref="SimulatedCrashException"/> without reaching the
/// wrapped driver (the process died just before it), and from then on every mutation, writer creation, write
/// and cancel throws too, as nothing more would come from a dead process. Reads keep working so that tests can
/// inspect what was left behind.</para>
/// </summary>
public sealed class FaultInjectingStorageDriver(IStorageDriver inner) : IStorageDriver, ILocalFileAccess
{
    private readonly Lock _lock = new();
    private readonly List<StorageMutation> _mutations = [];
    private int _attempted;
    private int? _crashAt;
    private bool _crashed;

    public string Name => inner.Name;

    /// <summary>The wrapped driver, to inspect or prepare storage without going through the fault.</summary>
    public IStorageDriver Inner => inner;

    /// <summary>Mutations attempted so far, the crashed one and failed ones included.</summary>
    public int MutationCount
    {
        get
        {
            lock (_lock)
            {
                return _attempted;
            }
        }
    }

    /// <summary>Whether the simulated crash happened.</summary>
    public bool HasCrashed
    {
        get
        {
            lock (_lock)
            {
                return _crashed;
            }
        }
    }

    /// <summary>Mutations that reached the wrapped driver and succeeded, in the order they completed.</summary>
    public IReadOnlyList<StorageMutation> Mutations
    {
        get
        {
            lock (_lock)
            {
                return [.. _mutations];
            }
        }
    }

    /// <summary>Crashes on the <paramref name="number"/>th mutation counted since this driver was created
    /// (1 is the first). It must not have been attempted yet.</summary>
    public void CrashOnMutation(int number)
    {
        lock (_lock)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(number, _attempted);
            _crashAt = number;
        }
    }

    /// <summary>Crashes on the next mutation.</summary>
    public void CrashOnNextMutation()
    {
        lock (_lock)
        {
            _crashAt = _attempted + 1;
        }
    }

    /// <summary>Crashes now: every later mutation is refused.</summary>
    public void Crash()
    {
        lock (_lock)
        {
            _crashed = true;
        }
    }

    public string? GetLocalPath(string path) => (inner as ILocalFileAccess)?.GetLocalPath(path);

    public Task<byte[]> GetContentAsync(string path, CancellationToken cancellationToken = default) =>
        inner.GetContentAsync(path, cancellationToken);

    public Task PutContentAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) =>
        PutContentAsync(path, content, Durability.Durable, cancellationToken);

    /// <summary>Volatile mutations are recorded like durable ones: a simulated crash is a process crash,
    /// after which the operating system still holds them.</summary>
    public async Task PutContentAsync(string path, ReadOnlyMemory<byte> content, Durability durability, CancellationToken cancellationToken = default)
    {
        BeginMutation(StorageMutationKind.PutContent, path);
        await inner.PutContentAsync(path, content, durability, cancellationToken).ConfigureAwait(false);
        Completed(new StorageMutation(StorageMutationKind.PutContent, path));
    }

    public Task<Stream> OpenReadAsync(string path, long offset = 0, CancellationToken cancellationToken = default) =>
        inner.OpenReadAsync(path, offset, cancellationToken);

    public async Task<IStorageWriter> CreateWriterAsync(string path, bool append, CancellationToken cancellationToken = default)
    {
        ThrowIfCrashed("create a writer for " + path);
        return new Writer(this, path, await inner.CreateWriterAsync(path, append, cancellationToken).ConfigureAwait(false));
    }

    public Task<StorageEntry> StatAsync(string path, CancellationToken cancellationToken = default) =>
        inner.StatAsync(path, cancellationToken);

    public Task<IReadOnlyList<string>> ListAsync(string path, CancellationToken cancellationToken = default) =>
        inner.ListAsync(path, cancellationToken);

    public IAsyncEnumerable<StorageEntry> WalkAsync(string path, CancellationToken cancellationToken = default) =>
        inner.WalkAsync(path, cancellationToken);

    public async Task MoveAsync(string sourcePath, string destinationPath, CancellationToken cancellationToken = default)
    {
        BeginMutation(StorageMutationKind.Move, sourcePath);
        await inner.MoveAsync(sourcePath, destinationPath, cancellationToken).ConfigureAwait(false);
        Completed(new StorageMutation(StorageMutationKind.Move, sourcePath, destinationPath));
    }

    public Task DeleteAsync(string path, CancellationToken cancellationToken = default) =>
        DeleteAsync(path, Durability.Durable, cancellationToken);

    public async Task DeleteAsync(string path, Durability durability, CancellationToken cancellationToken = default)
    {
        BeginMutation(StorageMutationKind.Delete, path);
        await inner.DeleteAsync(path, durability, cancellationToken).ConfigureAwait(false);
        Completed(new StorageMutation(StorageMutationKind.Delete, path));
    }

    /// <summary>Counts a mutation and throws if it is the one to crash on, or if the process is already dead.</summary>
    private void BeginMutation(StorageMutationKind kind, string path)
    {
        lock (_lock)
        {
            _attempted++;
            if (!_crashed && _attempted == _crashAt)
            {
                _crashed = true;
                throw new SimulatedCrashException($"simulated crash at mutation {_attempted}: {kind} {path}");
            }
        }
        ThrowIfCrashed($"{kind} {path}");
    }

    private void Completed(StorageMutation mutation)
    {
        lock (_lock)
        {
            _mutations.Add(mutation);
        }
    }

    private void ThrowIfCrashed(string what)
    {
        if (HasCrashed)
        {
            throw new SimulatedCrashException($"the process has crashed: refused {what}");
        }
    }

    private sealed class Writer(FaultInjectingStorageDriver driver, string path, IStorageWriter inner) : IStorageWriter
    {
        public long Size => inner.Size;

        public ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            driver.ThrowIfCrashed("write to " + path);
            return inner.WriteAsync(buffer, cancellationToken);
        }

        public Task CommitAsync(CancellationToken cancellationToken = default) => CommitAsync(Durability.Durable, cancellationToken);

        public async Task CommitAsync(Durability durability, CancellationToken cancellationToken = default)
        {
            driver.BeginMutation(StorageMutationKind.WriterCommit, path);
            await inner.CommitAsync(durability, cancellationToken).ConfigureAwait(false);
            driver.Completed(new StorageMutation(StorageMutationKind.WriterCommit, path));
        }

        public Task CancelAsync(CancellationToken cancellationToken = default)
        {
            driver.ThrowIfCrashed("cancel the write of " + path);
            return inner.CancelAsync(cancellationToken);
        }

        /// <summary>Closes the wrapped writer, which keeps its bytes: what a dead process wrote stays written.</summary>
        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
