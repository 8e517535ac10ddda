using System.Globalization;
using SupportGateway.Core.Outbox;
using SupportGateway.Core.Storage;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Host.Channels.WhatsApp;

/// <summary>
/// Twilio's status callbacks (<c>MessageStatus</c>: queued, sent, delivered, read, failed, undelivered, with
/// <c>ErrorCode</c>) on the message we sent: each is an audit entry <c>delivery_status</c> on its ticket, so agents see
/// it in the ticket's history. A failure that says the number cannot get our messages marks the customer unreachable
/// on WhatsApp and tells the agents, as a refused send does. A callback for a message we do not know is ignored.
/// </summary>
internal sealed class TwilioStatusCallbacks(Database database, TicketStore tickets, Unreachability unreachability, TimeProvider time,
    ILogger<TwilioStatusCallbacks> logger)
{
    private const string BySidSql = """
        SELECT id, message_id, ticket_id, channel, account, recipient, state, external_id FROM outbox
        WHERE channel = @channel AND external_id = @externalId ORDER BY id DESC LIMIT 1
        """;

    private const string LastErrorSql = "UPDATE outbox SET last_error = @error WHERE id = @id";

    public async Task RecordAsync(string messageSid, string status, string? errorCode, CancellationToken cancellationToken)
    {
        var externalId = TwilioNormalizer.Prefix + messageSid;
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var failed = status is "failed" or "undelivered";
        var code = int.TryParse(errorCode, CultureInfo.InvariantCulture, out var parsed) ? parsed : (int?)null;
        var unreachable = failed && code is { } c && TwilioSender.Unreachable.Contains(c);
        await using (var session = await database.BeginAsync(cancellationToken))
        {
            SqlScope db = session;
            var row = await db.SingleOrDefaultAsync<OutboxRow>(BySidSql, new { channel = WhatsAppChannel.Name, externalId }, cancellationToken);
            if (row is null)
            {
                logger.LogDebug("Twilio status {Status} for {MessageSid}, which is not a message we sent", status, messageSid);
                return;
            }
            var value = code is null ? status : $"{status} ({code})";
            await tickets.AuditAsync(session, new AuditRow
            {
                TicketId = row.TicketId,
                At = now,
                Actor = "twilio",
                Action = "delivery_status",
                OldValue = externalId,
                NewValue = value,
            }, cancellationToken);
            if (failed)
                await db.ExecuteAsync(LastErrorSql, new { id = row.Id, error = $"twilio: {value}" }, cancellationToken);
            if (unreachable)
                await TellAgentsAsync(session, row, $"Twilio {value}", now, cancellationToken);
            await session.CommitAsync(cancellationToken);
        }
    }

    private async Task TellAgentsAsync(DbSession session, OutboxRow row, string reason, long now, CancellationToken cancellationToken)
    {
        if (await tickets.GetAsync(session, row.TicketId, cancellationToken) is { } ticket)
            await unreachability.MarkAsync(session, ticket, row.Channel, row.Recipient, reason, now, cancellationToken);
    }
}
