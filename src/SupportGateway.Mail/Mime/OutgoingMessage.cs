namespace SupportGateway.Mail.Mime;

/// <summary>A message to write: what <see cref="MimeWriter"/> turns into RFC 5322 bytes.</summary>
public sealed record OutgoingMessage
{
    public required MailAddress From { get; init; }

    public IReadOnlyList<MailAddress> To { get; init; } = [];

    public IReadOnlyList<MailAddress> Cc { get; init; } = [];

    public IReadOnlyList<MailAddress> ReplyTo { get; init; } = [];

    public string Subject { get; init; } = "";

    /// <summary>Without angle brackets; generated from the sender's domain when null.</summary>
    public string? MessageId { get; init; }

    /// <summary>Message-IDs without angle brackets.</summary>
    public string? InReplyTo { get; init; }

    public IReadOnlyList<string> References { get; init; } = [];

    /// <summary>Now when null.</summary>
    public DateTimeOffset? Date { get; init; }

    public string Text { get; init; } = "";

    /// <summary>An HTML alternative to <see cref="Text"/>.</summary>
    public string? Html { get; init; }

    public IReadOnlyList<OutgoingAttachment> Attachments { get; init; } = [];

    /// <summary>Further header fields in order, such as Auto-Submitted (RFC 3834) or X-Ticket.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];
}

/// <summary>A file to attach. Inline files with a content-id can be shown by the HTML part.</summary>
public sealed record OutgoingAttachment(string FileName, string ContentType, ReadOnlyMemory<byte> Content)
{
    public string? ContentId { get; init; }

    public bool Inline { get; init; }
}
