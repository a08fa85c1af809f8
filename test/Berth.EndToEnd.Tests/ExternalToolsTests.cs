using Berth.EndToEnd.Tests.Infrastructure;

namespace Berth.EndToEnd.Tests;

public sealed class ExternalToolsTests
{
    [Fact]
    public void MissingTool_FailsWithTheInstallCommand()
    {
        var e = Assert.Throws<InvalidOperationException>(() => ExternalTools.Require("berth-e2e-no-such-tool"));
        Assert.Contains("apt-get install skopeo docker-registry", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BerthDll_IsFoundForThisConfiguration()
    {
        Assert.True(File.Exists(BerthBinary.Dll));
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("BERTH_E2E_DLL")))
        {
            Assert.Contains(Path.Combine("bin", BerthBinary.Configuration, "net10.0"), BerthBinary.Dll, StringComparison.Ordinal);
        }
    }
}
