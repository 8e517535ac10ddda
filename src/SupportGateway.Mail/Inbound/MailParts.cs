using MimeKit;
using Charsets = SupportGateway.Mail.Mime.Charsets;

namespace SupportGateway.Mail.Inbound;

/// <summary>What the gateway reads from MimeKit's entities: which are files, their names, bytes and texts.</summary>
public static class MailParts
{
    /// <summary>This entity and everything below it, depth first, into attached messages too.</summary>
    public static IEnumerable<MimeEntity> Walk(MimeEntity? entity)
    {
        if (entity is null)
            yield break;
        yield return entity;
        IEnumerable<MimeEntity> children = entity switch
        {
            Multipart multipart => multipart,
            MessagePart { Message.Body: { } body } => [body],
            _ => [],
        };
        foreach (var child in children)
        {
            foreach (var below in Walk(child))
                yield return below;
        }
    }

    /// <summary>Leaf entities in order, not descending into attached messages; a multipart without parts is a leaf.</summary>
    public static IEnumerable<MimeEntity> Leaves(MimeEntity? entity)
    {
        if (entity is null)
            yield break;
        if (entity is not Multipart { Count: > 0 } multipart)
        {
            yield return entity;
            yield break;
        }
        foreach (var part in multipart)
        {
            foreach (var leaf in Leaves(part))
                yield return leaf;
        }
    }

    /// <summary>Attachment-like: disposition attachment, a named leaf, or an attached message not shown inline (RFC 2183).</summary>
    public static bool IsAttachment(MimeEntity entity) =>
        entity.ContentDisposition?.IsAttachment == true
        || (entity is not Multipart && FileName(entity) is not null)
        || (entity.ContentType.IsMimeType("message", "rfc822") && !IsInline(entity));

    public static bool IsInline(MimeEntity entity) =>
        string.Equals(entity.ContentDisposition?.Disposition, ContentDisposition.Inline, StringComparison.OrdinalIgnoreCase);

    /// <summary>The file name from Content-Disposition, else Content-Type's name (RFC 2183 §2.3; Outlook uses name=), without a path.</summary>
    public static string? FileName(MimeEntity entity)
    {
        var name = entity.ContentDisposition?.FileName ?? entity.ContentType.Name;
        return string.IsNullOrWhiteSpace(name) ? null : Path.GetFileName(name.Replace('\\', '/').Trim()) is { Length: > 0 } file ? file : null;
    }

    /// <summary>The Content-ID without angle brackets, also when it is written without them.</summary>
    public static string? ContentId(MimeEntity entity) =>
        entity.ContentId is { Length: > 0 } id ? id
        : entity.Headers[HeaderId.ContentId]?.Trim().Trim('<', '>', ' ') is { Length: > 0 } raw ? raw : null;

    /// <summary>
    /// The content with its transfer encoding removed. An attached message is its stored bytes with CRLF line ends
    /// (RFC 5322 §2.1), however it was encoded or stored.
    /// </summary>
    public static byte[] Content(MimeEntity entity)
    {
        using var output = new MemoryStream();
        switch (entity)
        {
            case MessagePart { Message: { } message }:
                message.WriteTo(Crlf, output);
                return output.ToArray();
            case MimePart { Content: { } content }:
                content.DecodeTo(output);
                return entity.ContentType.IsMimeType("message", "rfc822") ? ToCrlf(output.ToArray()) : output.ToArray();
            default:
                return [];
        }
    }

    /// <summary>The content as text: its raw bytes decoded in the declared charset, or the likeliest one (<see cref="Charsets"/>).</summary>
    public static string Text(MimeEntity entity) => entity switch
    {
        MimePart part => Charsets.Decode(Content(part), part.ContentType.Charset),
        Multipart multipart => PreambleText(multipart),
        _ => "",
    };

    /// <summary>A multipart's preamble (all of its body when no delimiter appears), in the charset its bytes are in.</summary>
    public static string PreambleText(Multipart multipart) =>
        multipart.Preamble is { Length: > 0 } preamble ? Charsets.Decode(InboundMail.OriginalBytes(preamble), multipart.ContentType.Charset) : "";

    private static readonly FormatOptions Crlf = CrlfOptions();

    private static FormatOptions CrlfOptions()
    {
        var options = FormatOptions.Default.Clone();
        options.NewLineFormat = NewLineFormat.Dos;
        return options;
    }

    private static byte[] ToCrlf(byte[] bytes)
    {
        using var output = new MemoryStream(bytes.Length + bytes.Length / 32);
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] == '\n' && (i == 0 || bytes[i - 1] != '\r'))
                output.WriteByte((byte)'\r');
            output.WriteByte(bytes[i]);
        }
        return output.ToArray();
    }
}
