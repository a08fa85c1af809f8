using Berth.Commands;
using Berth.Storage.FileSystem;
using Berth.Storage.Layout;

namespace Berth.Tests;

public sealed class DoctorPathDiagnoserTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "berth-diag-" + Guid.NewGuid().ToString("N"));

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task DiagnoseAsync_ClassifiesEachFailingPath()
    {
        var driver = new FileSystemDriver(_root);
        await driver.PutContentAsync(StoragePaths.TagCurrentLink("group/sub/app", "empty"), Array.Empty<byte>());
        await driver.PutContentAsync(StoragePaths.TagCurrentLink("group/sub/app", "garbage"), "not a digest"u8.ToArray());

        var classes = await new DoctorPathDiagnoser(driver).DiagnoseAsync(
            ["/v2/group/sub/app/manifests/empty", "/v2/group/sub/app/manifests/garbage", "/v2/group/sub/app/manifests/missing"],
            CancellationToken.None);

        Assert.Equal("tag-link-empty", classes["/v2/group/sub/app/manifests/empty"]);
        Assert.Equal("tag-link-invalid", classes["/v2/group/sub/app/manifests/garbage"]);
        Assert.Equal("not-found", classes["/v2/group/sub/app/manifests/missing"]);
    }
}
