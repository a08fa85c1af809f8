using System.Text;
using Berth.Storage.FileSystem;

namespace Berth.Storage.Tests.FileSystem;

/// <summary><see cref="IObjectAppender"/> on the filesystem: the object and its folders appear on the first append,
/// later appends land after earlier ones, reserved or escaping paths are refused.</summary>
public sealed class FileSystemAppendTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "berth-append-" + Guid.NewGuid().ToString("N"));
    private readonly FileSystemDriver _driver;

    public FileSystemAppendTests()
    {
        _driver = new FileSystemDriver(_root);
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public async Task FirstAppend_CreatesTheObjectAndItsFolders_LaterOnesFollow()
    {
        const string Path = "/docker/registry/v2/berth/x/y/log-1";

        Assert.True(await _driver.TryAppendAsync(Path, "one\n"u8.ToArray()));
        Assert.True(await _driver.TryAppendAsync(Path, "two\n"u8.ToArray()));

        Assert.Equal("one\ntwo\n", Encoding.ASCII.GetString(await _driver.GetContentAsync(Path)));
        Assert.Equal(8, (await _driver.StatAsync(Path)).Size);
    }

    [Fact]
    public async Task ParallelAppends_NeverInterleave()
    {
        const string Path = "/docker/registry/v2/berth/log-2";
        var lines = Enumerable.Range(0, 300).Select(i => $"line {i:000} " + new string('x', i % 50) + "\n").ToArray();

        await Task.WhenAll(lines.Select(l => Task.Run(() => _driver.TryAppendAsync(Path, Encoding.ASCII.GetBytes(l)))));

        var read = Encoding.ASCII.GetString(await _driver.GetContentAsync(Path)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(lines.Select(l => l.TrimEnd('\n')).Order(StringComparer.Ordinal), read.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("/docker/registry/v2/berth/../escape")]
    [InlineData("/docker/registry/v2/berth/.berth-tmp-x")]
    public async Task InvalidOrReservedPaths_AreRefused(string path)
    {
        await Assert.ThrowsAnyAsync<Exception>(() => _driver.TryAppendAsync(path, "x"u8.ToArray()));
        Assert.False(File.Exists(System.IO.Path.Combine(_root, "escape")));
    }
}
