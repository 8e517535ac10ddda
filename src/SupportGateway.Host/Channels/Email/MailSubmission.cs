using SupportGateway.Core.Outbox;
using SupportGateway.Mail.Mime;

namespace SupportGateway.Host.Channels.Email;

/// <summary>What both mail senders share: the outbox message's files, and submission with the SMTP outcome mapped to retry or not.</summary>
internal sealed class MailSubmission(OutboundFiles files, SmtpSessions sessions)
{
    public async Task<IReadOnlyList<OutgoingAttachment>> FilesAsync(OutboundMessage message, CancellationToken cancellationToken) =>
        [.. (await files.LoadAsync(message, cancellationToken)).Select(f =>
            new OutgoingAttachment(f.File.FileName, f.File.ContentType, f.Content) { ContentId = f.File.ContentId, Inline = f.File.Inline })];

    /// <summary>Submits through the mailbox's kept SMTP connection; a 5xx becomes <see cref="PermanentDeliveryException"/>, a 4xx a retry.</summary>
    public Task SubmitAsync(MailboxOptions mailbox, OutgoingMessage message, string recipient, CancellationToken cancellationToken) =>
        sessions.SubmitAsync(mailbox, MimeWriter.Write(message), recipient, cancellationToken);
}
