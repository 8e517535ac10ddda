using MimeKit;
using Charsets = SupportGateway.Mail.Mime.Charsets;

namespace SupportGateway.Mail.Inbound;

/// <summary>
/// Two things real mail does that MimeKit leaves opaque, read after MimeKit's parse so that no text is hidden:
/// a delimiter line with text after the boundary, and an attached message that is base64 or quoted-printable.
/// </summary>
internal static class MimeRepair
{
    /// <summary>Returns the entity to use in place of <paramref name="entity"/>, repaired below.</summary>
    public static MimeEntity? Repair(MimeEntity? entity, ParserOptions options, int depth)
    {
        if (entity is null || depth > options.MaxMimeDepth)
            return entity;
        entity = EncodedMessage(entity, options) ?? UnreadableType(entity) ?? entity;
        switch (entity)
        {
            case Multipart { Count: 0 } empty when empty.Boundary is { Length: > 0 } && empty.Preamble is { Length: > 0 }:
                Split(empty, options);
                RepairParts(empty, options, depth);
                break;
            case Multipart multipart:
                RepairParts(multipart, options, depth);
                break;
            case MessagePart { Message: { } message } when Repair(message.Body, options, depth + 1) is var body && !ReferenceEquals(body, message.Body):
                message.Body = body;
                break;
        }
        return entity;
    }

    private static void RepairParts(Multipart multipart, ParserOptions options, int depth)
    {
        for (var i = 0; i < multipart.Count; i++)
        {
            if (Repair(multipart[i], options, depth + 1) is { } part && !ReferenceEquals(part, multipart[i]))
                multipart[i] = part;
        }
    }

    /// <summary>
    /// RFC 2046 §5.1.1 (its note to implementors): a delimiter only has to begin the line, the boundary "in its
    /// entirety following the CRLF". MimeKit matches whole lines; when it found no delimiter at all, the parts are cut
    /// here at lines that begin with one, and each is parsed by MimeKit.
    /// </summary>
    private static void Split(Multipart multipart, ParserOptions options)
    {
        var bytes = InboundMail.OriginalBytes(multipart.Preamble!);
        var delimiter = System.Text.Encoding.ASCII.GetBytes("--" + multipart.Boundary);
        var cuts = new List<(int Start, int ContentEnd, int Next, bool Close)>();
        for (var pos = 0; pos < bytes.Length;)
        {
            var end = Array.IndexOf(bytes, (byte)'\n', pos);
            var next = end < 0 ? bytes.Length : end + 1;
            var line = bytes.AsSpan(pos, next - pos);
            if (line.StartsWith(delimiter))
            {
                var contentEnd = pos >= 2 && bytes[pos - 2] == '\r' ? pos - 2 : pos > 0 ? pos - 1 : pos;
                cuts.Add((pos, contentEnd, next, line[delimiter.Length..].StartsWith("--"u8)));
            }
            pos = next;
        }
        if (cuts.Count == 0)
            return;
        // When MimeKit did see the close delimiter, its preamble ends with the line break that belongs to it.
        var last = multipart.Epilogue is not null ? WithoutLastLineBreak(bytes) : bytes.Length;
        for (var k = 0; k < cuts.Count && !cuts[k].Close; k++)
        {
            var from = cuts[k].Next;
            var to = k + 1 < cuts.Count ? cuts[k + 1].ContentEnd : last;
            multipart.Add(Part(bytes[from..Math.Max(from, to)], options));
        }
        multipart.Preamble = Charsets.Decode(bytes.AsSpan(0, cuts[0].ContentEnd), multipart.ContentType.Charset);
        if (cuts.FindIndex(c => c.Close) is var close and >= 0)
            multipart.Epilogue = Charsets.Decode(bytes.AsSpan(cuts[close].Next), multipart.ContentType.Charset);
    }

    private static int WithoutLastLineBreak(byte[] bytes) =>
        bytes.AsSpan().EndsWith("\r\n"u8) ? bytes.Length - 2 : bytes.AsSpan().EndsWith("\n"u8) ? bytes.Length - 1 : bytes.Length;

    private static MimeEntity Part(byte[] bytes, ParserOptions options)
    {
        try
        {
            using var stream = new MemoryStream(bytes, writable: false);
            return MimeEntity.Load(options, stream, persistent: false);
        }
        catch (FormatException)
        {
            // A part without header fields is text/plain (RFC 2046 §5.1.1).
            return new TextPart("plain") { Content = new MimeContent(new MemoryStream(bytes, writable: false)) };
        }
    }

    /// <summary>
    /// A Content-Type MimeKit cannot read ("text" without a subtype) makes it an octet-stream; RFC 2045 §5.2 says a
    /// syntactically invalid Content-Type means the default, text/plain. A named file stays a file.
    /// </summary>
    private static TextPart? UnreadableType(MimeEntity entity)
    {
        if (entity is not MimePart { Content: { } content } part || entity is TextPart || MailParts.IsAttachment(entity)
            || entity.Headers[HeaderId.ContentType] is not { } declared || ContentType.TryParse(declared, out _))
            return null;
        var text = new TextPart("plain") { Content = content };
        foreach (var header in part.Headers.Where(h => h.Id is not (HeaderId.ContentType or HeaderId.MimeVersion)))
            text.Headers.Add(header.Clone());
        return text;
    }

    /// <summary>
    /// An attached message is never to be encoded (RFC 2046 §5.2.1), but Yandex and others base64 it; MimeKit then
    /// keeps it as an opaque part. Decoded and parsed, it is read like any attached message.
    /// </summary>
    private static MessagePart? EncodedMessage(MimeEntity entity, ParserOptions options)
    {
        if (entity is not MimePart { Content: { } content } part || !entity.ContentType.IsMimeType("message", "rfc822")
            || part.ContentTransferEncoding is not (ContentEncoding.Base64 or ContentEncoding.QuotedPrintable))
            return null;
        using var decoded = new MemoryStream();
        content.DecodeTo(decoded);
        decoded.Position = 0;
        MimeMessage message;
        try
        {
            message = new MimeParser(options, decoded).ParseMessage();
        }
        catch (FormatException)
        {
            return null;
        }
        var replacement = new MessagePart();
        replacement.Headers.Clear();
        foreach (var header in part.Headers.Where(h => h.Id != HeaderId.ContentTransferEncoding))
            replacement.Headers.Add(header.Clone());
        replacement.Message = message;
        return replacement;
    }
}
