using SupportGateway.Core.Storage;

namespace SupportGateway.Core.Tickets;

/// <summary>Tickets, their participants and their audit trail.</summary>
public sealed class TicketStore(Database database)
{
    private const string Columns = """
        id, number, subject, status, priority, type, resolution, assignee, requester_id, organisation_id,
        channel, account, conversation_key, reply_address, language, created_at, updated_at, resolved_at, closed_at,
        sla_policy, sla_due_at, sla_warn_at, sla_next_at
        """;

    private const string InsertSql = """
        INSERT INTO tickets (id, number, subject, subject_folded, status, priority, type, requester_id, organisation_id,
            channel, account, conversation_key, reply_address, language, created_at, updated_at,
            sla_policy, sla_due_at, sla_warn_at, sla_next_at)
        VALUES (@Id, @Number, @Subject, @SubjectFolded, @Status, @Priority, @Type, @RequesterId, @OrganisationId,
            @Channel, @Account, @ConversationKey, @ReplyAddress, @Language, @CreatedAt, @UpdatedAt,
            @SlaPolicy, @SlaDueAt, @SlaWarnAt, @SlaNextAt)
        """;

    private const string ActiveInConversationSql = $"""
        SELECT {Columns} FROM tickets
        WHERE channel = @channel AND conversation_key = @key AND status NOT IN ('resolved', 'closed')
        ORDER BY id DESC LIMIT 1
        """;

    private const string LastSettledInConversationSql = $"""
        SELECT {Columns} FROM tickets
        WHERE channel = @channel AND conversation_key = @key AND status IN ('resolved', 'closed')
        ORDER BY updated_at DESC, id DESC LIMIT 1
        """;

    private const string ByMessageExternalIdSql = $"""
        SELECT {Columns} FROM tickets WHERE id IN (
            SELECT ticket_id FROM messages WHERE channel = @channel AND external_id IN @ids
            UNION SELECT ticket_id FROM outbox WHERE external_id IN @ids AND channel = @channel)
        ORDER BY id DESC LIMIT 1
        """;

    private const string UpdateSql = """
        UPDATE tickets SET subject = @Subject, subject_folded = @SubjectFolded, status = @Status, priority = @Priority, type = @Type, resolution = @Resolution,
            assignee = @Assignee, updated_at = @UpdatedAt, resolved_at = @ResolvedAt, closed_at = @ClosedAt
        WHERE id = @Id
        """;

    /// <summary>
    /// Takes the next sequence value: SQLite's UPDATE holds the row lock, PostgreSQL's sequence is shared by every
    /// instance without one; the primary key is the final guard.
    /// </summary>
    public Task<long> NextSequenceAsync(DbSession session, long start, CancellationToken cancellationToken) =>
        ((SqlScope)session).ScalarAsync<long>(database.Dialect.NextTicketSql, new { start }, cancellationToken);

    public Task InsertAsync(SqlScope db, TicketRow ticket, CancellationToken cancellationToken) =>
        db.WriteAsync(InsertSql, ticket, cancellationToken);

    public Task UpdateAsync(SqlScope db, TicketRow ticket, CancellationToken cancellationToken) =>
        db.WriteAsync(UpdateSql, ticket, cancellationToken);

    public Task TouchAsync(SqlScope db, long ticketId, long at, CancellationToken cancellationToken) =>
        db.WriteAsync("UPDATE tickets SET updated_at = @at WHERE id = @ticketId", new { ticketId, at }, cancellationToken);

    public Task<TicketRow?> GetAsync(SqlScope db, long id, CancellationToken cancellationToken) =>
        db.SingleOrDefaultAsync<TicketRow>($"SELECT {Columns} FROM tickets WHERE id = @id", new { id }, cancellationToken);

    public Task<IReadOnlyList<TicketRow>> GetManyAsync(SqlScope db, IReadOnlyList<long> ids, CancellationToken cancellationToken) =>
        db.ListAsync<TicketRow>($"SELECT {Columns} FROM tickets WHERE id IN @ids", new { ids }, cancellationToken);

    public Task<TicketRow?> FindActiveInConversationAsync(SqlScope db, string channel, string key, CancellationToken cancellationToken) =>
        db.SingleOrDefaultAsync<TicketRow>(ActiveInConversationSql, new { channel, key }, cancellationToken);

    /// <summary>The conversation's most recently resolved or closed ticket: what a late "thank you" is about.</summary>
    public Task<TicketRow?> FindLastSettledInConversationAsync(SqlScope db, string channel, string key, CancellationToken cancellationToken) =>
        db.SingleOrDefaultAsync<TicketRow>(LastSettledInConversationSql, new { channel, key }, cancellationToken);

    public Task<TicketRow?> FindByMessageExternalIdAsync(SqlScope db, string channel, IReadOnlyList<string> ids, CancellationToken cancellationToken) =>
        ids.Count == 0
            ? Task.FromResult<TicketRow?>(null)
            : db.SingleOrDefaultAsync<TicketRow>(ByMessageExternalIdSql, new { channel, ids }, cancellationToken);

    /// <summary>The conversation's tickets stop being its active one: the next message there opens a new ticket.</summary>
    public Task DetachConversationAsync(SqlScope db, string channel, string conversationKey, CancellationToken cancellationToken) =>
        db.ExecuteAsync("UPDATE tickets SET conversation_key = NULL WHERE channel = @channel AND conversation_key = @conversationKey",
            new { channel, conversationKey }, cancellationToken);

    /// <summary>True when <paramref name="externalId"/> is the id of something this gateway sent, on any channel.</summary>
    public async Task<bool> IsOwnOutboundAsync(SqlScope db, string externalId, CancellationToken cancellationToken) =>
        await db.ScalarAsync<long>("SELECT COUNT(*) FROM outbox WHERE external_id = @externalId", new { externalId }, cancellationToken) > 0;

    public async Task<bool> IsParticipantAsync(SqlScope db, long ticketId, long contactId, CancellationToken cancellationToken) =>
        await db.ScalarAsync<long>("SELECT COUNT(*) FROM ticket_participants WHERE ticket_id = @ticketId AND contact_id = @contactId",
            new { ticketId, contactId }, cancellationToken) > 0;

    public Task AddParticipantAsync(SqlScope db, long ticketId, long contactId, string role, CancellationToken cancellationToken) =>
        db.WriteAsync("""
            INSERT INTO ticket_participants (ticket_id, contact_id, role) VALUES (@ticketId, @contactId, @role)
            ON CONFLICT (ticket_id, contact_id) DO NOTHING
            """, new { ticketId, contactId, role }, cancellationToken);

    public Task AuditAsync(SqlScope db, AuditRow entry, CancellationToken cancellationToken) =>
        db.WriteAsync("""
            INSERT INTO audit (ticket_id, at, actor, action, old_value, new_value)
            VALUES (@TicketId, @At, @Actor, @Action, @OldValue, @NewValue)
            """, entry, cancellationToken);

    public Task<IReadOnlyList<AuditRow>> AuditTrailAsync(SqlScope db, long ticketId, CancellationToken cancellationToken) =>
        db.ListAsync<AuditRow>("SELECT id, ticket_id, at, actor, action, old_value, new_value FROM audit WHERE ticket_id = @ticketId ORDER BY id",
            new { ticketId }, cancellationToken);

    /// <summary>
    /// Newest first, or by due time (<paramref name="byDue"/>: the soonest first, tickets without a running clock last).
    /// <paramref name="query"/> matches the number or subject; <paramref name="sla"/> is <c>breached</c> (the target is
    /// used up) or <c>at_risk</c> (past the first warning, not yet due), for open tickets.
    /// </summary>
    public Task<IReadOnlyList<TicketRow>> SearchAsync(SqlScope db, string? status, string? query, string? sla, bool byDue, long now, int limit,
        CancellationToken cancellationToken) =>
        db.ListAsync<TicketRow>($"""
            SELECT {Columns} FROM tickets
            WHERE (@status IS NULL OR status = @status)
              AND (@like IS NULL OR subject_folded LIKE @like ESCAPE '\' OR LOWER(number) LIKE @like ESCAPE '\')
              {sla switch
              {
                  "breached" => "AND status <> 'closed' AND sla_due_at <= @now",
                  "at_risk" => "AND status <> 'closed' AND sla_warn_at <= @now AND sla_due_at > @now",
                  _ => "",
              }}
            ORDER BY {(byDue ? "CASE WHEN sla_due_at IS NULL THEN 1 ELSE 0 END, sla_due_at, id" : "id DESC")} LIMIT @limit
            """, new { status, like = query is null ? null : TextFold.ContainsPattern(query), now, limit }, cancellationToken);

    /// <summary>Folds the subjects of rows written before <c>subject_folded</c> existed; a no-op once they all have one.</summary>
    public static async Task FillFoldedSubjectsAsync(SqlScope db, CancellationToken cancellationToken)
    {
        while (await db.ListAsync<TicketRow>(
            "SELECT id, subject FROM tickets WHERE subject_folded IS NULL ORDER BY id LIMIT 500", null, cancellationToken) is { Count: > 0 } rows)
        {
            foreach (var row in rows)
                await db.ExecuteAsync("UPDATE tickets SET subject_folded = @SubjectFolded WHERE id = @Id", new { row.Id, row.SubjectFolded }, cancellationToken);
        }
    }

    public Task<IReadOnlyList<TicketRow>> ListForContactAsync(SqlScope db, long contactId, int limit, CancellationToken cancellationToken) =>
        db.ListAsync<TicketRow>($"""
            SELECT {Columns} FROM tickets WHERE id IN (SELECT ticket_id FROM ticket_participants WHERE contact_id = @contactId)
            ORDER BY id DESC LIMIT @limit
            """, new { contactId, limit }, cancellationToken);

    /// <summary>The contact's tickets still waiting for an answer or a solution (new, in progress, clarification).</summary>
    public Task<long> CountOpenForContactAsync(SqlScope db, long contactId, CancellationToken cancellationToken) =>
        db.ScalarAsync<long>("""
            SELECT COUNT(*) FROM tickets WHERE id IN (SELECT ticket_id FROM ticket_participants WHERE contact_id = @contactId)
            AND status IN ('new', 'in_progress', 'clarification')
            """, new { contactId }, cancellationToken);
}
