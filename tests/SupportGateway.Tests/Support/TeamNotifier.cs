using SupportGateway.Core.Outbox;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Tests.Support;

/// <summary>
/// An agents' notifier on a channel no sender serves: what the gateway queues for the agents stays in the outbox,
/// where a test reads it, without a mail server.
/// </summary>
internal sealed class TeamNotifier : IAgentNotifier
{
    public const string ChannelName = "team-test";
    public const string Address = "team@support.example";

    public string Channel => ChannelName;

    public IReadOnlyList<string> Recipients(TicketRow ticket) => [Address];
}
