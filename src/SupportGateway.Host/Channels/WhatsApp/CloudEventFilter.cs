using System.Globalization;
using SupportGateway.Core.Outbox;
using SupportGateway.Core.Pipeline;
using SupportGateway.Core.Storage;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Host.Channels.WhatsApp;

/// <summary>
/// Cloud API events that are not a customer's words: a delivery status is recorded on the ticket of the message we
/// sent (audit <c>delivery_status</c>; a failure also as an internal note the agents read), a reaction or a deletion
/// on the ticket of the message it refers to; a system notice (number or identity changed) is kept as received. None
/// opens or reopens a ticket. Runs before the sender is identified, so a status creates no contact either. A failure
/// whose code says the number cannot get our messages marks the customer unreachable and tells the agents instead.
/// </summary>
internal sealed class CloudEventFilter(CloudEventStore events, TicketStore tickets, MessageStore messages, Unreachability unreachability, TimeProvider time)
    : IInboundFilter
{
    /// <summary>
    /// Meta's codes for a number that cannot receive from us: 131026 (message undeliverable: not on WhatsApp, an old
    /// app, or our terms not accepted) and 131021 (the recipient is the sender itself).
    /// </summary>
    internal static readonly IReadOnlySet<int> Unreachable = new HashSet<int> { 131026, 131021 };

    public int Order => 150;

    public async ValueTask RunAsync(InboundContext context, CancellationToken cancellationToken)
    {
        var message = context.Message;
        if (message is not { Channel: WhatsAppChannel.Name, Account: CloudNormalizer.Account, TechnicalDetails: { } details })
            return;
        var kind = details.GetValueOrDefault(CloudNormalizer.Kind);
        switch (kind)
        {
            case "status":
                await StatusAsync(context, details, cancellationToken);
                context.DroppedBecause = "a WhatsApp delivery status";
                return;
            case "reaction" or "revoke":
                var ticket = await events.TicketOfAsync(context.Session, details[CloudNormalizer.RefersTo], cancellationToken);
                if (ticket is { } id)
                {
                    var action = kind == "reaction" ? "customer_reaction" : "customer_deleted";
                    await Audit(context.Session, id, action, details[CloudNormalizer.RefersTo], details.GetValueOrDefault(CloudNormalizer.Reaction), cancellationToken);
                }
                context.DroppedBecause = ticket is null ? $"a WhatsApp {kind} to a message no ticket has" : $"a WhatsApp {kind}";
                return;
            case "system":
                context.DroppedBecause = "a WhatsApp system notice";
                return;
        }
    }

    private async Task StatusAsync(InboundContext context, IReadOnlyDictionary<string, string> details, CancellationToken cancellationToken)
    {
        var sent = await events.SentAsync(context.Session, details[CloudNormalizer.StatusOf], cancellationToken);
        if (sent is null)
            return; // a message sent by another tool on the same number, or one older than this database
        var status = details.GetValueOrDefault(CloudNormalizer.Status) ?? "";
        var error = details.GetValueOrDefault(CloudNormalizer.Error);
        await Audit(context.Session, sent.TicketId, "delivery_status", sent.ExternalId, error is null ? status : $"{status}: {error}", cancellationToken);
        if (status != "failed")
            return;
        if (PermanentFailure(details) && await tickets.GetAsync(context.Session, sent.TicketId, cancellationToken) is { } ticket)
        {
            await unreachability.MarkAsync(context.Session, ticket, WhatsAppChannel.Name, sent.Recipient, $"WhatsApp {error}",
                time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken);
            return;
        }
        var text = $"WhatsApp did not deliver message {sent.MessageId} to {sent.Recipient}: {error ?? "no reason given"}.\n" +
            $"WhatsApp не доставил сообщение {sent.MessageId} ({sent.Recipient}): {error ?? "причина не указана"}.";
        await messages.InsertAsync(context.Session, new MessageRow
        {
            TicketId = sent.TicketId, Direction = "out", AuthorKind = "system", Author = "system", Channel = WhatsAppChannel.Name, Text = text,
            Internal = true, CreatedAt = time.GetUtcNow().ToUnixTimeMilliseconds(),
        }, cancellationToken);
    }

    private static bool PermanentFailure(IReadOnlyDictionary<string, string> details) =>
        details.GetValueOrDefault(CloudNormalizer.ErrorCodes)?.Split(',').Any(c => int.TryParse(c, CultureInfo.InvariantCulture, out var code) && Unreachable.Contains(code))
        ?? false;

    private Task Audit(DbSession session, long ticketId, string action, string? oldValue, string? newValue, CancellationToken cancellationToken) =>
        tickets.AuditAsync(session, new AuditRow
        {
            TicketId = ticketId, At = time.GetUtcNow().ToUnixTimeMilliseconds(), Actor = "whatsapp", Action = action, OldValue = oldValue, NewValue = newValue,
        }, cancellationToken);
}

/// <summary>A message we delivered, found by the external id the provider gave it.</summary>
internal sealed record SentWhatsApp
{
    public long TicketId { get; init; }
    public long MessageId { get; init; }
    public string Recipient { get; init; } = "";
    public string ExternalId { get; init; } = "";
}

/// <summary>Finds our sent messages and customers' messages by their WhatsApp ids ("wa:" + wamid).</summary>
internal sealed class CloudEventStore
{
    private const string SentSql = """
        SELECT ticket_id AS TicketId, message_id AS MessageId, recipient AS Recipient, external_id AS ExternalId
        FROM outbox WHERE external_id = @externalId AND channel = 'whatsapp' ORDER BY id LIMIT 1
        """;

    private const string TicketSql = """
        SELECT ticket_id FROM messages WHERE channel = 'whatsapp' AND external_id = @externalId
        UNION ALL
        SELECT ticket_id FROM outbox WHERE external_id = @externalId AND channel = 'whatsapp'
        LIMIT 1
        """;

    public Task<SentWhatsApp?> SentAsync(SqlScope db, string externalId, CancellationToken cancellationToken) =>
        db.SingleOrDefaultAsync<SentWhatsApp>(SentSql, new { externalId }, cancellationToken);

    public Task<long?> TicketOfAsync(SqlScope db, string externalId, CancellationToken cancellationToken) =>
        db.ScalarAsync<long?>(TicketSql, new { externalId }, cancellationToken);
}
