using SupportGateway.Core.Tickets;

namespace SupportGateway.Core.Pipeline.Filters;

/// <summary>
/// Loop protection. Auto-replies and delivery failures never open a ticket and are never acknowledged: when they
/// name a message of a ticket (In-Reply-To/References, or the original inside a bounce) they are recorded there,
/// otherwise dropped. Mail we sent ourselves coming back is dropped too.
/// </summary>
public sealed class AutomaticMailFilter(TicketStore tickets) : IInboundFilter
{
    public int Order => 350;

    public async ValueTask RunAsync(InboundContext context, CancellationToken cancellationToken)
    {
        var message = context.Message;
        if (await tickets.IsOwnOutboundAsync(context.Session, message.ExternalId, cancellationToken))
        {
            context.DroppedBecause = "mail this gateway sent came back in";
            return;
        }
        if (!message.IsAutoSubmitted && !message.IsBounce)
            return;
        context.Automatic = message.IsBounce ? AutomaticKind.DeliveryFailure : AutomaticKind.AutoReply;
        // No participant check: the record changes nothing, and a bounce comes from a mail server, not a participant.
        context.Ticket = await tickets.FindByMessageExternalIdAsync(context.Session, message.Channel, message.Hints.ReplyTo, cancellationToken);
        if (context.Ticket is null)
            context.DroppedBecause = message.IsBounce ? "a delivery failure about no known ticket" : "an automatic reply about no known ticket";
    }
}
