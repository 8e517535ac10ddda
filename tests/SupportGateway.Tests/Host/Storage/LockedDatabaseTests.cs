using System.Net;
using Microsoft.Data.Sqlite;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Storage;

/// <summary>
/// Another process's connection holds <c>BEGIN EXCLUSIVE</c> on the gateway's SQLite file for longer than the busy
/// timeout (1 s here, the connection string's Default Timeout) during a stream of new requests, then lets go.
/// </summary>
[NonParallelizable]
public sealed class LockedDatabaseTests
{
    [Test]
    public async Task A_database_locked_elsewhere_refuses_new_input_with_503_loses_nothing_accepted_and_recovers_when_released()
    {
        await using var bot = new FakeBotApi();
        var directory = TempDirectory.Create();
        var file = Path.Combine(directory, "gateway.db");
        try
        {
            using var gateway = new GatewayFactory(StorageOutageScenario.Settings(bot, $"Data Source={file};Default Timeout=1"));
            await using var scenario = new StorageOutageScenario(gateway, bot);
            scenario.Start();
            await scenario.SeenAsync(accepted: true, count: 3, since: 0, "requests accepted before the lock");

            await using (var other = new SqliteConnection($"Data Source={file};Pooling=False"))
            {
                await other.OpenAsync();
                await using (var begin = other.CreateCommand())
                {
                    begin.CommandText = "BEGIN EXCLUSIVE";
                    await begin.ExecuteNonQueryAsync();
                }
                var lockedFrom = scenario.Rounds;
                await scenario.SeenAsync(accepted: false, count: 3, since: lockedFrom, "503s while the lock is held");
                var (status, storage) = await scenario.HealthAsync();
                Assert.That(status, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
                Assert.That(storage, Does.StartWith("storage: unavailable (sqlite: database locked by another connection"));
                await using var commit = other.CreateCommand();
                commit.CommandText = "COMMIT";
                await commit.ExecuteNonQueryAsync();
            }

            await Eventually.HoldsAsync(async () => (await scenario.HealthAsync()).Storage.StartsWith("storage: up", StringComparison.Ordinal), 30,
                () => "the probe's write goes through once the lock is released");
            var releasedFrom = scenario.Rounds;
            await scenario.SeenAsync(accepted: true, count: 3, since: releasedFrom, "requests accepted again, without a restart");
            await scenario.StopAsync();

            TestContext.Out.WriteLine(scenario.Summary());
            scenario.AssertRefusals("database locked");
            await scenario.AssertNothingLostAsync(directory);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            TempDirectory.Delete(directory);
        }
    }
}
