using SupportGateway.Core.Tickets;

namespace SupportGateway.Core.Pipeline.Filters;

/// <summary>
/// Decides whether a message continues an existing ticket. In order: an explicit ticket number,
/// then the channel's reply references, then the conversation's active ticket. Each one counts only
/// when the sender takes part in that ticket; anything else opens a new request.
/// </summary>
public sealed class FollowUpFilter(TicketStore tickets, TicketNumberFormat numbers, Microsoft.Extensions.Options.IOptions<TicketOptions> options,
    TimeProvider time) : IInboundFilter
{
    public int Order => 500;

    public async ValueTask RunAsync(InboundContext context, CancellationToken cancellationToken)
    {
        if (context.Automatic is not null)
            return;
        await FindAsync(context, cancellationToken);
        var message = context.Message;
        if (context.Ticket is null && !message.Hints.StartNew && message.Hints.ConversationKey is { } key
            && (message.Verdict != CustomerVerdict.None || Gratitude.IsGratitude(message.Text))
            && await tickets.FindLastSettledInConversationAsync(context.Session, message.Channel, key, cancellationToken) is { } settled
            && await MayContinueAsync(context, settled, context.ContactId!.Value, cancellationToken))
        {
            // "Спасибо" after the answer belongs to the ticket it thanks for, not to a new one.
            context.Ticket = settled;
            return;
        }
        // A ticket closed longer ago than the reopen window stays closed: the message opens a new one that links to it.
        if (context.Ticket is { ClosedAt: { } closedAt } closed && closed.StatusValue == TicketStatus.Closed && !Gratitude.IsGratitude(message.Text)
            && time.GetUtcNow().ToUnixTimeMilliseconds() - closedAt > (long)options.Value.ReopenWindow.TotalMilliseconds)
        {
            context.Ticket = null;
            context.LinkedTo = closed;
            context.RoutingNote = $"follows up {closed.Number}, closed on {DateTimeOffset.FromUnixTimeMilliseconds(closedAt):yyyy-MM-dd}, too long ago to reopen";
        }
    }

    /// <summary>A participant, or a colleague from the ticket's organisation by its configured mail domain.</summary>
    private async Task<bool> MayContinueAsync(InboundContext context, TicketRow ticket, long contactId, CancellationToken cancellationToken) =>
        (context.DomainOrganisationId is { } organisation && ticket.OrganisationId == organisation)
        || await tickets.IsParticipantAsync(context.Session, ticket.Id, contactId, cancellationToken);

    private async Task FindAsync(InboundContext context, CancellationToken cancellationToken)
    {
        var message = context.Message;
        var hints = message.Hints;
        var contactId = context.ContactId ?? throw new InvalidOperationException("The sender filter must run before follow-up detection.");
        if (hints.StartNew)
            return;

        var explicitSeq = numbers.FindFirst(hints.TicketNumber) ?? numbers.FindFirst(message.Subject) ?? numbers.FindFirst(message.Text);
        if (explicitSeq is { } seq && await tickets.GetAsync(context.Session, seq, cancellationToken) is { } numbered)
        {
            if (await MayContinueAsync(context, numbered, contactId, cancellationToken))
            {
                context.Ticket = numbered;
                return;
            }
            context.RoutingNote = $"{numbered.Number} was named by someone who is not a participant; opened as a new request.";
        }

        if (await tickets.FindByMessageExternalIdAsync(context.Session, message.Channel, hints.ReplyTo, cancellationToken) is { } replied
            && await MayContinueAsync(context, replied, contactId, cancellationToken))
        {
            context.Ticket = replied;
            return;
        }

        if (hints.ConversationKey is { } key
            && await tickets.FindActiveInConversationAsync(context.Session, message.Channel, key, cancellationToken) is { } active
            && await MayContinueAsync(context, active, contactId, cancellationToken))
        {
            context.Ticket = active;
        }
    }
}
