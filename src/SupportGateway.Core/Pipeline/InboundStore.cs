using SupportGateway.Core.Storage;

namespace SupportGateway.Core.Pipeline;

public sealed record InboundRow
{
    public long Id { get; init; }
    public string Channel { get; init; } = "";
    public string ExternalId { get; init; } = "";
    public string Format { get; init; } = "";
    public string State { get; init; } = "";
    public int Attempts { get; init; }
    public string? LastError { get; init; }
    public long? TicketId { get; init; }
    public long? MessageId { get; init; }
    public long ReceivedAt { get; init; }
    public long? ProcessedAt { get; init; }
}

/// <summary>Raw payloads as they arrived: states <c>pending</c>, <c>processed</c>, <c>dead</c>.</summary>
public sealed class InboundStore
{
    public const string Pending = "pending";
    public const string Processed = "processed";
    public const string Dead = "dead";

    private const string Columns = "id, channel, external_id, format, state, attempts, last_error, ticket_id, message_id, received_at, processed_at";

    /// <summary>
    /// Stores the payload; null when (channel, external id) is already stored, i.e. a duplicate.
    /// Processed in the same transaction, it is written as <c>processed</c> at once (a failure turns it
    /// <c>dead</c> before the commit), which keeps it out of the index of unfinished payloads.
    /// </summary>
    public Task<long?> TryInsertAsync(SqlScope db, RawInbound raw, string state, long at, CancellationToken cancellationToken) =>
        db.ScalarAsync<long?>("""
            INSERT INTO inbound (channel, external_id, format, payload, state, received_at)
            VALUES (@Channel, @ExternalId, @Format, @Payload, @state, @at)
            ON CONFLICT (channel, external_id) DO NOTHING
            RETURNING id
            """, new { raw.Channel, raw.ExternalId, raw.Format, raw.Payload, state, at }, cancellationToken);

    public Task<InboundRow?> FindAsync(SqlScope db, string channel, string externalId, CancellationToken cancellationToken) =>
        db.SingleOrDefaultAsync<InboundRow>($"SELECT {Columns} FROM inbound WHERE channel = @channel AND external_id = @externalId",
            new { channel, externalId }, cancellationToken);

    public Task<InboundRow?> GetAsync(SqlScope db, long id, CancellationToken cancellationToken) =>
        db.SingleOrDefaultAsync<InboundRow>($"SELECT {Columns} FROM inbound WHERE id = @id", new { id }, cancellationToken);

    public Task<RawInbound?> PayloadAsync(SqlScope db, long id, CancellationToken cancellationToken) =>
        db.SingleOrDefaultAsync<RawInbound>(
            "SELECT channel AS Channel, external_id AS ExternalId, format AS Format, payload AS Payload FROM inbound WHERE id = @id",
            new { id }, cancellationToken);

    public Task MarkProcessedAsync(SqlScope db, long id, long? ticketId, long? messageId, long at, CancellationToken cancellationToken) =>
        db.WriteAsync("""
            UPDATE inbound SET state = 'processed', attempts = attempts + 1, last_error = NULL,
                ticket_id = @ticketId, message_id = @messageId, processed_at = @at
            WHERE id = @id
            """, new { id, ticketId, messageId, at }, cancellationToken);

    public Task MarkDeadAsync(SqlScope db, long id, string error, long at, CancellationToken cancellationToken) =>
        db.ExecuteAsync("UPDATE inbound SET state = 'dead', attempts = attempts + 1, last_error = @error, processed_at = @at WHERE id = @id",
            new { id, error, at }, cancellationToken);

    public Task<IReadOnlyList<InboundRow>> ListAsync(SqlScope db, string state, int limit, CancellationToken cancellationToken) =>
        db.ListAsync<InboundRow>($"SELECT {Columns} FROM inbound WHERE {StateIs(state)} ORDER BY id LIMIT @limit",
            new { state, limit }, cancellationToken);

    /// <summary>
    /// The oldest pending payloads with their bytes, in arrival order: one query for the pending worker's next round.
    /// The condition repeats the partial index's, see <see cref="StateIs"/>.
    /// </summary>
    public async Task<IReadOnlyList<(long Id, RawInbound Raw)>> PendingAsync(SqlScope db, int limit, CancellationToken cancellationToken) =>
        [.. (await db.ListAsync<PendingRow>(
            "SELECT id AS Id, channel AS Channel, external_id AS ExternalId, format AS Format, payload AS Payload FROM inbound WHERE state <> 'processed' AND state = 'pending' ORDER BY id LIMIT @limit",
            new { limit }, cancellationToken)).Select(r => (r.Id, new RawInbound(r.Channel, r.ExternalId, r.Format, r.Payload)))];

    private sealed class PendingRow
    {
        public long Id { get; init; }
        public string Channel { get; init; } = "";
        public string ExternalId { get; init; } = "";
        public string Format { get; init; } = "";
        public byte[] Payload { get; init; } = [];
    }

    public Task<long> CountAsync(SqlScope db, string state, CancellationToken cancellationToken) =>
        db.ScalarAsync<long>($"SELECT COUNT(*) FROM inbound WHERE {StateIs(state)}", new { state }, cancellationToken);

    /// <summary>
    /// The condition for rows in <paramref name="state"/>. Unfinished rows are found through the partial index
    /// <c>ix_inbound_unprocessed</c> (<c>WHERE state &lt;&gt; 'processed'</c>), which SQLite uses only when the query
    /// repeats the index's condition: it does not infer it from <c>state = 'pending'</c>, and without it every look-up
    /// would scan the whole table, processed history included.
    /// </summary>
    private static string StateIs(string state) => state == Processed ? "state = @state" : "state <> 'processed' AND state = @state";
}
