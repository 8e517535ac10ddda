using Microsoft.Extensions.Options;
using MimeKit;
using SupportGateway.Core.Outbox;
using SupportGateway.Core.Storage;

namespace SupportGateway.Host.Channels.Email;

/// <summary>
/// Sends outbox rows as mail from the ticket's mailbox: subject tagged "[SG-xxxxx]", threaded under the customer's
/// last message, and a Message-ID derived from the outbox row so a retry after a crash repeats the same id.
/// Acknowledgements say they are automatic (RFC 3834) so that auto-responders stay quiet.
/// </summary>
internal sealed class EmailSender(IOptionsMonitor<EmailOptions> options, MailSubmission submission, Database database, OutboxStore outbox) : IOutboundSender
{
    public string Channel => EmailNormalizer.Channel;

    /// <summary>Every mailbox's connections can be busy at once; each mailbox's own cap is kept by <see cref="SmtpSessions"/>.</summary>
    public int Concurrency => options.CurrentValue.Mailboxes.Sum(m => m.Smtp.Connections);

    public async Task<DeliveryReceipt> SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        var mailbox = settings.Find(message.Account) ?? settings.Mailboxes.FirstOrDefault()
            ?? throw new PermanentDeliveryException("no mailbox is configured to send from");
        var messageId = $"{message.Ticket.Number}.{message.IdempotencyKey}@{mailbox.Domain}";
        await submission.SubmitAsync(mailbox, await ComposeAsync(message, mailbox, messageId, cancellationToken), message.Recipient, cancellationToken);
        return new DeliveryReceipt(messageId);
    }

    private async Task<MimeMessage> ComposeAsync(OutboundMessage message, MailboxOptions mailbox, string messageId, CancellationToken cancellationToken)
    {
        var ticket = message.Ticket;
        var subject = ticket.Subject.Contains(ticket.Number, StringComparison.OrdinalIgnoreCase) ? ticket.Subject : $"[{ticket.Number}] {ticket.Subject}";
        var mail = MailSubmission.Create(mailbox, message.Recipient, subject, messageId, ("X-SupportGateway-Ticket", ticket.Number));
        if (message.Message.AuthorKind == "system")
        {
            mail.Headers.Add("Auto-Submitted", "auto-replied");
            // Exchange and Outlook send no out-of-office answer to mail that carries this.
            mail.Headers.Add("X-Auto-Response-Suppress", "All");
        }
        // Under the whole conversation: the customer's mail and ours, so the newest answer sits under the last one.
        IReadOnlyList<string> thread;
        await using (var connection = await database.OpenAsync(cancellationToken))
            thread = await outbox.ThreadIdsAsync(new SqlScope(connection), ticket.Id, EmailNormalizer.Channel, cancellationToken);
        if (thread.Count > 20)
            thread = [thread[0], .. thread.TakeLast(19)];
        mail.InReplyTo = thread.LastOrDefault();
        mail.References.AddRange(thread);
        mail.Body = await submission.BodyAsync(message.Message.Text, html: null, message, cancellationToken);
        return mail;
    }
}
