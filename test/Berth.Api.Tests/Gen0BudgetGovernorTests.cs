using Berth.Api.Hosting;
using Berth.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace Berth.Api.Tests;

/// <summary>
/// The server's generation-0 budget: the runtime sizes its own from the CPU cache (hundreds of MiB on a VM that
/// reports a large L3), so the server asks for a collection itself once it has allocated its budget.
/// </summary>
public sealed class Gen0BudgetGovernorTests : RegistryTestBase<InMemoryDriverFactory>
{
    private static volatile byte[]? _sink;

    [Fact]
    public async Task AllocatingPastTheBudget_InducesGeneration0Collections()
    {
        using var governor = new Gen0BudgetGovernor(new ServerOptions { Gen0BudgetBytes = 1024 * 1024 }, NullLogger<Gen0BudgetGovernor>.Instance);
        Assert.True(governor.Enabled);
        await governor.StartAsync(CancellationToken.None);
        try
        {
            // 2 MiB of garbage, then a pause longer than the governor's interval: unless the runtime collected
            // by itself in that step, the governor sees its 1 MiB budget used up.
            for (var step = 0; step < 100 && governor.InducedCollections == 0; step++)
            {
                for (var i = 0; i < 64; i++)
                {
                    _sink = new byte[32 * 1024];
                }
                await Task.Delay(Gen0BudgetGovernor.Interval * 3);
            }
            Assert.True(governor.InducedCollections > 0, "no generation-0 collection was induced after 100 steps of 2 MiB");
        }
        finally
        {
            await governor.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task ZeroBudget_LeavesTheRuntimeAlone()
    {
        using var governor = new Gen0BudgetGovernor(new ServerOptions { Gen0BudgetBytes = 0 }, NullLogger<Gen0BudgetGovernor>.Instance);
        Assert.False(governor.Enabled);
        await governor.StartAsync(CancellationToken.None);
        for (var i = 0; i < 256; i++)
        {
            _sink = new byte[32 * 1024];
        }
        await Task.Delay(Gen0BudgetGovernor.Interval * 5);
        Assert.Equal(0, governor.InducedCollections);
        await governor.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task DisposedWithoutStop_StopsItsThreadFirst()
    {
        // A host disposed without StopAsync used to dispose the token under the running thread, whose next wait
        // threw ObjectDisposedException on a thread of its own: the process crashed (seen in CI, 2026-12-05).
        var governor = new Gen0BudgetGovernor(new ServerOptions { Gen0BudgetBytes = 1024 * 1024 }, NullLogger<Gen0BudgetGovernor>.Instance);
        await governor.StartAsync(CancellationToken.None);
        governor.Dispose();
        governor.Dispose();
        await Task.Delay(Gen0BudgetGovernor.Interval * 3);
        await governor.StopAsync(CancellationToken.None);
    }

    [Fact]
    public void TheServer_RunsTheGovernorWithItsConfiguredBudget()
    {
        var governor = Services.GetRequiredService<Gen0BudgetGovernor>();
        Assert.Contains(Services.GetServices<IHostedService>(), s => ReferenceEquals(s, governor));
        Assert.Equal(Environment.GetEnvironmentVariable("DOTNET_GCgen0size") is null or "", governor.Enabled);
    }
}
