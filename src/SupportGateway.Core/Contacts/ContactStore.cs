using SupportGateway.Core.Storage;

namespace SupportGateway.Core.Contacts;

public sealed record ContactRow
{
    public long Id { get; init; }
    public string? Name { get; init; }
    public string? Email { get; init; }
    public string? Phone { get; init; }
    public long? OrganisationId { get; init; }
    public long CreatedAt { get; init; }

    /// <summary>When the identity it was found by refused delivery for good; only read with that identity.</summary>
    public long? UnreachableAt { get; init; }

    /// <summary>The organisation's account number (the intake API's <c>contact.accountNumber</c>), where read with it.</summary>
    public string? AccountNumber { get; init; }
}

/// <summary>A chat bound to an organisation, and who bound it (<c>telegram:…</c>, <c>whatsapp:…</c>, <c>api:…</c>).</summary>
public sealed record ConversationBinding
{
    public string Conversation { get; init; } = "";
    public string BoundBy { get; init; } = "";
    public long BoundAt { get; init; }
}

/// <summary>Contacts, their per-channel identities, and organisations.</summary>
public sealed class ContactStore
{
    private const string Columns = "id, name, email, phone, organisation_id, created_at";

    /// <summary>The contact behind a channel identity, with what we know of it; null for a new sender.</summary>
    public Task<ContactRow?> FindContactByIdentityAsync(SqlScope db, string channel, string identity, CancellationToken cancellationToken) =>
        db.SingleOrDefaultAsync<ContactRow>("""
            SELECT c.id, c.name, c.email, c.phone, c.organisation_id, c.created_at, i.unreachable_at
            FROM contact_identities i JOIN contacts c ON c.id = i.contact_id
            WHERE i.channel = @channel AND i.identity = @identity
            """, new { channel, identity }, cancellationToken);

    public Task<long?> FindByIdentityAsync(SqlScope db, string channel, string identity, CancellationToken cancellationToken) =>
        db.ScalarAsync<long?>("SELECT contact_id FROM contact_identities WHERE channel = @channel AND identity = @identity",
            new { channel, identity }, cancellationToken);

    public async Task<long> CreateWithIdentityAsync(SqlScope db, string channel, string identity, ContactRow contact, CancellationToken cancellationToken)
    {
        var id = await db.ScalarAsync<long>("""
            INSERT INTO contacts (name, email, phone, organisation_id, created_at)
            VALUES (@Name, @Email, @Phone, @OrganisationId, @CreatedAt) RETURNING id
            """, contact, cancellationToken);
        await db.WriteAsync("""
            INSERT INTO contact_identities (channel, identity, contact_id, created_at) VALUES (@channel, @identity, @id, @at)
            """, new { channel, identity, id, at = contact.CreatedAt }, cancellationToken);
        return id;
    }

    /// <summary>Fills in what a later message tells us (a name or an email) without overwriting what we know.</summary>
    public Task EnrichAsync(SqlScope db, long id, string? name, string? email, string? phone, long? organisationId, CancellationToken cancellationToken) =>
        db.WriteAsync("""
            UPDATE contacts SET name = COALESCE(name, @name), email = COALESCE(email, @email), phone = COALESCE(phone, @phone),
                organisation_id = COALESCE(organisation_id, @organisationId)
            WHERE id = @id
            """, new { id, name, email, phone, organisationId }, cancellationToken);

    public Task<string?> AccountNumberAsync(SqlScope db, long organisationId, CancellationToken cancellationToken) =>
        db.ScalarAsync<string>("SELECT account_number FROM organisations WHERE id = @organisationId", new { organisationId }, cancellationToken);

    public Task<ContactRow?> GetAsync(SqlScope db, long id, CancellationToken cancellationToken) =>
        db.SingleOrDefaultAsync<ContactRow>($"{WithAccountSql} WHERE c.id = @id", new { id }, cancellationToken);

    /// <summary>Contacts by id, with their account numbers: the people an audit trail names.</summary>
    public Task<IReadOnlyList<ContactRow>> GetManyAsync(SqlScope db, IReadOnlyList<long> ids, CancellationToken cancellationToken) =>
        db.ListAsync<ContactRow>($"{WithAccountSql} WHERE c.id IN @ids", new { ids }, cancellationToken);

    private const string WithAccountSql = """
        SELECT c.id, c.name, c.email, c.phone, c.organisation_id, c.created_at, o.account_number
        FROM contacts c LEFT JOIN organisations o ON o.id = c.organisation_id
        """;

    /// <summary>Finds or creates the organisation with this account number.</summary>
    public Task<long> OrganisationByAccountAsync(SqlScope db, string accountNumber, long at, CancellationToken cancellationToken) =>
        db.ScalarAsync<long>("""
            INSERT INTO organisations (name, account_number, created_at) VALUES (@accountNumber, @accountNumber, @at)
            ON CONFLICT (account_number) DO UPDATE SET account_number = excluded.account_number
            RETURNING id
            """, new { accountNumber, at }, cancellationToken);

    /// <summary>
    /// The channel refused to deliver to this identity for good (a blocked bot): agents must reach the person another
    /// way. False when it was marked so already, so the agents are told once, not at every answer.
    /// </summary>
    public async Task<bool> MarkUnreachableAsync(SqlScope db, string channel, string identity, string reason, long at, CancellationToken cancellationToken)
    {
        if (await db.ScalarAsync<long>("SELECT COUNT(*) FROM contact_identities WHERE channel = @channel AND identity = @identity AND unreachable_at IS NOT NULL",
            new { channel, identity }, cancellationToken) > 0)
            return false;
        await db.ExecuteAsync("UPDATE contact_identities SET unreachable_at = @at, unreachable_reason = @reason WHERE channel = @channel AND identity = @identity",
            new { channel, identity, reason, at }, cancellationToken);
        return true;
    }

    /// <summary>They wrote again, so the channel reaches them again.</summary>
    public Task MarkReachableAsync(SqlScope db, string channel, string identity, CancellationToken cancellationToken) =>
        db.WriteAsync("UPDATE contact_identities SET unreachable_at = NULL, unreachable_reason = NULL WHERE channel = @channel AND identity = @identity",
            new { channel, identity }, cancellationToken);

    /// <summary>Binds a chat (a customer's group) to an organisation: its members write for it and may continue its tickets.</summary>
    public Task BindConversationAsync(SqlScope db, string channel, string conversation, long organisationId, string boundBy, long at,
        CancellationToken cancellationToken) =>
        db.ExecuteAsync("""
            INSERT INTO conversation_bindings (channel, conversation, organisation_id, bound_by, bound_at)
            VALUES (@channel, @conversation, @organisationId, @boundBy, @at)
            ON CONFLICT (channel, conversation) DO UPDATE SET organisation_id = excluded.organisation_id, bound_by = excluded.bound_by, bound_at = excluded.bound_at
            """, new { channel, conversation, organisationId, boundBy, at }, cancellationToken);

    public Task<long?> BoundOrganisationAsync(SqlScope db, string channel, string conversation, CancellationToken cancellationToken) =>
        db.ScalarAsync<long?>("SELECT organisation_id FROM conversation_bindings WHERE channel = @channel AND conversation = @conversation",
            new { channel, conversation }, cancellationToken);

    /// <summary>The chat is no longer the organisation's (the group was deleted); its members write for nobody in particular again.</summary>
    public Task UnbindConversationAsync(SqlScope db, string channel, string conversation, CancellationToken cancellationToken) =>
        db.ExecuteAsync("DELETE FROM conversation_bindings WHERE channel = @channel AND conversation = @conversation",
            new { channel, conversation }, cancellationToken);

    /// <summary>The chats of a channel bound to an organisation, oldest binding first.</summary>
    public Task<IReadOnlyList<ConversationBinding>> BindingsAsync(SqlScope db, string channel, long organisationId, CancellationToken cancellationToken) =>
        db.ListAsync<ConversationBinding>("""
            SELECT conversation, bound_by, bound_at FROM conversation_bindings
            WHERE channel = @channel AND organisation_id = @organisationId ORDER BY bound_at, conversation
            """, new { channel, organisationId }, cancellationToken);

    /// <summary>
    /// Records that a chat was given a notice (an unbound group told how to bind it): true the first time, false
    /// when it had it already, so the notice goes once and not at every message.
    /// </summary>
    public async Task<bool> NoticeOnceAsync(SqlScope db, string channel, string conversation, string notice, long at, CancellationToken cancellationToken) =>
        await db.ExecuteAsync("""
            INSERT INTO conversation_notices (channel, conversation, notice, at) VALUES (@channel, @conversation, @notice, @at)
            ON CONFLICT (channel, conversation, notice) DO NOTHING
            """, new { channel, conversation, notice, at }, cancellationToken) == 1;

    /// <summary>Forgets the chat's notices: after a binding ends, the next stranger is told again.</summary>
    public Task ForgetNoticesAsync(SqlScope db, string channel, string conversation, CancellationToken cancellationToken) =>
        db.ExecuteAsync("DELETE FROM conversation_notices WHERE channel = @channel AND conversation = @conversation",
            new { channel, conversation }, cancellationToken);

    /// <summary>The organisation with this account number, if the gateway knows it; unlike <see cref="OrganisationByAccountAsync"/> it creates none.</summary>
    public Task<long?> FindOrganisationAsync(SqlScope db, string accountNumber, CancellationToken cancellationToken) =>
        db.ScalarAsync<long?>("SELECT id FROM organisations WHERE account_number = @accountNumber", new { accountNumber }, cancellationToken);
}
