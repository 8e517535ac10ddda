using Microsoft.Extensions.Options;
using SupportGateway.Core.Outbox;
using SupportGateway.Core.Storage;
using SupportGateway.Core.Tickets;
using SupportGateway.Mail.Mime;
using SupportGateway.Mail.Smtp;

namespace SupportGateway.Host.Channels.Email;

/// <summary>
/// Sends outbox rows as mail from the ticket's mailbox: subject tagged "[SG-xxxxx]", threaded under the customer's
/// last message, and a Message-ID derived from the outbox row so a retry after a crash repeats the same id.
/// Acknowledgements say they are automatic (RFC 3834) so that auto-responders stay quiet.
/// </summary>
internal sealed class EmailSender(IOptionsMonitor<EmailOptions> options, Database database, MessageStore messages) : IOutboundSender
{
    public string Channel => EmailNormalizer.Channel;

    public async Task<DeliveryReceipt> SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        var mailbox = settings.Find(message.Account) ?? settings.Mailboxes.FirstOrDefault()
            ?? throw new PermanentDeliveryException("no mailbox is configured to send from");
        var messageId = $"{message.Ticket.Number}.{message.IdempotencyKey}@{mailbox.Domain}";
        var bytes = MimeWriter.Write(await ComposeAsync(message, mailbox, messageId, cancellationToken));

        await using var smtp = new SmtpClient(mailbox.Smtp.ToClient(mailbox.Domain));
        await smtp.ConnectAsync(cancellationToken);
        var result = await smtp.SendAsync(bytes, mailbox.Address, [message.Recipient], cancellationToken);
        await smtp.QuitAsync(cancellationToken);
        var recipient = result.Recipients.Single();
        if (recipient.Outcome == RecipientOutcome.Permanent)
            throw new PermanentDeliveryException($"{message.Recipient} refused: {recipient.Reply}");
        if (recipient.Outcome == RecipientOutcome.Transient)
            throw new IOException($"{message.Recipient} deferred: {recipient.Reply}");
        if (result.DataReply is { IsPositive: false } data)
            throw data.IsPermanent ? new PermanentDeliveryException($"message refused: {data}") : new IOException($"message deferred: {data}");
        return new DeliveryReceipt(messageId);
    }

    private async Task<OutgoingMessage> ComposeAsync(OutboundMessage message, MailboxOptions mailbox, string messageId, CancellationToken cancellationToken)
    {
        var ticket = message.Ticket;
        var automatic = message.Message.AuthorKind == "system";
        var headers = new List<KeyValuePair<string, string>> { new("X-SupportGateway-Ticket", ticket.Number) };
        if (automatic)
        {
            headers.Add(new("Auto-Submitted", "auto-replied"));
            // Exchange and Outlook send no out-of-office answer to mail that carries this.
            headers.Add(new("X-Auto-Response-Suppress", "All"));
        }
        var customerMessage = message.InReplyTo is { Channel: EmailNormalizer.Channel, ExternalId: { } id } ? id : null;
        return new OutgoingMessage
        {
            From = new MailAddress(mailbox.DisplayName ?? "", mailbox.Address),
            To = [new MailAddress("", message.Recipient)],
            Subject = ticket.Subject.Contains(ticket.Number, StringComparison.OrdinalIgnoreCase) ? ticket.Subject : $"[{ticket.Number}] {ticket.Subject}",
            MessageId = messageId,
            InReplyTo = customerMessage,
            References = customerMessage is null ? [] : [customerMessage],
            Text = message.Message.Text,
            Attachments = await AttachmentsAsync(message, cancellationToken),
            Headers = headers,
        };
    }

    private async Task<IReadOnlyList<OutgoingAttachment>> AttachmentsAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        if (message.Attachments.Count == 0)
            return [];
        await using var connection = await database.OpenAsync(cancellationToken);
        var db = new SqlScope(connection);
        var files = new List<OutgoingAttachment>();
        foreach (var attachment in message.Attachments)
        {
            var content = await messages.AttachmentContentAsync(db, attachment.Id, cancellationToken) ?? [];
            files.Add(new OutgoingAttachment(attachment.FileName, attachment.ContentType, content) { ContentId = attachment.ContentId, Inline = attachment.Inline });
        }
        return files;
    }
}
