using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace SupportGateway.Mail.Mime;

/// <summary>
/// Writes an <see cref="OutgoingMessage"/> as RFC 5322/MIME bytes: CRLF line endings, header lines folded at 78 and
/// never over 998 octets (RFC 5322 §2.1.1), non-ASCII header text as RFC 2047 encoded-words, non-ASCII file names as
/// RFC 2231 parameters, text as quoted-printable UTF-8 and files as base64.
/// </summary>
public static class MimeWriter
{
    private const int FoldAt = 78;

    /// <summary>45 bytes make 60 base64 characters: with "=?utf-8?B?" and "?=" a word stays under 75 (RFC 2047 §2).</summary>
    private const int EncodedWordBytes = 45;

    public static byte[] Write(OutgoingMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var output = new StringBuilder();
        WriteHeaders(message, output);
        WriteEntity(Body(message), output, inMultipart: false);
        // Everything above is ASCII but an address with a UTF-8 local part (RFC 6532), which needs SMTPUTF8.
        return Encoding.UTF8.GetBytes(output.ToString());
    }

    private static void WriteHeaders(OutgoingMessage message, StringBuilder output)
    {
        var date = message.Date ?? DateTimeOffset.Now;
        Field(output, "Date", [date.ToString("ddd, dd MMM yyyy HH:mm:ss ", CultureInfo.InvariantCulture) + date.ToString("zzz", CultureInfo.InvariantCulture).Replace(":", "", StringComparison.Ordinal)]);
        Field(output, "From", Addresses([message.From]));
        if (message.To.Count > 0)
            Field(output, "To", Addresses(message.To));
        if (message.Cc.Count > 0)
            Field(output, "Cc", Addresses(message.Cc));
        if (message.ReplyTo.Count > 0)
            Field(output, "Reply-To", Addresses(message.ReplyTo));
        Field(output, "Subject", Unstructured(message.Subject));
        Field(output, "Message-ID", [$"<{message.MessageId ?? NewMessageId(message.From.Address)}>"]);
        if (message.InReplyTo is { Length: > 0 } inReplyTo)
            Field(output, "In-Reply-To", [$"<{inReplyTo}>"]);
        if (message.References.Count > 0)
            Field(output, "References", [.. message.References.Select(r => $"<{r}>")]);
        foreach (var (name, value) in message.Headers)
            Field(output, name, Unstructured(value));
        Field(output, "MIME-Version", ["1.0"]);
    }

    /// <summary>A new Message-ID: 128 random bits at the sender's domain (RFC 5322 §3.6.4).</summary>
    public static string NewMessageId(string senderAddress)
    {
        var at = senderAddress.LastIndexOf('@');
        var domain = at >= 0 && at < senderAddress.Length - 1 ? senderAddress[(at + 1)..] : "localhost";
        return $"{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16))}@{domain}";
    }

    private sealed record Entity(IReadOnlyList<string[]> Headers, string? Content, IReadOnlyList<Entity> Parts);

    private static Entity Body(OutgoingMessage message)
    {
        var text = TextEntity("plain", message.Text);
        var body = message.Html is null ? text : Multipart("alternative", [text, TextEntity("html", message.Html)]);
        var inline = message.Attachments.Where(a => a.Inline && a.ContentId is not null && message.Html is not null).ToList();
        if (inline.Count > 0)
            body = Multipart("related", [body, .. inline.Select(FileEntity)]);
        var files = message.Attachments.Except(inline).ToList();
        return files.Count == 0 ? body : Multipart("mixed", [body, .. files.Select(FileEntity)]);
    }

    private static Entity TextEntity(string subtype, string text)
    {
        var normalized = text.ReplaceLineEndings("\r\n");
        var plain = normalized.All(c => c is '\r' or '\n' || c is >= ' ' and < '\x7f') && normalized.Split("\r\n").All(l => l.Length <= 998);
        return new Entity(
            [["Content-Type", $"text/{subtype};", "charset=utf-8"], ["Content-Transfer-Encoding", plain ? "7bit" : "quoted-printable"]],
            plain ? normalized : QuotedPrintable(Encoding.UTF8.GetBytes(normalized)),
            []);
    }

    private static Entity FileEntity(OutgoingAttachment file)
    {
        var disposition = file.Inline ? "inline" : "attachment";
        var named = file.FileName.Length > 0;
        List<string[]> headers =
        [
            named ? ["Content-Type", $"{file.ContentType};", .. NameParameter(file.FileName)] : ["Content-Type", file.ContentType],
            named ? ["Content-Disposition", $"{disposition};", .. Rfc2231("filename", file.FileName)] : ["Content-Disposition", disposition],
            ["Content-Transfer-Encoding", "base64"],
        ];
        if (file.ContentId is { } id)
            headers.Add(["Content-ID", $"<{id}>"]);
        return new Entity(headers, Convert.ToBase64String(file.Content.Span, Base64FormattingOptions.InsertLineBreaks), []);
    }

    private static Entity Multipart(string subtype, IReadOnlyList<Entity> parts) =>
        new([["Content-Type", $"multipart/{subtype};", $"boundary=\"{Boundary()}\""]], null, parts);

    /// <summary>"=_" cannot occur in quoted-printable or base64 text, so the boundary never collides with a body.</summary>
    private static string Boundary() => "=_sg_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    private static void WriteEntity(Entity entity, StringBuilder output, bool inMultipart)
    {
        foreach (var header in entity.Headers)
            Field(output, header[0], header[1..]);
        output.Append("\r\n");
        if (entity.Content is not null)
        {
            output.Append(entity.Content);
            // In a multipart the line break before a delimiter belongs to the delimiter (RFC 2046 §5.1.1).
            if (inMultipart || !entity.Content.EndsWith("\r\n", StringComparison.Ordinal))
                output.Append("\r\n");
            return;
        }
        var boundary = entity.Headers[0][^1]["boundary=\"".Length..^1];
        foreach (var part in entity.Parts)
        {
            output.Append("--").Append(boundary).Append("\r\n");
            WriteEntity(part, output, inMultipart: true);
        }
        output.Append("--").Append(boundary).Append("--\r\n");
    }

    /// <summary>Writes "Name: token token …", folding between tokens so no line passes 78 characters when avoidable.</summary>
    private static void Field(StringBuilder output, string name, IReadOnlyList<string> tokens)
    {
        output.Append(name).Append(':');
        var column = name.Length + 1;
        foreach (var token in tokens)
        {
            if (column + 1 + token.Length > FoldAt && column > name.Length + 1)
            {
                output.Append("\r\n");
                column = 0;
            }
            output.Append(' ').Append(token);
            column += 1 + token.Length;
        }
        output.Append("\r\n");
    }

    private static string[] Addresses(IReadOnlyList<MailAddress> addresses)
    {
        var tokens = new List<string>();
        for (var i = 0; i < addresses.Count; i++)
        {
            var (name, address) = (addresses[i].Name, addresses[i].Address);
            var last = i == addresses.Count - 1;
            if (name.Length > 0)
                tokens.AddRange(Phrase(name));
            // A bare address only when it is a plain addr-spec; anything odd a sender wrote stays inside angle brackets.
            var plain = name.Length == 0 && address.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-/=?^_`{|}~.@".Contains(c));
            tokens.Add((plain ? address : $"<{address}>") + (last ? "" : ","));
        }
        return [.. tokens];
    }

    /// <summary>A display name: as is when it is plain words, quoted when it has specials, encoded when not ASCII.</summary>
    private static string[] Phrase(string name)
    {
        if (!IsPrintableAscii(name) || name.Contains("=?", StringComparison.Ordinal))
            return EncodedWords(name);
        if (name.All(c => char.IsAsciiLetterOrDigit(c) || " !#$%&'*+-/=?^_`{|}~".Contains(c)) && !name.Contains("  ", StringComparison.Ordinal) && name.Trim() == name)
            return name.Split(' ');
        return ["\"" + name.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\""];
    }

    /// <summary>Unstructured text (RFC 5322 §3.2.5): words as they are, or encoded-words for anything else.</summary>
    private static string[] Unstructured(string text) =>
        IsPrintableAscii(text) && !text.Contains("=?", StringComparison.Ordinal) && !text.Contains("  ", StringComparison.Ordinal) && text.Trim() == text
            ? text.Split(' ')
            : EncodedWords(text);

    /// <summary>RFC 2047 "B" words, split between characters, never inside one (§5: each word must stand alone).</summary>
    private static string[] EncodedWords(string text)
    {
        var words = new List<string>();
        var chunk = new StringBuilder();
        var bytes = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            if (bytes + rune.Utf8SequenceLength > EncodedWordBytes)
            {
                words.Add(Word(chunk.ToString()));
                chunk.Clear();
                bytes = 0;
            }
            chunk.Append(rune.ToString());
            bytes += rune.Utf8SequenceLength;
        }
        if (chunk.Length > 0 || words.Count == 0)
            words.Add(Word(chunk.ToString()));
        return [.. words];

        static string Word(string s) => $"=?utf-8?B?{Convert.ToBase64String(Encoding.UTF8.GetBytes(s))}?=";
    }

    /// <summary>The Content-Type name for old readers: quoted when ASCII, else one encoded-word run (what Outlook reads).</summary>
    private static string[] NameParameter(string fileName) =>
        IsPrintableAscii(fileName) ? [$"name=\"{Escape(fileName)}\""] : [$"name=\"{string.Join("", EncodedWords(fileName))}\""];

    /// <summary>An RFC 2231 parameter: quoted when ASCII, else percent-encoded UTF-8, continued in sections when long.</summary>
    private static string[] Rfc2231(string parameter, string value)
    {
        if (IsPrintableAscii(value) && value.Length <= 60)
            return [$"{parameter}=\"{Escape(value)}\""];
        var encoded = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            if (char.IsAsciiLetterOrDigit((char)b) || "!#$&+-.^_`|~".Contains((char)b))
                encoded.Append((char)b);
            else
                encoded.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
        }
        var sections = new List<string>();
        for (var (i, n) = (0, 0); i < encoded.Length; n++)
        {
            var length = Math.Min(60, encoded.Length - i);
            // A section never ends inside a %XX escape.
            if (i + length < encoded.Length && encoded[i + length - 1] == '%')
                length -= 1;
            else if (i + length < encoded.Length && encoded[i + length - 2] == '%')
                length -= 2;
            var prefix = n == 0 ? "utf-8''" : "";
            sections.Add($"{parameter}*{n}*={prefix}{encoded.ToString(i, length)}");
            i += length;
        }
        return [.. sections.Select((s, k) => k < sections.Count - 1 ? s + ";" : s)];
    }

    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);

    private static bool IsPrintableAscii(string text) => text.All(c => c is >= ' ' and < '\x7f');

    /// <summary>Quoted-printable (RFC 2045 §6.7) over CRLF-separated UTF-8: lines of at most 76 characters.</summary>
    private static string QuotedPrintable(byte[] bytes)
    {
        var output = new StringBuilder(bytes.Length * 3 / 2);
        var column = 0;
        for (var i = 0; i < bytes.Length; i++)
        {
            var b = bytes[i];
            if (b == '\r' && i + 1 < bytes.Length && bytes[i + 1] == '\n')
            {
                output.Append("\r\n");
                column = 0;
                i++;
                continue;
            }
            var atLineEnd = i + 1 == bytes.Length || bytes[i + 1] == '\r';
            var literal = (b is >= 33 and <= 126 && b != '=') || (b is (byte)' ' or (byte)'\t' && !atLineEnd);
            var width = literal ? 1 : 3;
            if (column + width > 75)
            {
                output.Append("=\r\n");
                column = 0;
            }
            if (literal)
                output.Append((char)b);
            else
                output.Append('=').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            column += width;
        }
        return output.ToString();
    }
}
