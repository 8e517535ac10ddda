using SupportGateway.Core.Outbox;
using SupportGateway.Mail.Mime;
using SupportGateway.Mail.Smtp;

namespace SupportGateway.Host.Channels.Email;

/// <summary>What both mail senders share: the outbox message's files, and submission with the SMTP outcome mapped to retry or not.</summary>
internal sealed class MailSubmission(OutboundFiles files)
{
    public async Task<IReadOnlyList<OutgoingAttachment>> FilesAsync(OutboundMessage message, CancellationToken cancellationToken) =>
        [.. (await files.LoadAsync(message, cancellationToken)).Select(f =>
            new OutgoingAttachment(f.File.FileName, f.File.ContentType, f.Content) { ContentId = f.File.ContentId, Inline = f.File.Inline })];

    /// <summary>Submits through the mailbox's SMTP server; a 5xx becomes <see cref="PermanentDeliveryException"/>, a 4xx a retry.</summary>
    public static async Task SubmitAsync(MailboxOptions mailbox, OutgoingMessage message, string recipient, CancellationToken cancellationToken)
    {
        var bytes = MimeWriter.Write(message);
        await using var smtp = new SmtpClient(mailbox.Smtp.ToClient(mailbox.Domain));
        await smtp.ConnectAsync(cancellationToken);
        var result = await smtp.SendAsync(bytes, mailbox.Address, [recipient], cancellationToken);
        await smtp.QuitAsync(cancellationToken);
        var outcome = result.Recipients.Single();
        var refusal = outcome.Outcome != RecipientOutcome.Accepted ? outcome.Reply : result.DataReply is { IsPositive: false } data ? data : null;
        if (refusal is not null)
            throw refusal.IsPermanent ? new PermanentDeliveryException($"{recipient}: {refusal}") : new IOException($"{recipient}: {refusal}");
    }
}
