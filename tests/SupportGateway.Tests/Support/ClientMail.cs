using MimeKit;

namespace SupportGateway.Tests.Support;

/// <summary>A customer's or an agent's mail as their mail client writes it, built with MimeKit.</summary>
internal static class ClientMail
{
    public static MimeMessage Create(string fromName, string from, IEnumerable<InternetAddress> to, string subject, string text,
        string? messageId = null, string? inReplyTo = null, IEnumerable<string>? references = null,
        IEnumerable<(string FileName, string ContentType, byte[] Content)>? files = null)
    {
        var body = new BodyBuilder { TextBody = text };
        foreach (var (fileName, contentType, content) in files ?? [])
            body.Attachments.Add(fileName, content, ContentType.Parse(contentType));
        var message = new MimeMessage([new MailboxAddress(fromName, from)], to, subject, body.ToMessageBody()) { InReplyTo = inReplyTo };
        if (messageId is not null)
            message.MessageId = messageId;
        message.References.AddRange(references ?? []);
        return message;
    }

    public static MimeMessage Create(string fromName, string from, string to, string subject, string text,
        string? messageId = null, string? inReplyTo = null, IEnumerable<string>? references = null,
        IEnumerable<(string FileName, string ContentType, byte[] Content)>? files = null) =>
        Create(fromName, from, [MailboxAddress.Parse(to)], subject, text, messageId, inReplyTo, references, files);
}
