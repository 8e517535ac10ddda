using SupportGateway.Core.Contacts;
using SupportGateway.Core.Storage;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Core.Outbox;

/// <summary>
/// The customer cannot be reached on a channel any more (a blocked bot, a number not on WhatsApp, a permanent
/// delivery failure reported later by the provider): the identity is marked so, and the agents read it on the ticket
/// and in their notifications, so they can reach the customer another way. Once, until the customer writes again and
/// is reachable again. One piece for the outbox's refused sends and every provider's late failure reports.
/// </summary>
public sealed class Unreachability(ContactStore contacts, AgentNotice notice)
{
    /// <summary>Marks <paramref name="recipient"/> unreachable on <paramref name="channel"/>; false when it already was (nobody is told twice).</summary>
    public async Task<bool> MarkAsync(DbSession session, TicketRow ticket, string channel, string recipient, string reason, long now,
        CancellationToken cancellationToken)
    {
        if (!await contacts.MarkUnreachableAsync(session, channel, recipient, reason, now, cancellationToken))
            return false;
        var text = $"Not delivered on {channel} to {recipient}: {reason}. The customer is marked unreachable there until they write again; " +
            "please contact them another way.\n" +
            $"Не доставлено через {channel} ({recipient}): {reason}. Клиент недоступен в этом канале, пока не напишет снова; свяжитесь с ним иначе.";
        await notice.PostAsync(session, ticket, new AgentNoticeText(channel, text, "contact_unreachable", channel, recipient), now, cancellationToken);
        return true;
    }
}
