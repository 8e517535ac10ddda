using SupportGateway.Core.Tickets;

namespace SupportGateway.Core.Pipeline.Filters;

/// <summary>
/// A message already on a ticket, arriving again in another envelope: Telegram repeats a message under a new
/// update_id, and a provider's retry can carry a MessageSid or wamid stored before. The stored payload differs, so the
/// inbound table's unique key lets it through; the message's own id must not, or the writer meets the messages' unique
/// key and the repeat is parked as a failure. It is dropped as the duplicate it is, on the ticket it repeats.
/// </summary>
public sealed class DuplicateFilter(MessageStore messages, TicketStore tickets) : IInboundFilter
{
    public int Order => 100;

    public async ValueTask RunAsync(InboundContext context, CancellationToken cancellationToken)
    {
        var message = context.Message;
        if (await messages.TicketOfExternalIdAsync(context.Session, message.Channel, message.ExternalId, cancellationToken) is not { } ticketId)
            return;
        context.Ticket = await tickets.GetAsync(context.Session, ticketId, cancellationToken);
        context.DroppedBecause = $"duplicate of message {message.ExternalId}, already on the ticket";
    }
}
