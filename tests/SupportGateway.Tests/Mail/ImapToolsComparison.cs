using System.Security.Cryptography;
using System.Text.Json;
using MimeKit;
using SupportGateway.Mail.Inbound;
using SupportGateway.Tests.Support;
using MailAddress = SupportGateway.Mail.Mime.MailAddress;

namespace SupportGateway.Tests.Mail;

/// <summary>Compares a parse with imap_tools' fields, applying imap_tools' own rules for text and attachments.</summary>
internal static class ImapToolsComparison
{
    /// <summary>Expected values that are wrong in imap_tools' output (file, field), with what went wrong there.</summary>
    private static readonly Dictionary<(string File, string Field), string> Defects = new()
    {
        [("raw_email_incorrect_header.eml", "from")] = HeaderStop,
        [("raw_email_incorrect_header.eml", "to")] = HeaderStop,
        [("raw_email_incorrect_header.eml", "subject")] = HeaderStop,
        [("raw_email_incorrect_header.eml", "text")] = HeaderStop,
        [("invalid_subject_characters.eml", "subject")] = "imap_tools drops the raw 8-bit ç and ã of an unencoded subject ('Formao'); we decode them ('Formação')",
        [("attachment_2_base64.eml", "text")] = Base64Rfc822,
        [("attachment_2_base64.eml", "html")] = Base64Rfc822,
        [("mix_caps_content_type.eml", "from")] = "'From: Big Bug bb@bug.com' has no angle brackets; imap_tools returns the whole line as the address, we return bb@bug.com",
    };

    private const string HeaderStop = "Python's email ends the header block at the malformed line 'quite Delivered-To:' and returns the remaining fields as body text; we skip that one line and keep the fields after it";
    private const string Base64Rfc822 = "the attached messages are base64-encoded message/rfc822 (as Yandex sends them); Python leaves them encoded and returns the base64 as text, we decode and read them";

    private static string? Defect(string name, string field) => Defects.GetValueOrDefault((name, field));

    public static void Compare(string name, JsonElement expected, InboundMail message, Score score)
    {
        score.Check(Squash(expected.GetProperty("subject").GetString()) == Squash(message.Subject),
            $"{name} subject: ours '{message.Subject}', imap_tools '{expected.GetProperty("subject").GetString()}'", Defect(name, "subject"));
        CompareAddresses(name, "from", expected.GetProperty("from_").GetString() is { Length: > 0 } f ? [f] : [], message.From, score);
        foreach (var (field, actual) in new[] { ("to", message.To), ("cc", message.Cc), ("bcc", message.Bcc), ("reply_to", message.ReplyTo) })
            CompareAddresses(name, field, [.. expected.GetProperty(field).EnumerateArray().Select(e => e.GetString()!)], actual, score);

        if (expected.GetProperty("date").GetString() is { } date && !date.StartsWith("1900", StringComparison.Ordinal))
        {
            var want = DateTimeOffset.Parse(date, System.Globalization.CultureInfo.InvariantCulture);
            score.Check(message.Date == want, $"{name} date: {message.Date:O} vs {date}");
        }

        // imap_tools: every non-multipart text/plain (text/html) part without a file name, walking into attached messages.
        var parts = MailParts.Walk(message.Message.Body).Where(e => e is not Multipart && MailParts.FileName(e) is null).ToList();
        var text = string.Concat(parts.Where(e => e.ContentType.IsMimeType("text", "plain")).Select(MailParts.Text));
        var html = string.Concat(parts.Where(e => e.ContentType.IsMimeType("text", "html")).Select(MailParts.Text));
        score.Check(Lines(text) == Lines(expected.GetProperty("text").GetString()), $"{name} text differs", Defect(name, "text"));
        // imap_tools rewrites the <meta> charset to utf-8 once the HTML is a decoded string.
        score.Check(MetaCharset(Lines(html)) == MetaCharset(Lines(expected.GetProperty("html").GetString())), $"{name} html differs", Defect(name, "html"));

        // imap_tools: parts with a Content-ID, a file name or disposition attachment, and attached messages.
        var attachments = MailParts.Walk(message.Message.Body)
            .Where(e => e is not Multipart && (MailParts.ContentId(e) is not null || MailParts.FileName(e) is not null || e.ContentDisposition?.IsAttachment == true || e.ContentType.IsMimeType("message", "rfc822")))
            .ToList();
        var wanted = expected.GetProperty("attachments").EnumerateArray().ToList();
        score.Check(attachments.Count == wanted.Count, $"{name} attachments: {attachments.Count} vs {wanted.Count}");
        foreach (var (want, actual) in wanted.Zip(attachments))
        {
            var label = $"{name} attachment '{want.GetProperty("filename").GetString()}'";
            var fileName = MailParts.FileName(actual);
            var type = actual.ContentType.MimeType.ToLowerInvariant();
            score.Check((want.GetProperty("filename").GetString() ?? "") == (fileName ?? ""), $"{label} file name '{fileName}'");
            score.Check(want.GetProperty("content_type").GetString() == type, $"{label} type {type}");
            if (actual is MessagePart)
                continue; // imap_tools re-serialises attached messages, so their bytes cannot match
            var content = MailParts.Content(actual);
            var payload = want.GetProperty("payload");
            score.Check(payload.GetProperty("size").GetInt32() == content.Length, $"{label} size {content.Length} vs {payload.GetProperty("size").GetInt32()}");
            score.Check(payload.GetProperty("sha256").GetString() == Convert.ToHexStringLower(SHA256.HashData(content)), $"{label} sha256");
        }
    }

    private static void CompareAddresses(string name, string field, IReadOnlyList<string> want, IReadOnlyList<MailAddress> actual, Score score)
    {
        var got = actual.Select(a => a.Address.ToLowerInvariant()).ToList();
        var expected = want.Select(a => a.ToLowerInvariant()).ToList();
        score.Check(got.SequenceEqual(expected), $"{name} {field}: ours [{string.Join(", ", got)}], imap_tools [{string.Join(", ", expected)}]", Defect(name, field));
    }

    private static string MetaCharset(string html) =>
        System.Text.RegularExpressions.Regex.Replace(html, @"(<meta[^>]*charset=)[""']?[\w\-]+", "$1utf-8", System.Text.RegularExpressions.RegexOptions.IgnoreCase);

    private static string Squash(string? text) => string.Join(' ', (text ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    private static string Lines(string? text) => (text ?? "").Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n').Trim();
}
