namespace SupportGateway.Mail.Mime;

/// <summary>
/// One MIME entity: headers, and either a body (a leaf), parts (multipart) or an embedded message
/// (message/rfc822). Bodies are slices of the parsed buffer and are decoded only when asked for.
/// </summary>
public sealed class MimeEntity
{
    private readonly List<MimeEntity> _parts = [];

    internal MimeEntity(HeaderList headers, ContentType contentType, long offset, ReadOnlyMemory<byte> body)
    {
        Headers = headers;
        ContentType = contentType;
        Offset = offset;
        Body = body;
        if (headers["Content-Disposition"] is { } disposition)
            Disposition = ContentDisposition.Parse(disposition.UnfoldedBytes);
        TransferEncoding = headers.Get("Content-Transfer-Encoding")?.Trim().ToLowerInvariant();
    }

    public HeaderList Headers { get; }

    public ContentType ContentType { get; }

    public ContentDisposition? Disposition { get; }

    /// <summary>Lower-cased Content-Transfer-Encoding, or null (7bit).</summary>
    public string? TransferEncoding { get; }

    /// <summary>Byte offset of the entity in the buffer it was parsed from.</summary>
    public long Offset { get; }

    /// <summary>The body as it is on the wire (still transfer-encoded).</summary>
    public ReadOnlyMemory<byte> Body { get; }

    public IReadOnlyList<MimeEntity> Parts => _parts;

    /// <summary>The message inside a message/rfc822 entity.</summary>
    public MimeEntity? EmbeddedMessage { get; internal set; }

    public ReadOnlyMemory<byte> Preamble { get; internal set; }

    public ReadOnlyMemory<byte> Epilogue { get; internal set; }

    public bool IsMultipart => ContentType.IsMultipart && _parts.Count > 0;

    /// <summary>The file name from Content-Disposition, else Content-Type's name (RFC 2183 §2.3; Outlook uses name=).</summary>
    public string? FileName
    {
        get
        {
            var name = Disposition?.FileName ?? ContentType.Name;
            return string.IsNullOrWhiteSpace(name) ? null : Path.GetFileName(name.Replace('\\', '/').Trim());
        }
    }

    public string? ContentId => Headers.Get("Content-ID")?.Trim().Trim('<', '>', ' ') is { Length: > 0 } id ? id : null;

    /// <summary>Attachment-like: disposition attachment, or a named leaf, or an attached message.</summary>
    public bool IsAttachment =>
        Disposition?.IsAttachment == true
        || (FileName is not null && !IsMultipart)
        || (EmbeddedMessage is not null && Disposition?.IsInline != true && ContentType.MediaSubtype == "rfc822");

    internal void AddPart(MimeEntity part) => _parts.Add(part);

    /// <summary>The content with its transfer encoding removed.</summary>
    public byte[] DecodedContent() => TransferEncodings.Decode(Body.Span, TransferEncoding);

    /// <summary>The content as text, in its declared charset or the likeliest one.</summary>
    public string DecodedText() => Charsets.Decode(DecodedContent(), ContentType.Charset);

    /// <summary>This entity and everything below it, depth first, into embedded messages too.</summary>
    public IEnumerable<MimeEntity> Walk()
    {
        yield return this;
        if (EmbeddedMessage is not null)
        {
            foreach (var entity in EmbeddedMessage.Walk())
                yield return entity;
        }
        foreach (var part in _parts)
        {
            foreach (var entity in part.Walk())
                yield return entity;
        }
    }

    public override string ToString() => $"{ContentType.MimeType} @{Offset}";
}
