using System.Net;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Storage;

/// <summary>
/// The gateway's SQLite database on a small tmpfs that a filler file fills during a stream of new requests: the
/// ingress refuses with 503 while the disk is full, <c>/healthz</c> says why, nothing accepted is lost, and when the
/// filler is deleted the gateway takes requests again by itself and sends what was waiting, once.
/// </summary>
[NonParallelizable]
public sealed class DiskFullTests
{
    [Test]
    public async Task A_full_disk_refuses_new_input_with_503_loses_nothing_accepted_and_recovers_without_a_restart()
    {
        // Room for the log's working set: SQLite keeps the write-ahead log file at the largest size it reached and
        // reuses it, and an unpaced stream of requests with files writes several MiB between two background checkpoints
        // on a fast machine. On 8 MiB, the log took back the space that was freed and the probe waited for room for good.
        await using var disk = await SmallDisk.MountAsync(megabytes: 64);
        await using var bot = new FakeBotApi();
        using var gateway = new GatewayFactory(StorageOutageScenario.Settings(bot, $"Data Source={Path.Combine(disk.Path, "gateway.db")}"));
        await using var scenario = new StorageOutageScenario(gateway, bot);
        scenario.Start();
        await scenario.SeenAsync(accepted: true, count: 3, since: 0, "requests accepted before the disk fills");

        var filled = disk.Fill();
        Assert.That(disk.FreeBytes, Is.LessThan(4096), $"the filler ({filled} bytes) left no room");
        var fullFrom = scenario.Rounds;
        await scenario.SeenAsync(accepted: false, count: 3, since: fullFrom, "503s once the disk is full");
        var (status, storage) = await scenario.HealthAsync();
        Assert.That(status, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(storage, Does.StartWith("storage: unavailable (sqlite: disk full"));
        Assert.That(storage, Does.Contain("new input refused with 503").And.Not.Contain(disk.Path), "the reason, not the database's path");
        // The probe tries again and again while the disk stays full (a small write could still fit in the log) and keeps it refused.
        await Eventually.HoldsAsync(async () => (await scenario.HealthAsync()).Storage.Contains("KiB free on the database's file system", StringComparison.Ordinal),
            15, () => "the probe found no room");
        await scenario.SeenAsync(accepted: false, count: 5, since: fullFrom, "still 503s while the disk is full");

        disk.Free();
        await Eventually.HoldsAsync(async () => (await scenario.HealthAsync()).Storage.StartsWith("storage: up", StringComparison.Ordinal), 30,
            () => "the probe sees the space back");
        var freedFrom = scenario.Rounds;
        await scenario.SeenAsync(accepted: true, count: 3, since: freedFrom, "requests accepted again, without a restart");
        await scenario.StopAsync();

        TestContext.Out.WriteLine(scenario.Summary());
        scenario.AssertRefusals("disk full");
        await scenario.AssertNothingLostAsync(disk.Path);
        Assert.That((await scenario.HealthAsync()).Status, Is.EqualTo(HttpStatusCode.OK));
    }
}
