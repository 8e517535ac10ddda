using SupportGateway.Core.Outbox;
using SupportGateway.Host.Agents;

namespace SupportGateway.Host.Channels.WebChat;

/// <summary>
/// Pushes answers to the visitor's open widgets, on whichever instance they are open (<see cref="WebChatRelay"/>). The
/// message is already in the history, so a closed widget loses nothing.
/// </summary>
internal sealed class WebChatSender(WebChatRelay relay) : IOutboundSender
{
    public string Channel => WebChatNormalizer.Channel;

    public async Task<DeliveryReceipt> SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        await relay.DeliverAsync(message, cancellationToken);
        return new DeliveryReceipt(null);
    }
}

public sealed record WebChatEvent(string TicketNumber, string Status, MessageDto Message);
