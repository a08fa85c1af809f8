using Berth.Api.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Api.Tests;

/// <summary>
/// The host's own configuration files: ASP.NET Core adds <c>appsettings.json</c> with reload-on-change, which
/// starts a recursive FileSystemWatcher on the content root (the working directory). Berth reads its
/// configuration from Distribution's config.yml, so a watcher only costs: every file written under the
/// working directory (the default storage root <c>./data</c>, a pull into <c>dir:</c> there) became inotify
/// events and stat calls in the registry process.
/// </summary>
public sealed class HostConfigurationTests : RegistryTestBase<InMemoryDriverFactory>
{
    [Fact]
    public void ConfigurationFiles_AreNotWatchedForChanges()
    {
        var root = (IConfigurationRoot)Services.GetRequiredService<IConfiguration>();
        var watched = root.Providers.OfType<FileConfigurationProvider>()
            .Where(p => p.Source.ReloadOnChange)
            .Select(p => p.Source.Path)
            .ToList();
        Assert.Empty(watched);
    }
}
