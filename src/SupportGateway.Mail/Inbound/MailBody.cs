using MimeKit;
using MimeKit.Tnef;
using HtmlText = SupportGateway.Mail.Mime.HtmlText;

namespace SupportGateway.Mail.Inbound;

/// <summary>The texts and files of a message: body parts are the text leaves that are not attachments (RFC 2183).</summary>
internal sealed class MailBody
{
    private readonly MailLimits _limits;
    private readonly List<MimeEntity> _leaves;
    private readonly List<MimePart> _bodyParts;
    private readonly List<MimeMessage> _tnefBodies = [];
    private long _tnefBudget;
    private string? _text;
    private IReadOnlyList<MailAttachment>? _attachments;

    public MailBody(MimeMessage message, MailLimits limits)
    {
        _limits = limits;
        _tnefBudget = limits.MaxTnefBytes;
        _leaves = [.. MailParts.Leaves(message.Body)];
        _bodyParts = [.. _leaves.OfType<MimePart>().Where(e => e.ContentType.MediaType.Equals("text", StringComparison.OrdinalIgnoreCase) && !MailParts.IsAttachment(e))];
        HasPlainText = MailParts.Walk(message.Body).Any(e => e is MimePart && e.ContentType.IsMimeType("text", "plain") && !MailParts.IsAttachment(e));
        Html = _bodyParts.FirstOrDefault(e => e.ContentType.IsMimeType("text", "html")) is { } html ? MailParts.Text(html) : null;
    }

    public bool HasPlainText { get; }

    public string? Html { get; }

    public string Text => _text ??= FindText();

    public IReadOnlyList<MailAttachment> Attachments => _attachments ??= [.. _leaves.Where(MailParts.IsAttachment).SelectMany(e => Expand(e, 0))];

    private string FindText()
    {
        // An empty text/plain (a stray delimiter makes one) does not hide the HTML.
        if (_bodyParts.Where(e => e.ContentType.IsMimeType("text", "plain")).Select(MailParts.Text).FirstOrDefault(t => !string.IsNullOrWhiteSpace(t)) is { } plain)
            return plain;
        if (Html is { } html)
            return HtmlText.ToText(html);
        // Outlook may put the only body inside winmail.dat.
        _ = Attachments;
        foreach (var tnef in _tnefBodies)
        {
            var parts = MailParts.Leaves(tnef.Body).OfType<TextPart>().Where(p => !MailParts.IsAttachment(p)).ToList();
            if (parts.FirstOrDefault(p => p.IsPlain) is { } text && MailParts.Text(text) is { Length: > 0 } body)
                return body;
            if (parts.FirstOrDefault(p => p.IsHtml) is { } tnefHtml)
                return HtmlText.ToText(MailParts.Text(tnefHtml));
        }
        // A multipart whose delimiters never appear still carries the customer's text.
        return _leaves.OfType<Multipart>().FirstOrDefault(e => !MailParts.IsAttachment(e)) is { } broken ? MailParts.Text(broken) : "";
    }

    private IEnumerable<MailAttachment> Expand(MimeEntity entity, int depth)
    {
        if (!IsTnef(entity) || depth >= _limits.MaxTnefDepth || !WithinBudget((MimePart)entity)
            || !TryConvert((MimePart)entity, out var converted, out var complete))
            return [Attachment(entity)];
        if (depth == 0)
            _tnefBodies.Add(converted);
        var files = new List<MailAttachment>();
        var leaves = MailParts.Leaves(converted.Body).ToList();
        var texts = leaves.OfType<TextPart>().Where(p => !MailParts.IsAttachment(p)).ToList();
        var best = texts.FirstOrDefault(p => p.IsPlain) ?? texts.FirstOrDefault(p => p.IsHtml) ?? texts.FirstOrDefault();
        if (depth > 0 && best is not null)
            files.Add(ItemText(entity, converted, best)); // an attached Outlook item is its text plus its files
        else if (best is { IsRichText: true } && _bodyParts.Count == 0)
            files.Add(Attachment(best) with { FileName = "body.rtf" }); // Outlook's rich text mode, the only body there is
        for (var i = 0; i < leaves.Count; i++)
        {
            if (MailParts.IsAttachment(leaves[i]) && !IsPlaceholder(leaves, i))
                files.AddRange(Expand(leaves[i], depth + 1));
        }
        if (!complete || files.Count == 0 && texts.Count == 0)
            files.Add(Attachment(entity)); // damaged or empty: the stream itself is kept, so nothing is lost
        return files;
    }

    /// <summary>
    /// MimeKit 4.18 adds an attachment's part when its TNEF rendering data arrives and, when the attachment turns out
    /// to be an attached Outlook item, a second part for the item, leaving the first behind: an octet-stream of the
    /// same name just before the item. That one holds no file.
    /// </summary>
    private static bool IsPlaceholder(List<MimeEntity> leaves, int index) =>
        leaves[index] is MimePart and not TnefPart && index + 1 < leaves.Count && leaves[index + 1] is TnefPart item
        && leaves[index].ContentType.IsMimeType("application", "octet-stream")
        && string.Equals(leaves[index].ContentType.Name, item.ContentType.Name, StringComparison.Ordinal);

    private static MailAttachment ItemText(MimeEntity container, MimeMessage item, TextPart text)
    {
        // The item's subject is its title in Outlook; the attachment's own name is often "Untitled Attachment".
        var name = !string.IsNullOrWhiteSpace(item.Subject) ? item.Subject.Trim() : MailParts.FileName(container) ?? "item";
        var extension = text.IsHtml ? ".html" : text.IsRichText ? ".rtf" : ".txt";
        return Attachment(text) with { FileName = name.EndsWith(extension, StringComparison.OrdinalIgnoreCase) ? name : name + extension };
    }

    /// <summary>The stream's size as received (transfer-encoded, so at least its decoded size) is taken from the budget.</summary>
    private bool WithinBudget(MimePart part)
    {
        var size = part.Content?.Stream is { CanSeek: true } stream ? stream.Length : long.MaxValue;
        if (size > _tnefBudget)
            return false;
        _tnefBudget -= size;
        return true;
    }

    /// <summary>Outlook's TNEF (MS-OXTNEF): application/ms-tnef, or a part named winmail.dat under another type.</summary>
    private static bool IsTnef(MimeEntity entity) =>
        entity is TnefPart || entity is MimePart && string.Equals(MailParts.FileName(entity), "winmail.dat", StringComparison.OrdinalIgnoreCase);

    private static bool TryConvert(MimePart part, out MimeMessage message, out bool complete)
    {
        message = null!;
        complete = false;
        if (part.Content is null)
            return false;
        var tnef = part as TnefPart ?? new TnefPart { Content = part.Content };
        try
        {
            message = tnef.ConvertToMessage();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Damaged TNEF can fail in more ways than MimeKit documents; the stream is then kept as a file.
            return false;
        }
        complete = IsCompliant(part.Content);
        return true;
    }

    /// <summary>MimeKit converts in loose mode and keeps what it read; its reader says whether the stream was damaged.</summary>
    private static bool IsCompliant(IMimeContent content)
    {
        try
        {
            using var reader = new TnefReader(content.Open(), 0, TnefComplianceMode.Loose);
            while (reader.ReadNextAttribute())
            {
            }
            return reader.ComplianceStatus == TnefComplianceStatus.Compliant;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return false;
        }
    }

    private static MailAttachment Attachment(MimeEntity entity) => new(
        MailParts.FileName(entity),
        entity.ContentType.MimeType.ToLowerInvariant(),
        MailParts.Content(entity),
        MailParts.ContentId(entity),
        MailParts.IsInline(entity));
}
