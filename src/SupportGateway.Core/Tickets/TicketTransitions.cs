using Microsoft.Extensions.Options;
using SupportGateway.Core.Contacts;
using SupportGateway.Core.Outbox;
using SupportGateway.Core.Sla;
using SupportGateway.Core.Storage;

namespace SupportGateway.Core.Tickets;

/// <summary>
/// Every status change goes through here, whoever makes it (an agent, the customer, the scheduler): the row, the
/// audit, the SLA columns, and what the customer is told (the resolution prompt, the closure notice).
/// </summary>
public sealed class TicketTransitions(TicketStore tickets, MessageStore messages, OutboxStore outbox, ContactStore contacts,
    SlaTracker sla, IOptions<TicketOptions> options, IEnumerable<ICustomerMail> customerMail, TicketEvents events)
{
    /// <summary>Marks the outbound message that asks the customer to confirm a resolution; channels with buttons add them.</summary>
    public const string PromptKey = "sg.prompt";

    public const string ResolutionPrompt = "resolution";

    private readonly ICustomerMail[] _customerMail = [.. customerMail];

    /// <summary>Moves the ticket to <paramref name="status"/>; <paramref name="autoClosed"/> words the closure notice for a ticket that closed by itself.</summary>
    public async Task<TicketRow> SetStatusAsync(DbSession session, TicketRow ticket, TicketStatus status, TicketResolution? resolution,
        string actor, long now, CancellationToken cancellationToken, bool autoClosed = false)
    {
        var updated = ticket with
        {
            Status = WireName.Of(status),
            Resolution = status == TicketStatus.Resolved ? WireName.Of(resolution!.Value) : status == TicketStatus.Closed ? ticket.Resolution : null,
            ResolvedAt = status == TicketStatus.Resolved ? now : status == TicketStatus.Closed ? ticket.ResolvedAt : null,
            ClosedAt = status == TicketStatus.Closed ? now : null,
            UpdatedAt = now,
        };
        await tickets.AuditAsync(session, Audit(ticket.Id, now, actor, "status_changed", ticket.Status, updated.Status), cancellationToken);
        if (updated.Resolution != ticket.Resolution)
            await tickets.AuditAsync(session, Audit(ticket.Id, now, actor, "resolution_changed", ticket.Resolution, updated.Resolution), cancellationToken);
        await tickets.UpdateAsync(session, updated, cancellationToken);
        var (_, due) = await sla.RecomputeAsync(session, updated, now, cancellationToken);
        if (status == TicketStatus.Resolved)
            await TellCustomerAsync(session, updated,
                TicketOptions.Fill(resolution == TicketResolution.Declined ? options.Value.DeclineNotice : options.Value.ResolutionNotice, updated), $"{{\"{PromptKey}\":\"{ResolutionPrompt}\"}}", now, alsoByMail: false, cancellationToken);
        if (status == TicketStatus.Closed)
        {
            var notice = TicketOptions.Fill(autoClosed ? options.Value.AutoClosureNotice : options.Value.ClosureNotice, updated);
            await TellCustomerAsync(session, updated, notice, null, now, alsoByMail: true, cancellationToken);
        }
        await events.RaiseAsync(session, updated, TicketEvent.StatusChanged, null, now, cancellationToken);
        return updated with { SlaDueAt = due };
    }

    /// <summary>After a priority change: the due time is recomputed from registration with the new target, and the audit says so.</summary>
    public async Task<TicketRow> RecomputeAfterPriorityAsync(DbSession session, TicketRow ticket, string actor, long now, CancellationToken cancellationToken)
    {
        var (before, after) = await sla.RecomputeAsync(session, ticket, now, cancellationToken);
        if (before != after)
            await tickets.AuditAsync(session, Audit(ticket.Id, now, actor, "sla_due_changed", Iso(before), Iso(after)), cancellationToken);
        return ticket with { SlaDueAt = after };
    }

    /// <summary>
    /// A system message to the customer on the ticket's channel; a closure notice also goes by e-mail when the
    /// ticket came by another channel and its requester gave an address.
    /// </summary>
    private async Task TellCustomerAsync(DbSession session, TicketRow ticket, string text, string? details, long now, bool alsoByMail,
        CancellationToken cancellationToken)
    {
        var recipients = new List<(string Channel, string? Account, string Address)>();
        if (ticket.ReplyAddress is { } address)
            recipients.Add((ticket.Channel, ticket.Account, address));
        if (alsoByMail && _customerMail.FirstOrDefault(m => m.Available) is { } mail && mail.Channel != ticket.Channel
            && (await contacts.GetAsync(session, ticket.RequesterId, cancellationToken))?.Email is { Length: > 0 } email && email.Contains('@'))
            recipients.Add((mail.Channel, null, email));
        if (recipients.Count == 0)
            return;
        var id = await messages.InsertAsync(session, new MessageRow
        {
            TicketId = ticket.Id, Direction = "out", AuthorKind = "system", Author = "system", Channel = ticket.Channel, Text = text, CreatedAt = now,
            TechnicalDetails = details,
        }, cancellationToken);
        foreach (var (channel, account, recipient) in recipients)
            await outbox.EnqueueAsync(session, id, ticket.Id, channel, account, recipient, now, cancellationToken);
    }

    private static string? Iso(long? ms) => ms is { } v ? DateTimeOffset.FromUnixTimeMilliseconds(v).ToString("O", System.Globalization.CultureInfo.InvariantCulture) : null;

    private static AuditRow Audit(long ticketId, long at, string actor, string action, string? oldValue, string? newValue) =>
        new() { TicketId = ticketId, At = at, Actor = actor, Action = action, OldValue = oldValue, NewValue = newValue };
}
