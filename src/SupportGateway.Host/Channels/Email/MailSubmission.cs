using MimeKit;
using MimeKit.Utils;
using SupportGateway.Core.Outbox;

namespace SupportGateway.Host.Channels.Email;

/// <summary>
/// What both mail senders share: a MimeKit message from a mailbox to one recipient, a body with the outbox message's
/// files, and submission with the SMTP outcome mapped to retry or not. MimeKit writes the bytes: RFC 2047
/// encoded-words for non-ASCII headers, RFC 2231 file names, lines folded and never over 998 octets.
/// </summary>
internal sealed class MailSubmission(OutboundFiles files, SmtpSessions sessions)
{
    /// <summary>
    /// A message from <paramref name="mailbox"/> to <paramref name="recipient"/>; without <paramref name="messageId"/>
    /// a random one at the mailbox's domain (RFC 5322 §3.6.4). <paramref name="headers"/> follow in order.
    /// </summary>
    public static MimeMessage Create(MailboxOptions mailbox, string recipient, string subject, string? messageId,
        params IEnumerable<(string Field, string Value)> headers)
    {
        var message = new MimeMessage { Subject = subject, MessageId = messageId ?? MimeUtils.GenerateMessageId(mailbox.Domain) };
        message.From.Add(new MailboxAddress(mailbox.DisplayName ?? "", mailbox.Address));
        try
        {
            message.To.Add(new MailboxAddress("", recipient));
        }
        catch (ParseException ex)
        {
            // Kept in the outbox as failed with the reason, not retried: no later attempt can make it an address.
            throw new PermanentDeliveryException($"{recipient}: not a mail address ({ex.Message})", ex);
        }
        foreach (var (field, value) in headers)
            message.Headers.Add(field, value);
        return message;
    }

    /// <summary>The text (and HTML, when given) with the files of <paramref name="filesOf"/>: inline images beside the HTML that shows them.</summary>
    public async Task<MimeEntity> BodyAsync(string text, string? html, OutboundMessage? filesOf, CancellationToken cancellationToken)
    {
        var body = new BodyBuilder { TextBody = text, HtmlBody = html };
        if (filesOf is not null)
        {
            foreach (var (file, content) in await files.LoadAsync(filesOf, cancellationToken))
                Attach(body, file.FileName, file.ContentType, content, file.ContentId, file.Inline);
        }
        return body.ToMessageBody();
    }

    /// <summary>
    /// Adds a file: a linked resource of the HTML when it is inline with a Content-ID and there is HTML to show it,
    /// an attachment otherwise. The Content-Type name is also written as encoded-words, which Outlook reads when it
    /// ignores RFC 2231.
    /// </summary>
    public static void Attach(BodyBuilder body, string fileName, string contentType, byte[] content, string? contentId = null, bool inline = false)
    {
        var part = new MimePart(ContentType.TryParse(contentType, out var type) ? type : new ContentType("application", "octet-stream"))
        {
            Content = new MimeContent(new MemoryStream(content, writable: false)),
            ContentTransferEncoding = ContentEncoding.Base64,
            ContentDisposition = new ContentDisposition(inline ? ContentDisposition.Inline : ContentDisposition.Attachment),
            ContentId = contentId,
        };
        if (fileName.Length > 0)
        {
            part.FileName = fileName;
            foreach (var name in part.ContentType.Parameters.Where(p => p.Name == "name"))
                name.EncodingMethod = ParameterEncodingMethod.Rfc2047;
        }
        (inline && contentId is not null && body.HtmlBody is not null ? body.LinkedResources : body.Attachments).Add(part);
    }

    /// <summary>Submits through the mailbox's kept SMTP connection; a 5xx becomes <see cref="PermanentDeliveryException"/>, a 4xx a retry.</summary>
    public Task SubmitAsync(MailboxOptions mailbox, MimeMessage message, string recipient, CancellationToken cancellationToken) =>
        sessions.SubmitAsync(mailbox, message, recipient, cancellationToken);
}
