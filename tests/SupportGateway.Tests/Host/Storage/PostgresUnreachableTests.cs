using System.Net;
using Npgsql;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Storage;

/// <summary>
/// The gateway on PostgreSQL through a loopback relay that the test closes (every connection cut, new ones refused)
/// during a stream of new requests and opens again on the same port: the server out of reach, as when it is stopped
/// and started, without stopping the cluster other tests use.
/// </summary>
[NonParallelizable]
public sealed class PostgresUnreachableTests
{
    [Test]
    public async Task A_database_server_out_of_reach_refuses_new_input_with_503_loses_nothing_accepted_and_recovers_when_back()
    {
        await using var database = await TestDatabase.CreateAsync(StorageEngine.Postgres);
        var target = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        var relay = new TcpRelay(target.Host!, target.Port);
        var port = relay.Port;
        var through = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Host = "127.0.0.1", Port = port, Timeout = 5 };
        await using var bot = new FakeBotApi();
        var settings = StorageOutageScenario.Settings(bot, through.ConnectionString);
        settings["SupportGateway:Storage:Provider"] = "postgresql";
        try
        {
            using var gateway = new GatewayFactory(settings);
            await using var scenario = new StorageOutageScenario(gateway, bot);
            scenario.Start();
            await scenario.SeenAsync(accepted: true, count: 3, since: 0, "requests accepted before the server goes away");

            await relay.DisposeAsync();
            var goneFrom = scenario.Rounds;
            await scenario.SeenAsync(accepted: false, count: 3, since: goneFrom, "503s while the server is out of reach");
            var (status, storage) = await scenario.HealthAsync();
            Assert.That(status, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
            Assert.That(storage, Does.StartWith("storage: unavailable (postgresql: server unreachable"));
            Assert.That(storage, Does.Not.Contain(target.Database!).And.Not.Contain(port.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                "no connection string");

            relay = new TcpRelay(target.Host!, target.Port, port);
            await Eventually.HoldsAsync(async () => (await scenario.HealthAsync()).Storage.StartsWith("storage: up", StringComparison.Ordinal), 30,
                () => "the probe reaches the server again");
            var backFrom = scenario.Rounds;
            await scenario.SeenAsync(accepted: true, count: 3, since: backFrom, "requests accepted again, without a restart");
            await scenario.StopAsync();

            TestContext.Out.WriteLine(scenario.Summary());
            scenario.AssertRefusals("server unreachable");
            await scenario.AssertNothingLostAsync(() => new NpgsqlConnection(database.ConnectionString));
        }
        finally
        {
            await relay.DisposeAsync();
        }
    }
}
