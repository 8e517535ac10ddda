using System.Text.Json;
using Microsoft.Extensions.Options;
using SupportGateway.Core.Contacts;
using SupportGateway.Core.Outbox;
using SupportGateway.Core.Pipeline;
using SupportGateway.Core.Sla;

namespace SupportGateway.Core.Tickets;

/// <summary>The last step of the inbound chain: creates the ticket or appends to it, with audit and outbox rows.</summary>
public sealed class TicketWriter(TicketStore tickets, MessageStore messages, OutboxStore outbox, ContactStore contacts, TicketNumberFormat numbers,
    TicketTransitions transitions, SlaTracker sla, FileRetryStore fileRetries, IOptions<TicketOptions> options, IOptions<FileRetryOptions> retryOptions, IOptions<AcknowledgementLimitOptions> acknowledgementLimit,
    IEnumerable<IAgentNotifier> notifiers, TicketEvents events, TimeProvider time)
{
    private readonly IAgentNotifier[] _notifiers = [.. notifiers];

    public async Task<(TicketRow Ticket, long MessageId, bool Created)> WriteAsync(InboundContext context, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (context.Automatic is { } automatic)
            return (context.Ticket!, await RecordAutomaticAsync(context, automatic, now, cancellationToken), false);
        var created = context.Ticket is null;
        var ticket = context.Ticket ?? await CreateAsync(context, now, cancellationToken);
        var customer = $"customer:{context.ContactId}";
        var messageId = await InsertInboundMessageAsync(context, ticket.Id, now, cancellationToken);
        foreach (var copied in context.CopiedContactIds)
            await tickets.AddParticipantAsync(context.Session, ticket.Id, copied, "cc", cancellationToken);

        foreach (var notifier in _notifiers)
        {
            foreach (var recipient in notifier.Recipients(ticket))
                await outbox.EnqueueAsync(context.Session, messageId, ticket.Id, notifier.Channel, ticket.Account, recipient, now, cancellationToken);
        }

        if (created)
        {
            await AuditAsync(context, ticket.Id, now, customer, "created", null, ticket.Number, cancellationToken);
            if (context.RoutingNote is { } note)
                await AuditAsync(context, ticket.Id, now, "system", "routing", null, note, cancellationToken);
            if (context.LinkedTo is { } linked)
            {
                await AuditAsync(context, ticket.Id, now, "system", "linked", null, linked.Number, cancellationToken);
                await AuditAsync(context, linked.Id, now, "system", "linked", null, ticket.Number, cancellationToken);
            }
            await AcknowledgeAsync(context, ticket, now, cancellationToken);
            await events.RaiseAsync(context.Session, ticket, TicketEvent.Created, messageId, now, cancellationToken);
            return (ticket, messageId, true);
        }

        await AuditAsync(context, ticket.Id, now, customer, "message_added", null, messageId.ToString(System.Globalization.CultureInfo.InvariantCulture), cancellationToken);
        await events.RaiseAsync(context.Session, ticket, TicketEvent.CustomerFollowUp, messageId, now, cancellationToken);
        var verdict = context.Message.Verdict != CustomerVerdict.None ? context.Message.Verdict
            : Gratitude.IsGratitude(context.Message.Text) ? CustomerVerdict.Confirms : CustomerVerdict.None;
        if (verdict == CustomerVerdict.Closes && ticket.StatusValue != TicketStatus.Closed)
            await AuditAsync(context, ticket.Id, now, customer, "customer_closed", null, null, cancellationToken);
        else if (verdict is CustomerVerdict.Confirms or CustomerVerdict.Rejects && ticket.StatusValue is TicketStatus.Resolved or TicketStatus.Closed)
            await AuditAsync(context, ticket.Id, now, customer, verdict == CustomerVerdict.Confirms ? "customer_confirmed" : "customer_rejected", null, ticket.Resolution, cancellationToken);
        if (TicketWorkflow.AfterCustomerFollowUp(ticket.StatusValue, verdict) is { } next)
        {
            ticket = await transitions.SetStatusAsync(context.Session, ticket, next, null, customer, now, cancellationToken);
        }
        else
        {
            await tickets.TouchAsync(context.Session, ticket.Id, now, cancellationToken);
            // A customer's word on a resolved ticket starts the wait for their confirmation again.
            if (ticket.StatusValue == TicketStatus.Resolved)
                await sla.RecomputeAsync(context.Session, ticket, now, cancellationToken);
        }
        return (ticket, messageId, false);
    }

    private async Task<TicketRow> CreateAsync(InboundContext context, long now, CancellationToken cancellationToken)
    {
        var message = context.Message;
        var seq = await tickets.NextSequenceAsync(context.Session, numbers.Start, cancellationToken);
        var ticket = new TicketRow
        {
            Id = seq,
            Number = numbers.Render(seq),
            Subject = SubjectOf(message),
            Status = WireName.Of(TicketStatus.New),
            Priority = WireName.Of(context.Priority),
            Type = WireName.Of(context.Type),
            RequesterId = context.ContactId!.Value,
            OrganisationId = context.OrganisationId,
            Channel = message.Channel,
            Account = message.Account,
            ConversationKey = message.Hints.ConversationKey,
            ReplyAddress = message.Hints.ReplyAddress ?? message.Sender.Identity,
            Language = CustomerLanguage.Choose(message.Language, $"{message.Subject} {message.Text}", options.Value.DefaultLanguage),
            CreatedAt = now,
            UpdatedAt = now,
        };
        var organisation = context.OrganisationId is { } orgId ? await contacts.AccountNumberAsync(context.Session, orgId, cancellationToken) : null;
        ticket = sla.Start(ticket, organisation);
        await tickets.InsertAsync(context.Session, ticket, cancellationToken);
        await tickets.AddParticipantAsync(context.Session, ticket.Id, ticket.RequesterId, "requester", cancellationToken);
        return ticket;
    }

    private async Task<long> InsertInboundMessageAsync(InboundContext context, long ticketId, long now, CancellationToken cancellationToken)
    {
        var message = context.Message;
        var id = await messages.InsertAsync(context.Session, new MessageRow
        {
            TicketId = ticketId,
            Direction = "in",
            AuthorKind = "customer",
            Author = message.Sender.Name ?? context.ContactName ?? message.Sender.Email ?? message.Sender.Identity,
            ContactId = context.ContactId,
            Channel = message.Channel,
            ExternalId = message.ExternalId,
            Text = message.Text,
            Html = message.Html,
            Signature = message.Signature,
            TechnicalDetails = message.TechnicalDetails is { Count: > 0 } details ? JsonSerializer.Serialize(details, CoreJson.Options) : null,
            InboundId = context.RawId,
            CreatedAt = now,
        }, cancellationToken);
        foreach (var attachment in message.Attachments)
        {
            await messages.InsertAttachmentAsync(context.Session, id, attachment.FileName, attachment.ContentType, attachment.Content,
                attachment.ContentId, attachment.Inline, cancellationToken);
        }
        var retryAt = now + (long)retryOptions.Value.FirstRetryDelay.TotalMilliseconds;
        foreach (var missing in message.MissingFiles)
            await fileRetries.AddAsync(context.Session, id, missing, retryAt, now, cancellationToken);
        return id;
    }

    /// <summary>An auto-reply or a delivery failure, kept on the ticket for the agents; the ticket itself is untouched.</summary>
    private async Task<long> RecordAutomaticAsync(InboundContext context, AutomaticKind kind, long now, CancellationToken cancellationToken)
    {
        var message = context.Message;
        var ticket = context.Ticket!;
        var id = await messages.InsertAsync(context.Session, new MessageRow
        {
            TicketId = ticket.Id,
            Direction = "in",
            AuthorKind = kind == AutomaticKind.DeliveryFailure ? "delivery_failure" : "auto_reply",
            Author = message.Sender.Email ?? message.Sender.Identity,
            Channel = message.Channel,
            ExternalId = message.ExternalId,
            Text = message.Text,
            Internal = true,
            InboundId = context.RawId,
            CreatedAt = now,
        }, cancellationToken);
        await AuditAsync(context, ticket.Id, now, "system", kind == AutomaticKind.DeliveryFailure ? "delivery_failed" : "auto_reply_received",
            null, message.Sender.Email ?? message.Sender.Identity, cancellationToken);
        return id;
    }

    private async Task AcknowledgeAsync(InboundContext context, TicketRow ticket, long now, CancellationToken cancellationToken)
    {
        // The same cap on every channel (indexed on outbox channel, recipient, created_at).
        var cap = acknowledgementLimit.Value;
        if (cap.PerAddress > 0
            && await outbox.AcknowledgementsSinceAsync(context.Session, ticket.Channel, ticket.ReplyAddress!,
                now - (long)cap.Window.TotalMilliseconds, cancellationToken) >= cap.PerAddress)
        {
            await AuditAsync(context, ticket.Id, now, "system", "acknowledgement_suppressed", null,
                $"{ticket.ReplyAddress} already got {cap.PerAddress} within {cap.Window}", cancellationToken);
            return;
        }
        var templates = options.Value.Acknowledgement;
        var template = templates.GetValueOrDefault(ticket.Language) ?? templates.GetValueOrDefault("en") ?? "{number}";
        var text = template.Replace("{number}", ticket.Number, StringComparison.Ordinal).Replace("{subject}", ticket.Subject, StringComparison.Ordinal);
        var ackId = await messages.InsertAsync(context.Session, new MessageRow
        {
            TicketId = ticket.Id, Direction = "out", AuthorKind = "system", Author = "system", Channel = ticket.Channel, Text = text, CreatedAt = now,
        }, cancellationToken);
        await outbox.EnqueueAsync(context.Session, ackId, ticket.Id, ticket.Channel, ticket.Account, ticket.ReplyAddress!, now, cancellationToken);
    }

    private Task AuditAsync(InboundContext context, long ticketId, long at, string actor, string action, string? oldValue, string? newValue,
        CancellationToken cancellationToken) =>
        tickets.AuditAsync(context.Session, new AuditRow { TicketId = ticketId, At = at, Actor = actor, Action = action, OldValue = oldValue, NewValue = newValue },
            cancellationToken);

    /// <summary>The subject, or the first line of the text cut to a readable length.</summary>
    internal static string SubjectOf(InboundMessage message)
    {
        if (!string.IsNullOrWhiteSpace(message.Subject))
            return message.Subject.Trim();
        var firstLine = message.Text.AsSpan().Trim();
        var end = firstLine.IndexOfAny('\r', '\n');
        if (end >= 0)
            firstLine = firstLine[..end].TrimEnd();
        const int max = 80;
        return firstLine.Length == 0 ? "(no subject)" : firstLine.Length <= max ? firstLine.ToString() : $"{firstLine[..(max - 1)].TrimEnd()}…";
    }
}
