using System.Buffers;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Berth.Core.Blobs;
using Berth.Core.Uploads;
using Berth.Storage;
using Berth.Storage.FileSystem;
using Berth.Storage.Layout;

namespace Berth.Benchmarks;

/// <summary>
/// A monolithic blob upload of 64 MiB from an in-memory request body: <see cref="UploadService.UploadAsync"/>
/// copies the body into the driver's writer while hashing it, commits, checks the digest and publishes the blob.
/// <list type="bullet">
/// <item><c>Upload_FileSystem</c>: the real filesystem driver on /var/tmp (fsync on, as served), so each
/// operation also writes 64 MiB, fsyncs it and renames it into blobs/.</item>
/// <item><c>Upload_FileSystem_NoFsync</c>: the same without fsync (<c>syncToDisk: false</c>, not how Berth
/// serves): the difference to the first figure is what durability costs.</item>
/// <item><c>Upload_NullSink</c>: the same service over a driver that discards the bytes: the copy loop and
/// SHA-256 alone.</item>
/// <item><c>Writer_FileSystem_NoHash</c>: the filesystem driver's writer fed with the same 128 KiB loop
/// without hashing, then committed: the storage share of the first figure.</item>
/// <item><c>Loop_WriteThenHash</c> / <c>Loop_HashWhileWriting</c>: the copy loop alone into the filesystem
/// writer (fsync at commit), hashing after each write as <see cref="UploadService"/> does today, or while the
/// write is in flight (the write of a chunk and its hashing overlap on two cores). A measurement for the write
/// path, not Berth's code: UploadService's loop is private.</item>
/// </list>
/// Each invocation is one whole upload (the blob is removed between iterations so every upload publishes).
/// </summary>
[InvocationCount(1)]
[MaxIterationCount(20)]
public class UploadCopyBenchmarks : IThroughputBenchmark
{
    public const int Size = 64 * 1024 * 1024;
    private const int BufferSize = 128 * 1024;
    private byte[] _content = [];
    private Digest _digest;
    private string _root = "";
    private FileSystemDriver _files = null!;
    private UploadService _filesUploads = null!;
    private UploadService _unsyncedUploads = null!;
    private UploadService _nullUploads = null!;

    public long BytesPerOperation => Size;

    [GlobalSetup]
    public void Setup()
    {
        _content = new byte[Size];
        new Random(42).NextBytes(_content);
        _digest = Digest.Compute(_content);
        _root = BenchDirectories.Create("upload");
        _files = new FileSystemDriver(_root, syncToDisk: true);
        _filesUploads = new UploadService(_files, new BlobService(_files));
        var unsynced = new FileSystemDriver(Path.Combine(_root, "nosync"), syncToDisk: false);
        _unsyncedUploads = new UploadService(unsynced, new BlobService(unsynced));
        var sink = new NullSinkDriver();
        _nullUploads = new UploadService(sink, new BlobService(sink));
    }

    [GlobalCleanup]
    public void Cleanup() => BenchDirectories.Delete(_root);

    [IterationCleanup(Targets = [nameof(Upload_FileSystem), nameof(Upload_FileSystem_NoFsync), nameof(Writer_FileSystem_NoHash),
        nameof(Loop_WriteThenHash), nameof(Loop_HashWhileWriting)])]
    public void RemoveBlobs()
    {
        foreach (var dir in new[] { StoragePaths.BlobsRoot, StoragePaths.RepositoriesRoot, "/plain" })
        {
            BenchDirectories.Delete(_root + dir);
            BenchDirectories.Delete(_root + "/nosync" + dir);
        }
    }

    [Benchmark]
    public async Task<long> Upload_FileSystem()
    {
        var info = await _filesUploads.UploadAsync("bench/upload", _digest, new MemoryStream(_content, writable: false));
        return info.Size;
    }

    [Benchmark]
    public async Task<long> Upload_FileSystem_NoFsync()
    {
        var info = await _unsyncedUploads.UploadAsync("bench/upload", _digest, new MemoryStream(_content, writable: false));
        return info.Size;
    }

    [Benchmark]
    public async Task<long> Upload_NullSink()
    {
        var info = await _nullUploads.UploadAsync("bench/upload", _digest, new MemoryStream(_content, writable: false));
        return info.Size;
    }

    [Benchmark]
    public async Task<long> Writer_FileSystem_NoHash()
    {
        var body = new MemoryStream(_content, writable: false);
        await using var writer = await _files.CreateWriterAsync("/plain/data", append: false);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            int read;
            while ((read = await body.ReadAsync(buffer.AsMemory(0, BufferSize))) > 0)
            {
                await writer.WriteAsync(buffer.AsMemory(0, read));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        await writer.CommitAsync();
        return writer.Size;
    }

    [Benchmark]
    public Task<Digest> Loop_WriteThenHash() => CopyAndHashAsync(overlap: false);

    [Benchmark]
    public Task<Digest> Loop_HashWhileWriting() => CopyAndHashAsync(overlap: true);

    /// <summary>Copies the body into a new filesystem writer in 128 KiB chunks, hashing each chunk after its write
    /// or while it is written, then commits and returns the digest.</summary>
    private async Task<Digest> CopyAndHashAsync(bool overlap)
    {
        var body = new MemoryStream(_content, writable: false);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var writer = await _files.CreateWriterAsync("/plain/data", append: false);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            int read;
            while ((read = await body.ReadAsync(buffer.AsMemory(0, BufferSize))) > 0)
            {
                if (overlap)
                {
                    var write = writer.WriteAsync(buffer.AsMemory(0, read));
                    hash.AppendData(buffer, 0, read);
                    await write;
                }
                else
                {
                    await writer.WriteAsync(buffer.AsMemory(0, read));
                    hash.AppendData(buffer, 0, read);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        await writer.CommitAsync();
        return Digest.FromHash(Digest.Sha256, hash.GetHashAndReset());
    }
}

/// <summary>A driver that stores nothing: writes are counted and dropped, nothing exists.</summary>
internal sealed class NullSinkDriver : IStorageDriver
{
    public string Name => "null";

    public Task<byte[]> GetContentAsync(string path, CancellationToken cancellationToken = default) => throw new PathNotFoundException(path, Name);

    public Task PutContentAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) => Task.CompletedTask;

    public Task<Stream> OpenReadAsync(string path, long offset = 0, CancellationToken cancellationToken = default) => throw new PathNotFoundException(path, Name);

    public Task<IStorageWriter> CreateWriterAsync(string path, bool append, CancellationToken cancellationToken = default) =>
        append ? throw new PathNotFoundException(path, Name) : Task.FromResult<IStorageWriter>(new Writer());

    public Task<StorageEntry> StatAsync(string path, CancellationToken cancellationToken = default) => throw new PathNotFoundException(path, Name);

    public Task<IReadOnlyList<string>> ListAsync(string path, CancellationToken cancellationToken = default) => throw new PathNotFoundException(path, Name);

    public async IAsyncEnumerable<StorageEntry> WalkAsync(string path, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.CompletedTask.ConfigureAwait(false);
        yield break;
    }

    public Task MoveAsync(string sourcePath, string destinationPath, CancellationToken cancellationToken = default) => Task.CompletedTask;

    public Task DeleteAsync(string path, CancellationToken cancellationToken = default) => Task.CompletedTask;

    private sealed class Writer : IStorageWriter
    {
        public long Size { get; private set; }

        public ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Size += buffer.Length;
            return ValueTask.CompletedTask;
        }

        public Task CommitAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task CancelAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
