using System.Text.RegularExpressions;

namespace SupportGateway.Mail.Mime;

/// <summary>
/// A parsed message: the root entity plus the fields a helpdesk reads. Superseded by
/// <see cref="SupportGateway.Mail.Inbound.InboundMail"/> (MimeKit); it stays only while the writer's tests read
/// written mail with it, and goes with them.
/// </summary>
public sealed partial class MimeMessage(MimeEntity root)
{
    private IReadOnlyList<MimeEntity>? _attachments;

    public MimeEntity Root { get; } = root;

    public HeaderList Headers => Root.Headers;

    public string Subject => Headers.Get("Subject") ?? "";

    public IReadOnlyList<MailAddress> From => Addresses("From");

    public IReadOnlyList<MailAddress> To => Addresses("To");

    public IReadOnlyList<MailAddress> Cc => Addresses("Cc");

    public IReadOnlyList<MailAddress> Bcc => Addresses("Bcc");

    public IReadOnlyList<MailAddress> ReplyTo => Addresses("Reply-To");

    public DateTimeOffset? Date => MailDate.TryParse(Headers.Get("Date"), out var date) ? date : null;

    /// <summary>The Message-ID without angle brackets.</summary>
    public string? MessageId => MessageIds(Headers.Get("Message-ID")).FirstOrDefault() ?? NullIfEmpty(Headers.Get("Message-ID")?.Trim());

    public IReadOnlyList<string> InReplyTo => MessageIds(Headers.Get("In-Reply-To"));

    public IReadOnlyList<string> References => MessageIds(string.Join(' ', Headers.All("References").Select(h => h.Value)));

    /// <summary>The best plain text: the first text/plain body part, else the first HTML part turned into text.</summary>
    public string Text
    {
        get
        {
            // An empty text/plain (a stray delimiter makes one) does not hide the HTML.
            if (BodyParts().Where(e => e.ContentType.Is("text", "plain")).Select(e => e.DecodedText()).FirstOrDefault(t => !string.IsNullOrWhiteSpace(t)) is { } plain)
                return plain;
            if (HtmlBody is { } html)
                return HtmlText.ToText(html);
            // A multipart whose boundaries never appear still carries the customer's text.
            return Leaves(Root, intoMessages: false).FirstOrDefault(e => e.ContentType.IsMultipart && !e.IsAttachment) is { } broken
                ? Charsets.Decode(TransferEncodings.Decode(broken.Body.Span, broken.TransferEncoding), broken.ContentType.Charset)
                : "";
        }
    }

    /// <summary>The first text/html body part, if any.</summary>
    public string? HtmlBody => BodyParts().FirstOrDefault(e => e.ContentType.Is("text", "html"))?.DecodedText();

    /// <summary>Leaves that carry files, and attached messages, in order (not descending into attached messages).</summary>
    public IReadOnlyList<MimeEntity> Attachments => _attachments ??= [.. Leaves(Root, intoMessages: false).Where(e => e.IsAttachment)];

    // This parser stays only until the writer's tests read mail through MimeKit; inbound mail is read by
    // SupportGateway.Mail.Inbound.InboundMail, which classifies automatic mail fully.
    public bool IsAutoReply => Headers.Get("Auto-Submitted") is { } value && !value.Trim().StartsWith("no", StringComparison.OrdinalIgnoreCase);

    private IEnumerable<MimeEntity> BodyParts() => Leaves(Root, intoMessages: false).Where(e => !e.IsAttachment && e.ContentType.MediaType == "text");

    /// <summary>Leaf entities in order; attached messages count as leaves unless <paramref name="intoMessages"/>.</summary>
    private static IEnumerable<MimeEntity> Leaves(MimeEntity entity, bool intoMessages)
    {
        if (entity.EmbeddedMessage is { } embedded && intoMessages)
        {
            foreach (var leaf in Leaves(embedded, intoMessages))
                yield return leaf;
            yield break;
        }
        if (entity.Parts.Count == 0)
        {
            yield return entity;
            yield break;
        }
        foreach (var part in entity.Parts)
        {
            foreach (var leaf in Leaves(part, intoMessages))
                yield return leaf;
        }
    }

    private IReadOnlyList<MailAddress> Addresses(string field)
    {
        var all = new List<MailAddress>();
        foreach (var header in Headers.All(field))
            all.AddRange(MailAddress.ParseList(header.UnfoldedBytes));
        return all;
    }

    [GeneratedRegex(@"<([^<>\s]+)>")]
    private static partial Regex AngleId();

    internal static IReadOnlyList<string> MessageIds(string? value) =>
        value is null ? [] : [.. AngleId().Matches(value).Select(m => m.Groups[1].Value).Distinct()];

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
