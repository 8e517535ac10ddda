using SupportGateway.Core.Storage;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Core.Outbox;

/// <summary>What the agents must read about a ticket's delivery: an internal note on the ticket, an audit entry, and the note queued to every agents' notifier (their mail, in the ticket's thread).</summary>
public sealed record AgentNoticeText(string Channel, string Text, string Action, string? OldValue, string? NewValue);

/// <summary>
/// Tells the agents something the system found about a ticket's delivery, in the caller's transaction, so the note
/// and their mail exist exactly when the state change that caused them does.
/// </summary>
public sealed class AgentNotice(OutboxStore outbox, TicketStore tickets, MessageStore messages, IEnumerable<IAgentNotifier> notifiers)
{
    /// <param name="quietChannel">A notifier channel not to use: the one whose own failure this notice reports, so a
    /// broken agents' mailbox does not queue a notice about each notice.</param>
    public async Task PostAsync(DbSession session, TicketRow ticket, AgentNoticeText notice, long now, CancellationToken cancellationToken,
        string? quietChannel = null)
    {
        var id = await messages.InsertAsync(session, new MessageRow
        {
            TicketId = ticket.Id, Direction = "out", AuthorKind = "system", Author = "system", Channel = notice.Channel, Text = notice.Text,
            Internal = true, CreatedAt = now,
        }, cancellationToken);
        await tickets.AuditAsync(session, new AuditRow
        {
            TicketId = ticket.Id, At = now, Actor = "system", Action = notice.Action, OldValue = notice.OldValue, NewValue = notice.NewValue,
        }, cancellationToken);
        foreach (var notifier in notifiers.Where(n => n.Channel != quietChannel))
        {
            foreach (var recipient in notifier.Recipients(ticket))
                await outbox.EnqueueAsync(session, id, ticket.Id, notifier.Channel, ticket.Account, recipient, now, cancellationToken);
        }
    }
}
