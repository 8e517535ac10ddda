using SupportGateway.Core.Storage;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Core.Outbox;

/// <summary>The bytes of an outbound message's attachments, for any channel's sender.</summary>
public sealed class OutboundFiles(Database database, MessageStore messages)
{
    public async Task<IReadOnlyList<(AttachmentRow File, byte[] Content)>> LoadAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        if (message.Attachments.Count == 0)
            return [];
        await using var connection = await database.OpenAsync(cancellationToken);
        var db = new SqlScope(connection);
        var files = new List<(AttachmentRow, byte[])>(message.Attachments.Count);
        foreach (var attachment in message.Attachments)
            files.Add((attachment, await messages.AttachmentContentAsync(db, attachment.Id, cancellationToken) ?? []));
        return files;
    }
}
