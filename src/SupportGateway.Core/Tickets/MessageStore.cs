using System.Security.Cryptography;
using SupportGateway.Core.Attachments;
using SupportGateway.Core.Storage;

namespace SupportGateway.Core.Tickets;

/// <summary>Messages on tickets and their attachments.</summary>
public sealed class MessageStore(AttachmentPolicy policy)
{
    private const string Columns = """
        id, ticket_id, direction, author_kind, author, contact_id, channel, external_id, text, html, signature, internal,
        technical_details, inbound_id, created_at
        """;

    private const string InsertSql = """
        INSERT INTO messages (ticket_id, direction, author_kind, author, contact_id, channel, external_id, text, html,
            signature, internal, technical_details, inbound_id, created_at)
        VALUES (@TicketId, @Direction, @AuthorKind, @Author, @ContactId, @Channel, @ExternalId, @Text, @Html,
            @Signature, @Internal, @TechnicalDetails, @InboundId, @CreatedAt)
        RETURNING id
        """;

    private const string InsertAttachmentSql = """
        INSERT INTO attachments (message_id, file_name, content_type, size, content_id, inline, sha256, content)
        VALUES (@messageId, @fileName, @contentType, @size, @contentId, @inline, @sha256, @content)
        """;

    private const string AttachmentColumns = "id, message_id, file_name, content_type, size, content_id, inline, sha256";

    public Task<long> InsertAsync(SqlScope db, MessageRow message, CancellationToken cancellationToken) =>
        db.ScalarAsync<long>(InsertSql, message, cancellationToken);

    /// <summary>Stores a file as <see cref="AttachmentPolicy"/> judges it: every channel's files come through here.</summary>
    public Task InsertAttachmentAsync(SqlScope db, long messageId, string fileName, string contentType, byte[] content,
        string? contentId, bool inline, CancellationToken cancellationToken)
    {
        var file = policy.Vet(fileName, contentType, content, inline);
        return db.WriteAsync(InsertAttachmentSql, new
        {
            messageId, fileName = file.FileName, contentType = file.ContentType, size = (long)content.Length, contentId, inline = file.Inline,
            sha256 = Convert.ToHexStringLower(SHA256.HashData(content)), content,
        }, cancellationToken);
    }

    /// <summary>The ticket of the message a channel knows by <paramref name="externalId"/>, if it is stored (unique per channel).</summary>
    public Task<long?> TicketOfExternalIdAsync(SqlScope db, string channel, string externalId, CancellationToken cancellationToken) =>
        db.ScalarAsync<long?>("SELECT ticket_id FROM messages WHERE channel = @channel AND external_id = @externalId", new { channel, externalId }, cancellationToken);

    public Task<MessageRow?> GetAsync(SqlScope db, long id, CancellationToken cancellationToken) =>
        db.SingleOrDefaultAsync<MessageRow>($"SELECT {Columns} FROM messages WHERE id = @id", new { id }, cancellationToken);

    public Task<IReadOnlyList<MessageRow>> ListAsync(SqlScope db, long ticketId, bool includeInternal, CancellationToken cancellationToken) =>
        db.ListAsync<MessageRow>($"""
            SELECT {Columns} FROM messages WHERE ticket_id = @ticketId AND (@includeInternal OR internal = @no) ORDER BY id
            """, new { ticketId, includeInternal, no = false }, cancellationToken);

    public Task<long> LatestIdAsync(SqlScope db, long ticketId, CancellationToken cancellationToken) =>
        db.ScalarAsync<long>("SELECT MAX(id) FROM messages WHERE ticket_id = @ticketId", new { ticketId }, cancellationToken);

    public Task<IReadOnlyList<MessageRow>> GetManyAsync(SqlScope db, IReadOnlyList<long> ids, CancellationToken cancellationToken) =>
        db.ListAsync<MessageRow>($"SELECT {Columns} FROM messages WHERE id IN @ids", new { ids }, cancellationToken);

    /// <summary>The latest inbound message of each ticket.</summary>
    public Task<IReadOnlyList<MessageRow>> LastInboundOfAsync(SqlScope db, IReadOnlyList<long> ticketIds, CancellationToken cancellationToken) =>
        db.ListAsync<MessageRow>($"""
            SELECT {Columns} FROM messages WHERE id IN (
                SELECT MAX(id) FROM messages WHERE ticket_id IN @ticketIds AND direction = 'in' GROUP BY ticket_id)
            """, new { ticketIds }, cancellationToken);

    public Task<IReadOnlyList<AttachmentRow>> AttachmentsOfMessagesAsync(SqlScope db, IReadOnlyList<long> messageIds, CancellationToken cancellationToken) =>
        db.ListAsync<AttachmentRow>($"SELECT {AttachmentColumns} FROM attachments WHERE message_id IN @messageIds ORDER BY id",
            new { messageIds }, cancellationToken);

    public Task<IReadOnlyList<AttachmentRow>> AttachmentsOfTicketAsync(SqlScope db, long ticketId, CancellationToken cancellationToken) =>
        db.ListAsync<AttachmentRow>($"""
            SELECT {AttachmentColumns} FROM attachments WHERE message_id IN (SELECT id FROM messages WHERE ticket_id = @ticketId) ORDER BY id
            """, new { ticketId }, cancellationToken);

    public Task<AttachmentRow?> GetAttachmentAsync(SqlScope db, long id, CancellationToken cancellationToken) =>
        db.SingleOrDefaultAsync<AttachmentRow>($"SELECT {AttachmentColumns} FROM attachments WHERE id = @id", new { id }, cancellationToken);

    public Task<byte[]?> AttachmentContentAsync(SqlScope db, long id, CancellationToken cancellationToken) =>
        db.ScalarAsync<byte[]>("SELECT content FROM attachments WHERE id = @id", new { id }, cancellationToken);
}
