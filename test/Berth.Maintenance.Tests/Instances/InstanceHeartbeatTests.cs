using System.Text.Json;
using Berth.Core.Instances;
using Berth.Maintenance.Tests.Support;
using Berth.Storage.InMemory;
using Berth.Storage.Layout;

namespace Berth.Maintenance.Tests.Instances;

public sealed class InstanceHeartbeatTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.Parse("2026-12-04T12:00:00Z");

    [Fact]
    public async Task Start_WritesHeartbeatJson_DisposeDeletesIt()
    {
        var driver = new InMemoryDriver();
        var time = new ManualTimeProvider(Start);

        var heartbeat = await InstanceHeartbeat.StartAsync(driver, "0.0.0.0:5000", time);

        using (var doc = JsonDocument.Parse(await driver.GetContentAsync(StoragePaths.Instance(heartbeat.InstanceId))))
        {
            var root = doc.RootElement;
            Assert.Equal(heartbeat.InstanceId, root.GetProperty("instanceId").GetString());
            Assert.Equal(Environment.ProcessId, root.GetProperty("pid").GetInt32());
            Assert.Equal(Environment.MachineName, root.GetProperty("hostname").GetString());
            Assert.Equal("0.0.0.0:5000", root.GetProperty("listen").GetString());
            Assert.Equal(Start, root.GetProperty("startedAt").GetDateTimeOffset());
            Assert.Equal(Start, root.GetProperty("heartbeatAt").GetDateTimeOffset());
        }
        Assert.Single(await InstanceHeartbeat.ListLiveAsync(driver, Start));

        await heartbeat.DisposeAsync();

        Assert.Empty(await InstanceHeartbeat.ListLiveAsync(driver, Start));
        await Assert.ThrowsAsync<Berth.Storage.PathNotFoundException>(() => driver.GetContentAsync(StoragePaths.Instance(heartbeat.InstanceId)));
    }

    [Fact]
    public async Task Heartbeat_IsRewrittenEveryTenSeconds_AndGoesStaleAfterThirty()
    {
        var driver = new InMemoryDriver();
        var time = new ManualTimeProvider(Start);
        await using var heartbeat = await InstanceHeartbeat.StartAsync(driver, "127.0.0.1:5000", time);

        time.Advance(TimeSpan.FromSeconds(10));
        var info = await WaitForHeartbeatAsync(driver, Start.AddSeconds(10));

        Assert.Equal(Start, info.StartedAt);
        Assert.Single(await InstanceHeartbeat.ListLiveAsync(driver, Start.AddSeconds(40)));
        Assert.Empty(await InstanceHeartbeat.ListLiveAsync(driver, Start.AddSeconds(41)));
        Assert.Empty(await InstanceHeartbeat.ListLiveAsync(driver, Start.AddSeconds(20), TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task ListLive_NoInstancesFolder_Empty()
    {
        Assert.Empty(await InstanceHeartbeat.ListLiveAsync(new InMemoryDriver(), DateTimeOffset.UtcNow));
    }

    [Fact]
    public async Task ListLive_UnreadableHeartbeat_CountsByModificationTime()
    {
        var time = new ManualTimeProvider(Start);
        var driver = new InMemoryDriver(time);
        await driver.PutContentAsync(StoragePaths.Instance("garbled"), "{not json"u8.ToArray());

        var live = Assert.Single(await InstanceHeartbeat.ListLiveAsync(driver, Start.AddSeconds(5)));

        Assert.True(live.Unreadable);
        Assert.Empty(await InstanceHeartbeat.ListLiveAsync(driver, Start.AddMinutes(5)));
    }

    private static async Task<InstanceInfo> WaitForHeartbeatAsync(InMemoryDriver driver, DateTimeOffset expected)
    {
        for (var i = 0; i < 200; i++)
        {
            var live = await InstanceHeartbeat.ListLiveAsync(driver, expected);
            if (live.Count == 1 && live[0].HeartbeatAt == expected)
            {
                return live[0];
            }
            await Task.Delay(10);
        }
        throw new TimeoutException("the heartbeat was not rewritten");
    }
}
