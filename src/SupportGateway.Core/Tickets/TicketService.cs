using SupportGateway.Core.Contacts;
using SupportGateway.Core.Outbox;
using SupportGateway.Core.Pipeline;
using SupportGateway.Core.Storage;

namespace SupportGateway.Core.Tickets;

public enum CommandStatus { Ok, NotFound, Invalid, Conflict }

public sealed record CommandResult(CommandStatus Status, TicketRow? Ticket = null, long? MessageId = null, string? Error = null, string? Field = null)
{
    public static CommandResult NotFound(string number) => new(CommandStatus.NotFound, Error: $"Ticket {number} does not exist.");
}

/// <summary>What an agent may change with one call; null leaves a field as it is, an empty assignee clears it.</summary>
public sealed record TicketChanges(TicketStatus? Status = null, TicketResolution? Resolution = null, TicketPriority? Priority = null,
    TicketType? Type = null, string? Assignee = null);

public enum Participation { NoTicket, NotParticipant, Participant }

/// <summary>
/// A ticket as read; <see cref="Customers"/> are the contacts its audit trail names (<c>customer:ID</c>);
/// <see cref="FailedDeliveries"/> the deliveries given up (read with the internal view only).
/// </summary>
public sealed record TicketView(TicketRow Ticket, ContactRow? Requester, IReadOnlyList<MessageRow> Messages,
    IReadOnlyList<AttachmentRow> Attachments, IReadOnlyList<AuditRow> Audit, IReadOnlyList<ContactRow>? Customers = null,
    IReadOnlyList<OutboxRow>? FailedDeliveries = null);

/// <summary>What agents do to tickets: read, reply, change fields. Every change lands in the audit trail.</summary>
public sealed class TicketService(Database database, TicketStore tickets, MessageStore messages, ContactStore contacts,
    OutboxStore outbox, TicketNumberFormat numbers, TicketTransitions transitions, TicketEvents events, TimeProvider time)
{
    /// <summary>The audit actor of a customer: this prefix and the contact's id.</summary>
    public const string CustomerActor = "customer:";

    public async Task<TicketRow?> FindAsync(SqlScope db, string number, CancellationToken cancellationToken) =>
        numbers.TryParse(number, out var seq) ? await tickets.GetAsync(db, seq, cancellationToken) : null;

    /// <summary>Whether the channel identity takes part in the ticket: the gate for follow-ups by explicit number.</summary>
    public async Task<(Participation Participation, TicketRow? Ticket)> CheckParticipantAsync(string number, string channel, string identity,
        CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var db = new SqlScope(connection);
        if (await FindAsync(db, number, cancellationToken) is not { } ticket)
            return (Participation.NoTicket, null);
        var contactId = await contacts.FindByIdentityAsync(db, channel, identity, cancellationToken);
        return contactId is { } id && await tickets.IsParticipantAsync(db, ticket.Id, id, cancellationToken)
            ? (Participation.Participant, ticket)
            : (Participation.NotParticipant, ticket);
    }

    public async Task<TicketView?> GetViewAsync(string number, bool includeInternal, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var db = new SqlScope(connection);
        if (await FindAsync(db, number, cancellationToken) is not { } ticket)
            return null;
        var audit = await tickets.AuditTrailAsync(db, ticket.Id, cancellationToken);
        var customerIds = audit.Select(a => a.Actor.StartsWith(CustomerActor, StringComparison.Ordinal) && long.TryParse(a.Actor.AsSpan(CustomerActor.Length),
            System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id) ? id : 0).Where(id => id > 0).Distinct().ToList();
        return new TicketView(ticket,
            await contacts.GetAsync(db, ticket.RequesterId, cancellationToken),
            await messages.ListAsync(db, ticket.Id, includeInternal, cancellationToken),
            await messages.AttachmentsOfTicketAsync(db, ticket.Id, cancellationToken),
            audit,
            customerIds.Count == 0 ? [] : await contacts.GetManyAsync(db, customerIds, cancellationToken),
            includeInternal ? await outbox.FailedOfTicketAsync(db, ticket.Id, cancellationToken) : []);
    }

    /// <summary>An agent's answer: to the customer on the ticket's channel through the outbox, or an internal note.</summary>
    public async Task<CommandResult> ReplyAsync(string number, string agentEmail, string agentName, string text, bool isInternal,
        IReadOnlyList<InboundAttachment> attachments, CancellationToken cancellationToken)
    {
        await using var session = await database.BeginAsync(cancellationToken);
        var result = await ReplyAsync(session, number, agentEmail, agentName, text, isInternal, attachments, cancellationToken);
        if (result.Status != CommandStatus.Ok)
            return result;
        await session.CommitAsync(cancellationToken);
        return result;
    }

    /// <summary>The same inside a caller's transaction (an agent's mail is processed with its own storage); the caller commits.</summary>
    public async Task<CommandResult> ReplyAsync(DbSession session, string number, string agentEmail, string agentName, string text, bool isInternal,
        IReadOnlyList<InboundAttachment> attachments, CancellationToken cancellationToken)
    {
        if (await FindAsync(session, number, cancellationToken) is not { } ticket)
            return CommandResult.NotFound(number);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var actor = $"agent:{agentEmail}";
        var messageId = await messages.InsertAsync(session, new MessageRow
        {
            TicketId = ticket.Id, Direction = "out", AuthorKind = "agent", Author = agentName, Channel = ticket.Channel,
            Text = text, Internal = isInternal, CreatedAt = now,
        }, cancellationToken);
        foreach (var a in attachments)
            await messages.InsertAttachmentAsync(session, messageId, a.FileName, a.ContentType, a.Content, a.ContentId, a.Inline, cancellationToken);
        await tickets.AuditAsync(session, Audit(ticket.Id, now, actor, isInternal ? "note_added" : "message_added", null, $"{messageId}"), cancellationToken);

        if (!isInternal)
        {
            await outbox.EnqueueAsync(session, messageId, ticket.Id, ticket.Channel, ticket.Account, ticket.ReplyAddress!, now, cancellationToken);
            await events.RaiseAsync(session, ticket, TicketEvent.AnswerSent, messageId, now, cancellationToken);
            if (ticket.StatusValue == TicketStatus.New)
                ticket = await transitions.SetStatusAsync(session, ticket, TicketStatus.InProgress, null, actor, now, cancellationToken);
        }
        await tickets.TouchAsync(session, ticket.Id, now, cancellationToken);
        return new CommandResult(CommandStatus.Ok, ticket, messageId);
    }

    /// <summary>
    /// The customer says the request is no longer needed (web chat's control, the intake API): it closes, once, and the
    /// customer is told as on every closure. Only a participant may; <see cref="Participation"/> says why not.
    /// </summary>
    public async Task<(Participation Participation, CommandResult? Result)> CloseByCustomerAsync(string number, string channel, string identity,
        CancellationToken cancellationToken)
    {
        await using var session = await database.BeginAsync(cancellationToken);
        if (await FindAsync(session, number, cancellationToken) is not { } ticket)
            return (Participation.NoTicket, null);
        if (await contacts.FindByIdentityAsync(session, channel, identity, cancellationToken) is not { } contactId
            || !await tickets.IsParticipantAsync(session, ticket.Id, contactId, cancellationToken))
            return (Participation.NotParticipant, null);
        if (ticket.StatusValue == TicketStatus.Closed)
            return (Participation.Participant, new CommandResult(CommandStatus.Ok, ticket));
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var actor = $"customer:{contactId}";
        await tickets.AuditAsync(session, Audit(ticket.Id, now, actor, "customer_closed", null, null), cancellationToken);
        ticket = await transitions.SetStatusAsync(session, ticket, TicketStatus.Closed, null, actor, now, cancellationToken);
        await session.CommitAsync(cancellationToken);
        return (Participation.Participant, new CommandResult(CommandStatus.Ok, ticket));
    }

    public async Task<CommandResult> UpdateAsync(string number, string actor, TicketChanges changes, CancellationToken cancellationToken)
    {
        await using var session = await database.BeginAsync(cancellationToken);
        var result = await UpdateAsync(session, number, actor, changes, cancellationToken);
        if (result.Status == CommandStatus.Ok)
        {
            await session.CommitAsync(cancellationToken);
        }
        return result;
    }

    /// <summary>The same inside a caller's transaction; the caller commits (or rolls back when the result is not Ok).</summary>
    public async Task<CommandResult> UpdateAsync(DbSession session, string number, string actor, TicketChanges changes, CancellationToken cancellationToken)
    {
        if (await FindAsync(session, number, cancellationToken) is not { } ticket)
            return CommandResult.NotFound(number);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var target = changes.Status ?? ticket.StatusValue;

        if (changes.Resolution is not null && target != TicketStatus.Resolved)
            return new CommandResult(CommandStatus.Invalid, Error: "A resolution is set only together with status 'resolved'.", Field: "resolution");
        if (changes.Status is { } status && status != ticket.StatusValue)
        {
            if (!TicketWorkflow.CanTransition(ticket.StatusValue, status))
            {
                var allowed = string.Join(", ", TicketWorkflow.NextFrom(ticket.StatusValue).Select(WireName.Of));
                return new CommandResult(CommandStatus.Conflict, Error: $"A ticket in '{ticket.Status}' cannot move to '{WireName.Of(status)}'; allowed: {allowed}.", Field: "status");
            }
            if (status == TicketStatus.Resolved && changes.Resolution is null)
                return new CommandResult(CommandStatus.Invalid, Error: "Resolving needs a resolution: " + string.Join(", ", WireName.AllOf<TicketResolution>()) + ".", Field: "resolution");
            ticket = await transitions.SetStatusAsync(session, ticket, status, changes.Resolution, actor, now, cancellationToken);
        }

        var priorityBefore = ticket.Priority;
        ticket = await ChangeAsync(session, ticket, "priority_changed", ticket.Priority, changes.Priority is { } p ? WireName.Of(p) : null,
            (t, v) => t with { Priority = v! }, actor, now, cancellationToken);
        ticket = await ChangeAsync(session, ticket, "type_changed", ticket.Type, changes.Type is { } ty ? WireName.Of(ty) : null,
            (t, v) => t with { Type = v! }, actor, now, cancellationToken);
        if (changes.Assignee is { } assignee && (assignee.Length == 0 ? null : assignee.Trim()) != ticket.Assignee)
        {
            var newAssignee = assignee.Length == 0 ? null : assignee.Trim();
            await tickets.AuditAsync(session, Audit(ticket.Id, now, actor, "assignee_changed", ticket.Assignee, newAssignee), cancellationToken);
            ticket = ticket with { Assignee = newAssignee };
        }
        await tickets.UpdateAsync(session, ticket with { UpdatedAt = now }, cancellationToken);
        if (ticket.Priority != priorityBefore)
            ticket = await transitions.RecomputeAfterPriorityAsync(session, ticket, actor, now, cancellationToken);
        return new CommandResult(CommandStatus.Ok, ticket with { UpdatedAt = now });
    }

    private async Task<TicketRow> ChangeAsync(DbSession session, TicketRow ticket, string action, string oldValue, string? newValue,
        Func<TicketRow, string?, TicketRow> apply, string actor, long now, CancellationToken cancellationToken)
    {
        if (newValue is null || newValue == oldValue)
            return ticket;
        await tickets.AuditAsync(session, Audit(ticket.Id, now, actor, action, oldValue, newValue), cancellationToken);
        return apply(ticket, newValue);
    }

    private static AuditRow Audit(long ticketId, long at, string actor, string action, string? oldValue, string? newValue) =>
        new() { TicketId = ticketId, At = at, Actor = actor, Action = action, OldValue = oldValue, NewValue = newValue };
}
