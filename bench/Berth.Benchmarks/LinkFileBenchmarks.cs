using BenchmarkDotNet.Attributes;
using Berth.Storage.FileSystem;
using Berth.Storage.InMemory;
using Berth.Storage.Layout;

namespace Berth.Benchmarks;

/// <summary>
/// Link files: decoding the bytes, and a whole read through a driver (what a blob HEAD/GET and a manifest
/// GET by tag do). The filesystem driver works on a fresh folder under /var/tmp (BERTH_BENCH_DIR overrides).
/// A missing link is read too: drivers report it with an exception.
/// </summary>
public class LinkFileBenchmarks
{
    private readonly InMemoryDriver _memory = new();
    private FileSystemDriver _files = null!;
    private string _root = "";
    private string _present = "";
    private string _missing = "";

    [GlobalSetup]
    public void Setup()
    {
        _root = BenchDirectories.Create("linkfile");
        _files = new FileSystemDriver(_root, syncToDisk: false);
        _present = StoragePaths.LayerLink(Samples.Repository, Samples.Digest);
        _missing = StoragePaths.RevisionLink(Samples.Repository, Samples.Digest);
        LinkFile.WriteAsync(_memory, _present, Samples.Digest).GetAwaiter().GetResult();
        LinkFile.WriteAsync(_files, _present, Samples.Digest).GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup() => BenchDirectories.Delete(_root);

    [Benchmark]
    public LinkFile.Result Decode() => LinkFile.Decode(Samples.LinkBytes);

    [Benchmark]
    public byte[] Encode() => LinkFile.Encode(Samples.Digest);

    [Benchmark]
    public Task<LinkFile.Result> Read_InMemory() => LinkFile.ReadAsync(_memory, _present);

    [Benchmark]
    public Task<LinkFile.Result> Read_FileSystem() => LinkFile.ReadAsync(_files, _present);

    [Benchmark]
    public Task<LinkFile.Result> ReadMissing_InMemory() => LinkFile.ReadAsync(_memory, _missing);

    [Benchmark]
    public Task<LinkFile.Result> ReadMissing_FileSystem() => LinkFile.ReadAsync(_files, _missing);
}

internal static class BenchDirectories
{
    /// <summary>A fresh folder for one benchmark class: $BERTH_BENCH_DIR or /var/tmp, then berth-microbench-&lt;name&gt;-&lt;pid&gt;.</summary>
    public static string Create(string name)
    {
        var parent = Environment.GetEnvironmentVariable("BERTH_BENCH_DIR") is { Length: > 0 } p ? p : "/var/tmp";
        var dir = Path.Combine(parent, $"berth-microbench-{name}-{Environment.ProcessId}");
        Delete(dir);
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static void Delete(string dir)
    {
        if (dir.Length > 0 && Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
