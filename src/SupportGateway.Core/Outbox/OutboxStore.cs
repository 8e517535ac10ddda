using SupportGateway.Core.Storage;

namespace SupportGateway.Core.Outbox;

public sealed record OutboxRow
{
    public long Id { get; init; }
    public long MessageId { get; init; }
    public long TicketId { get; init; }
    public string Channel { get; init; } = "";
    public string? Account { get; init; }
    public string Recipient { get; init; } = "";
    public string State { get; init; } = OutboxStore.Pending;
    public int Attempts { get; init; }
    public long NextAttemptAt { get; init; }
    public string? LastError { get; init; }
    public string? ExternalId { get; init; }
    public long CreatedAt { get; init; }
    public long? SentAt { get; init; }
    public string? Payload { get; init; }

    /// <summary>When the current retry period began: the row's queuing, or <c>outbox retry</c>. It is given up <c>GiveUpAfter</c> later.</summary>
    public long QueuedAt { get; init; }

    public long? FailedAt { get; init; }
}

/// <summary>
/// Outbound deliveries: <c>pending</c> → <c>in_flight</c> → <c>sent</c> | <c>failed</c> | <c>held</c>. A held row waits,
/// without retries, for its recipient to act (a WhatsApp customer writing again); the channel makes it pending again.
/// </summary>
public sealed class OutboxStore(Database database, OutboxSignal signal, IEnumerable<RecordedChannel> recorded)
{
    private readonly HashSet<string> _recorded = [.. recorded.Select(r => r.Channel)];

    public const string Pending = "pending";
    public const string InFlight = "in_flight";
    public const string Sent = "sent";
    public const string Failed = "failed";
    public const string Held = "held";

    private const string Columns = "id, message_id, ticket_id, channel, account, recipient, state, attempts, next_attempt_at, last_error, external_id, created_at, sent_at, payload, queued_at, failed_at";

    /// <summary>
    /// Queues a delivery; the channel's senders, on this instance and the others, are woken when the transaction commits
    /// (at once, when the scope is no session's). On a <see cref="RecordedChannel"/> the row is the delivery: written as sent.
    /// </summary>
    public Task EnqueueAsync(SqlScope db, long messageId, long ticketId, string channel, string? account, string recipient, long at, CancellationToken cancellationToken,
        string? payload = null)
    {
        if (_recorded.Contains(channel))
        {
            return db.WriteAsync("""
                INSERT INTO outbox (message_id, ticket_id, channel, account, recipient, state, attempts, next_attempt_at, created_at, queued_at, sent_at, payload)
                VALUES (@messageId, @ticketId, @channel, @account, @recipient, 'sent', 1, @at, @at, @at, @at, @payload)
                """, new { messageId, ticketId, channel, account, recipient, at, payload }, cancellationToken);
        }
        if (db.Session is { } session)
            session.AfterCommit($"outbox:{channel}", () => signal.Notify(channel));
        else
            signal.Notify(channel);
        return db.WriteAsync("""
            INSERT INTO outbox (message_id, ticket_id, channel, account, recipient, state, next_attempt_at, created_at, queued_at, payload)
            VALUES (@messageId, @ticketId, @channel, @account, @recipient, 'pending', @at, @at, @at, @payload)
            """, new { messageId, ticketId, channel, account, recipient, at, payload }, cancellationToken);
    }

    /// <summary>
    /// Claims due rows of one channel with a lease; a row whose lease runs out is due again. A row waits while an
    /// earlier row of its ticket to the same recipient waits for a retry or is being sent elsewhere, so a customer gets
    /// a ticket's messages in the order they were written, whatever outage came between. Rows due together are
    /// claimed in id order, and the dispatcher stops a batch's later rows of a recipient whose earlier one failed.
    /// A row claimed again after its lease ran out counts that lost claim as an attempt: the instance holding it stopped
    /// or died, perhaps after the send (at-least-once), and the attempts then tell a possible second copy apart.
    /// </summary>
    public async Task<IReadOnlyList<OutboxRow>> ClaimAsync(SqlScope db, string channel, long now, long leaseMs, int batch, CancellationToken cancellationToken) =>
        // RETURNING gives the rows in no particular order on PostgreSQL; they are sent in the order they were queued.
        [.. (await db.ListAsync<OutboxRow>($"""
            UPDATE outbox SET state = 'in_flight', locked_until = @until, attempts = attempts + CASE WHEN state = 'in_flight' THEN 1 ELSE 0 END
            WHERE id IN (
                SELECT o.id FROM outbox o
                WHERE o.channel = @channel AND o.next_attempt_at <= @now
                  AND (o.state = 'pending' OR (o.state = 'in_flight' AND o.locked_until < @now))
                  AND NOT EXISTS (
                      SELECT 1 FROM outbox e
                      WHERE e.ticket_id = o.ticket_id AND e.channel = o.channel AND e.recipient = o.recipient AND e.id < o.id
                        AND ((e.state = 'pending' AND e.next_attempt_at > @now) OR (e.state = 'in_flight' AND e.locked_until >= @now)))
                ORDER BY o.id LIMIT @batch {database.Dialect.SkipLocked})
            RETURNING {Columns}
            """, new { channel, now, until = now + leaseMs, batch }, cancellationToken)).OrderBy(row => row.Id)];

    /// <summary>Gives a claimed row back untried: it stays due, behind the earlier row of its recipient that failed.</summary>
    public Task ReleaseAsync(SqlScope db, long id, CancellationToken cancellationToken) =>
        db.ExecuteAsync("UPDATE outbox SET state = 'pending', locked_until = NULL WHERE id = @id AND state = 'in_flight'", new { id }, cancellationToken);

    /// <summary>Gives claimed rows back unsent (an instance that stops): pending at once, attempts unchanged; returns how many.</summary>
    public Task<int> HandBackAsync(SqlScope db, IReadOnlyList<long> ids, CancellationToken cancellationToken) =>
        db.ExecuteAsync("UPDATE outbox SET state = 'pending', locked_until = NULL WHERE id IN @ids AND state = 'in_flight'", new { ids }, cancellationToken);

    /// <summary>Makes rows claimed by a process that is gone due again, their lost claim counted as an attempt; returns how many.</summary>
    public Task<int> ReleaseInFlightAsync(SqlScope db, CancellationToken cancellationToken) =>
        db.ExecuteAsync("UPDATE outbox SET state = 'pending', locked_until = NULL, attempts = attempts + 1 WHERE state = 'in_flight'", null, cancellationToken);

    /// <summary>
    /// The channel ids of a ticket's conversation on <paramref name="channel"/>, oldest first: what the customer sent
    /// and what was delivered to them. E-mail threads a new message under these (References, In-Reply-To).
    /// </summary>
    public async Task<IReadOnlyList<string>> ThreadIdsAsync(SqlScope db, long ticketId, string channel, CancellationToken cancellationToken)
    {
        // The rows without an id are left out here, not in SQL: "external_id IS NOT NULL" lets the planner take the
        // (channel, external_id) index and read every message of the channel instead of the ticket's own.
        var ids = await db.ListAsync<string?>("""
            SELECT external_id FROM (
                SELECT external_id, created_at AS at FROM messages
                WHERE ticket_id = @ticketId AND channel = @channel AND direction = 'in' AND author_kind = 'customer'
                UNION ALL
                SELECT external_id, sent_at AS at FROM outbox WHERE ticket_id = @ticketId AND channel = @channel AND state = 'sent'
            ) thread ORDER BY at
            """, new { ticketId, channel }, cancellationToken);
        return [.. ids.OfType<string>()];
    }

    /// <summary>
    /// Acknowledgements queued for a recipient on a channel since <paramref name="since"/>: a ticket's first system
    /// message, written with the ticket. Resolution and closure notices are system messages too, but later ones (and a
    /// notice can fall in the ticket's own millisecond, so the time cannot tell them apart); counting them would hold
    /// back the acknowledgement of a customer's third request on a channel with notices.
    /// </summary>
    public Task<long> AcknowledgementsSinceAsync(SqlScope db, string channel, string recipient, long since, CancellationToken cancellationToken) =>
        db.ScalarAsync<long>("""
            SELECT COUNT(*) FROM outbox o JOIN messages m ON m.id = o.message_id
            WHERE o.channel = @channel AND o.recipient = @recipient AND o.created_at >= @since AND m.author_kind = 'system'
              AND m.id = (SELECT MIN(s.id) FROM messages s WHERE s.ticket_id = o.ticket_id AND s.author_kind = 'system')
            """, new { channel, recipient, since }, cancellationToken);

    public Task MarkSentAsync(SqlScope db, long id, string? externalId, long at, CancellationToken cancellationToken) =>
        db.ExecuteAsync("""
            UPDATE outbox SET state = 'sent', attempts = attempts + 1, external_id = @externalId, sent_at = @at, locked_until = NULL, last_error = NULL
            WHERE id = @id
            """, new { id, externalId, at }, cancellationToken);

    public Task MarkRetryAsync(SqlScope db, long id, string error, long nextAttemptAt, CancellationToken cancellationToken) =>
        db.ExecuteAsync("""
            UPDATE outbox SET state = 'pending', attempts = attempts + 1, last_error = @error, next_attempt_at = @nextAttemptAt, locked_until = NULL
            WHERE id = @id
            """, new { id, error, nextAttemptAt }, cancellationToken);

    /// <summary>Given up: kept with its last error and the time, shown on the ticket until <see cref="RequeueFailedAsync"/>.</summary>
    public Task MarkFailedAsync(SqlScope db, long id, string error, long at, CancellationToken cancellationToken) =>
        db.ExecuteAsync("""
            UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = @error, failed_at = @at, locked_until = NULL
            WHERE id = @id
            """, new { id, error, at }, cancellationToken);

    /// <summary>
    /// Queues given-up rows again, of one ticket or (<paramref name="ticketId"/> null) of all, with a new retry period
    /// from <paramref name="now"/>; returns how many. They are due at once whatever the gateway's clock says against
    /// this one's (the command may run on another machine).
    /// </summary>
    public Task<int> RequeueFailedAsync(SqlScope db, long? ticketId, long now, CancellationToken cancellationToken) =>
        db.ExecuteAsync(ticketId is null ? RequeueSql : RequeueSql + " AND ticket_id = @ticketId", new { ticketId, now }, cancellationToken);

    private const string RequeueSql =
        "UPDATE outbox SET state = 'pending', next_attempt_at = 0, queued_at = @now, failed_at = NULL, locked_until = NULL WHERE state = 'failed'";

    /// <summary>A ticket's given-up deliveries, oldest first.</summary>
    public Task<IReadOnlyList<OutboxRow>> FailedOfTicketAsync(SqlScope db, long ticketId, CancellationToken cancellationToken) =>
        db.ListAsync<OutboxRow>($"SELECT {Columns} FROM outbox WHERE ticket_id = @ticketId AND state = 'failed' ORDER BY id", new { ticketId }, cancellationToken);

    public Task HoldAsync(SqlScope db, long id, string reason, CancellationToken cancellationToken) =>
        db.ExecuteAsync("""
            UPDATE outbox SET state = 'held', attempts = attempts + 1, last_error = @reason, locked_until = NULL
            WHERE id = @id
            """, new { id, reason }, cancellationToken);

    /// <summary>Makes the held rows of a recipient on a channel due now, oldest first as claimed; returns how many.</summary>
    public Task<int> ReleaseHeldAsync(SqlScope db, string channel, string recipient, long now, CancellationToken cancellationToken) =>
        db.ExecuteAsync("""
            UPDATE outbox SET state = 'pending', next_attempt_at = @now
            WHERE channel = @channel AND recipient = @recipient AND state = 'held'
            """, new { channel, recipient, now }, cancellationToken);

    public Task<IReadOnlyList<OutboxRow>> GetManyAsync(SqlScope db, IReadOnlyList<long> ids, CancellationToken cancellationToken) =>
        db.ListAsync<OutboxRow>($"SELECT {Columns} FROM outbox WHERE id IN @ids", new { ids }, cancellationToken);

    /// <summary>
    /// The rows of a channel sent since <paramref name="since"/>, and those in flight (their delivery may be under way
    /// now): what a channel's live push may have missed meanwhile.
    /// </summary>
    public Task<IReadOnlyList<OutboxRow>> DeliveredSinceAsync(SqlScope db, string channel, long since, CancellationToken cancellationToken) =>
        db.ListAsync<OutboxRow>($"""
            SELECT {Columns} FROM outbox
            WHERE channel = @channel AND ((state = 'sent' AND sent_at >= @since) OR state = 'in_flight')
            ORDER BY id
            """, new { channel, since }, cancellationToken);

    public Task<IReadOnlyList<OutboxRow>> ForTicketAsync(SqlScope db, long ticketId, CancellationToken cancellationToken) =>
        db.ListAsync<OutboxRow>($"SELECT {Columns} FROM outbox WHERE ticket_id = @ticketId ORDER BY id", new { ticketId }, cancellationToken);

    public async Task<IReadOnlyDictionary<string, long>> CountByStateAsync(SqlScope db, CancellationToken cancellationToken) =>
        (await db.ListAsync<(string State, long Count)>("SELECT state, COUNT(*) FROM outbox GROUP BY state", null, cancellationToken))
            .ToDictionary(r => r.State, r => r.Count);
}
