using Microsoft.Extensions.DependencyInjection;
using SupportGateway.Core.Outbox;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.WhatsApp;

/// <summary>
/// What both providers' scenarios share: a gateway per test with one provider on against its double, an agents'
/// notifier read straight from the outbox, and the hooks a fixture uses for its clock and extra settings.
/// </summary>
public abstract class WhatsAppScenario
{
    private protected GatewayFactory Gateway = null!;
    private protected HttpClient Agent = null!;

    /// <summary>A clock a window test moves by hand; the real one otherwise (retry backoff needs time to pass).</summary>
    private protected virtual TimeProvider? Clock => null;

    /// <summary>Further settings of a fixture (templates).</summary>
    private protected virtual IEnumerable<KeyValuePair<string, string?>> Settings => [];

    /// <summary>Starts the provider's double and gives the gateway's settings for it.</summary>
    private protected abstract Dictionary<string, string?> StartProvider();

    private protected abstract ValueTask StopProviderAsync();

    /// <summary>What the gateway queued for the agents (<see cref="TeamNotifier"/>): their messages' texts.</summary>
    private protected Task<IReadOnlyList<string>> TeamNoticesAsync() => DbProbe.ListAsync<string>(Gateway.Directory,
        "SELECT m.text FROM outbox o JOIN messages m ON m.id = o.message_id WHERE o.channel = @channel ORDER BY o.id", new { channel = TeamNotifier.ChannelName });

    [SetUp]
    public void StartGateway()
    {
        // Files that failed to download are tried again within a test's patience.
        var retries = new Dictionary<string, string?>
        {
            ["SupportGateway:FileRetries:FirstRetryDelay"] = "00:00:00.200",
            ["SupportGateway:FileRetries:MaxRetryDelay"] = "00:00:00.400",
            ["SupportGateway:FileRetries:PollInterval"] = "00:00:00.100",
        };
        Gateway = new GatewayFactory(StartProvider().Concat(retries).Concat(Settings).ToDictionary(), time: Clock,
            services: s => s.AddSingleton<IAgentNotifier, TeamNotifier>());
        Agent = Gateway.Agent();
    }

    [TearDown]
    public async Task StopGateway()
    {
        Agent.Dispose();
        Gateway.Dispose();
        await StopProviderAsync();
    }
}
