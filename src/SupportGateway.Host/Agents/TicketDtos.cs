using SupportGateway.Core.Contacts;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Host.Agents;

public sealed record TicketSummaryDto(string Number, string Subject, string Status, string Priority, string Type, string? Resolution,
    string? Assignee, string Channel, string Language, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt,
    DateTimeOffset? ResolvedAt, DateTimeOffset? ClosedAt, SlaDto? Sla)
{
    public static TicketSummaryDto From(TicketRow t, SlaDto? sla) => new(t.Number, t.Subject, t.Status, t.Priority, t.Type, t.Resolution, t.Assignee,
        t.Channel, t.Language, Time(t.CreatedAt), Time(t.UpdatedAt), Time(t.ResolvedAt), Time(t.ClosedAt), sla);

    internal static DateTimeOffset Time(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    internal static DateTimeOffset? Time(long? ms) => ms is { } v ? DateTimeOffset.FromUnixTimeMilliseconds(v) : null;
}

/// <summary>A file; <see cref="Download"/> is where the reader of this JSON fetches it (with the same credentials), when it may.</summary>
public sealed record AttachmentDto(long Id, string FileName, string ContentType, long Size, string? ContentId, bool Inline, string? Download)
{
    /// <summary>The stored type when it is a well-formed media type, else <c>application/octet-stream</c> (RFC 2046 §4.5.1).</summary>
    public static string MediaType(string contentType) =>
        System.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var parsed) && parsed.MediaType is { } type && type.Contains('/')
            ? parsed.ToString() : "application/octet-stream";
}

public sealed record MessageDto(long Id, string Direction, string AuthorKind, string Author, string Channel, string Text, bool Internal,
    DateTimeOffset CreatedAt, IReadOnlyList<AttachmentDto> Attachments, IReadOnlyDictionary<string, string>? TechnicalDetails = null,
    string? Signature = null, string? Html = null)
{
    /// <param name="download">The download path of a file for whoever reads this message, or null where there is none.</param>
    public static MessageDto From(MessageRow m, IEnumerable<AttachmentRow> attachments, Func<AttachmentRow, string?>? download = null) => new(m.Id,
        m.Direction, m.AuthorKind, m.Author, m.Channel, m.Text, m.Internal, TicketSummaryDto.Time(m.CreatedAt),
        [.. attachments.Where(a => a.MessageId == m.Id).Select(a => new AttachmentDto(a.Id, a.FileName, a.ContentType, a.Size, a.ContentId, a.Inline,
            download?.Invoke(a)))],
        m.TechnicalDetails is { } json ? System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(json) : null, m.Signature, m.Html);
}

/// <summary>An audit entry; <see cref="Actor"/> is the stored key (<c>customer:12</c>), <see cref="By"/> the person or channel it names.</summary>
public sealed record AuditDto(DateTimeOffset At, string Actor, string By, string Action, string? OldValue, string? NewValue);

public sealed record ContactDto(string? Name, string? Email, string? Phone, string? AccountNumber)
{
    public static ContactDto? From(ContactRow? c) => c is null ? null : new(c.Name, c.Email, c.Phone, c.AccountNumber);

    /// <summary>How a person reads a contact: the name they gave, else how they can be reached.</summary>
    public static string Display(ContactRow c) => c.Name ?? c.Email ?? c.Phone ?? $"customer {c.Id}";
}

/// <summary>
/// A delivery the outbox gave up: which message, on which channel to whom, when it was queued (or queued again) and
/// given up, after how many attempts, and the last error in plain words. <c>outbox retry</c> queues it again.
/// </summary>
public sealed record FailedDeliveryDto(long MessageId, string Channel, string Recipient, DateTimeOffset QueuedAt, DateTimeOffset? FailedAt, int Attempts,
    string? Error)
{
    public static FailedDeliveryDto From(Core.Outbox.OutboxRow row) => new(row.MessageId, row.Channel, row.Recipient, TicketSummaryDto.Time(row.QueuedAt),
        TicketSummaryDto.Time(row.FailedAt), row.Attempts, row.LastError);
}

public sealed record TicketDetailDto(TicketSummaryDto Ticket, ContactDto? Requester, IReadOnlyList<MessageDto> Messages, IReadOnlyList<AuditDto> Audit,
    IReadOnlyList<FailedDeliveryDto> FailedDeliveries)
{
    public static TicketDetailDto From(TicketView view, SlaDto sla, AgentDirectory agents) => new(TicketSummaryDto.From(view.Ticket, sla), ContactDto.From(view.Requester),
        [.. view.Messages.Select(m => MessageDto.From(m, view.Attachments, a => $"/api/v1/tickets/{view.Ticket.Number}/attachments/{a.Id}"))],
        [.. view.Audit.Select(a => new AuditDto(TicketSummaryDto.Time(a.At), a.Actor, By(a.Actor, view, agents), a.Action, a.OldValue, a.NewValue))],
        [.. (view.FailedDeliveries ?? []).Select(FailedDeliveryDto.From)]);

    /// <summary>A customer by the name they gave, an agent by theirs; anything else (<c>system</c>, a channel) as it is.</summary>
    private static string By(string actor, TicketView view, AgentDirectory agents)
    {
        if (actor.StartsWith(TicketService.CustomerActor, StringComparison.Ordinal))
            return view.Customers?.FirstOrDefault(c => $"{TicketService.CustomerActor}{c.Id}" == actor) is { } customer ? ContactDto.Display(customer) : "customer";
        if (actor.StartsWith("agent:", StringComparison.Ordinal))
            return agents.FindByEmail(actor[6..])?.Name ?? actor[6..];
        return actor;
    }
}

/// <summary>An agent's answer; files as in the intake API (<c>fileName</c>, <c>contentType</c>, <c>contentBase64</c>).</summary>
public sealed record ReplyRequest(string? Text, bool? Internal, List<SupportGateway.Host.Channels.Api.IntakeAttachment>? Attachments = null);

/// <summary>A ticket's number and status after a change (a customer closing it).</summary>
public sealed record TicketStateDto(string TicketNumber, string Status);

/// <summary>What <c>POST …/replies</c> answers: the ticket, the message written and the ticket's status after it.</summary>
public sealed record ReplyCreatedDto(string TicketNumber, long? MessageId, string Status);

public sealed record TicketPatchRequest(string? Status, string? Resolution, string? Priority, string? Type, string? Assignee);
