using System.Globalization;
using System.Text.Json;
using SupportGateway.Core.Pipeline;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Host.Channels.WhatsApp;

/// <summary>
/// A stored Cloud API row (<see cref="CloudEnvelope"/>) into an <see cref="InboundMessage"/>: messages are known by
/// "wa:" + wamid, as our own sent ones are, so a reply to either finds its ticket. Files are fetched in
/// <see cref="PrepareAsync"/>; one that could not be is named in the text, and the message still counts. Statuses,
/// reactions, deletions and system notices come out as messages of their kind for <see cref="CloudEventFilter"/>.
/// </summary>
internal sealed class CloudNormalizer(CloudMedia? media = null) : IInboundNormalizer
{
    public const string Account = "cloud";

    public const string Kind = "whatsapp.kind";
    public const string Type = "whatsapp.type";
    public const string Status = "whatsapp.status";
    public const string StatusOf = "whatsapp.status_of";
    public const string Error = "whatsapp.error";
    public const string ErrorCodes = "whatsapp.error_codes";
    public const string RefersTo = "whatsapp.refers_to";
    public const string Reaction = "whatsapp.reaction";
    public const string Forwarded = "whatsapp.forwarded";
    public const string MissingFiles = "whatsapp.missing_files";
    public const string GroupId = "whatsapp.group_id";
    public const string GroupField = "whatsapp.group_field";
    public const string GroupEvent = "whatsapp.group_event";

    public string Format => CloudEnvelope.Format;

    /// <summary>Ids of the resolution buttons: "sg:c:SG-10009" confirms, "sg:r:SG-10009" objects (as on Telegram).</summary>
    public static string VerdictId(CustomerVerdict verdict, string number) => $"sg:{(verdict == CustomerVerdict.Confirms ? 'c' : 'r')}:{number}";

    public async ValueTask PrepareAsync(RawInbound raw, CancellationToken cancellationToken)
    {
        if (media is not null && Read(raw).Message is { } message && Files(message.Edit?.Message ?? message) is { Count: > 0 } files)
            await media.PrefetchAsync(files, cancellationToken);
    }

    public InboundMessage Normalize(RawInbound raw)
    {
        var row = Read(raw);
        if (row.Status is { } status)
            return StatusEvent(raw, status);
        if (row.Group is { } change)
            return GroupChange(raw, row.Field ?? "", change);
        var message = row.Message ?? throw new InvalidDataException("a WhatsApp Cloud row with neither a message nor a status");
        var e164 = WhatsAppNumbers.ToE164(message.From ?? row.Contact?.WaId);
        var address = e164 ?? message.From ?? "unknown";
        var details = new Dictionary<string, string> { [Kind] = "message", [Type] = message.Type ?? "" };
        if (message.Context is { Forwarded: true } or { FrequentlyForwarded: true })
            details[Forwarded] = message.Context.FrequentlyForwarded ? "frequently" : "yes";
        List<string> replyTo = message.Context?.Id is { Length: > 0 } context ? ["wa:" + context] : [];
        var (text, verdict, number) = Content(message, details, replyTo);
        // In a group, answers go to the group and each member's problem is their own conversation (and ticket).
        var group = message.GroupId is { Length: > 0 } id ? id : null;
        if (group is not null)
            details[GroupId] = group;
        var (attachments, missing) = Attachments(message);
        if (missing.Count > 0)
        {
            details[MissingFiles] = string.Join(", ", missing.Select(m => m.FileName));
            text = string.Join("\n", [text, .. missing.Select(m => $"[{m.FileName}: could not be downloaded from WhatsApp yet; it is fetched again later]")]).Trim();
        }
        return new InboundMessage
        {
            Channel = WhatsAppChannel.Name,
            Account = Account,
            ExternalId = raw.ExternalId,
            Sender = new SenderIdentity { Identity = address, Phone = e164, Name = row.Contact?.Profile?.Name },
            Hints = new ThreadHints
            {
                TicketNumber = number,
                ConversationKey = group is null ? WhatsAppNumbers.Conversation(address) : WhatsAppNumbers.GroupConversation(group, address),
                ReplyAddress = group is null ? address : WhatsAppNumbers.GroupAddress(group),
                ReplyTo = replyTo,
            },
            Text = text,
            Attachments = attachments,
            MissingFiles = missing,
            Verdict = verdict,
            TechnicalDetails = details,
            SentAt = Time(message.Timestamp),
        };
    }

    /// <summary>The text an agent reads, and the verdict a resolution button carries with the ticket it names.</summary>
    private static (string Text, CustomerVerdict Verdict, string? Number) Content(CloudMessage message, Dictionary<string, string> details, List<string> replyTo)
    {
        switch (message)
        {
            case { Interactive: { } interactive } when (interactive.ButtonReply ?? interactive.ListReply) is { } choice:
                return Choice(choice.Id, choice.Title);
            case { Button: { } button }:
                return Choice(button.Payload, button.Text);
            case { Reaction: { } reaction }:
                details[Kind] = "reaction";
                details[RefersTo] = "wa:" + reaction.MessageId;
                details[Reaction] = reaction.Emoji ?? "";
                return (reaction.Emoji is { Length: > 0 } emoji ? $"[reaction {emoji}]" : "[reaction removed]", CustomerVerdict.None, null);
            case { Revoke: { } revoke }:
                details[Kind] = "revoke";
                details[RefersTo] = "wa:" + revoke.OriginalMessageId;
                return ("[the customer deleted a message]", CustomerVerdict.None, null);
            case { System: { } system }:
                details[Kind] = "system";
                return ($"[WhatsApp: {system.Body ?? system.Type}]", CustomerVerdict.None, null);
            case { Edit: { } edit }:
                replyTo.Insert(0, "wa:" + edit.OriginalMessageId);
                return ($"[edited] {(edit.Message is { } edited ? Content(edited, details, replyTo).Text : "")}".Trim(), CustomerVerdict.None, null);
            default:
                return (Describe(message), CustomerVerdict.None, null);
        }
    }

    private static (string, CustomerVerdict, string?) Choice(string? id, string? title)
    {
        var verdict = id switch
        {
            ['s', 'g', ':', 'c', ':', ..] => CustomerVerdict.Confirms,
            ['s', 'g', ':', 'r', ':', ..] => CustomerVerdict.Rejects,
            _ => CustomerVerdict.None,
        };
        return (title ?? id ?? "", verdict, verdict == CustomerVerdict.None ? null : id![5..]);
    }

    /// <summary>What a message is, in words an agent reads: its text or caption, else what it carries.</summary>
    private static string Describe(CloudMessage message) => message switch
    {
        { Text.Body: { } body } => body.Trim(),
        { Image: { } image } => image.Caption?.Trim() is { Length: > 0 } c ? c : "[image]",
        { Video: { } video } => video.Caption?.Trim() is { Length: > 0 } c ? c : "[video]",
        { Document: { } document } => document.Caption?.Trim() is { Length: > 0 } c ? c : $"[document {document.FileName}]".Replace(" ]", "]", StringComparison.Ordinal),
        { Audio.Voice: true } or { Voice: not null } => "[voice message]",
        { Audio: not null } => "[audio]",
        { Sticker: not null } => "[sticker]",
        { Location: { } at } => Location(at),
        // JSON lets a list hold null where a card (or a phone, an e-mail) belongs; a damaged card is skipped, not fatal.
        { Contacts: { Count: > 0 } cards } => string.Join("\n", cards.OfType<CloudCard>().Select(Card)),
        { Errors: { Count: > 0 } errors } => $"[a WhatsApp message of type {message.Type} we cannot show: {string.Join("; ", errors)}]",
        _ => $"[a WhatsApp message of type {message.Type ?? "unknown"}]",
    };

    private static string Location(CloudLocation at)
    {
        var place = string.Join(", ", new[] { at.Name, at.Address }.Where(p => !string.IsNullOrWhiteSpace(p)));
        var point = $"{at.Latitude.ToString(CultureInfo.InvariantCulture)}, {at.Longitude.ToString(CultureInfo.InvariantCulture)}";
        return place.Length > 0 ? $"[location {point}: {place}]" : $"[location {point}]";
    }

    private static string Card(CloudCard card)
    {
        var ways = (card.Phones ?? []).Select(p => p?.Phone).Concat((card.Emails ?? []).Select(e => e?.Email)).Where(w => !string.IsNullOrWhiteSpace(w));
        return $"[contact {card.Name?.FormattedName}: {string.Join(", ", ways)}]";
    }

    /// <summary>The files a message carries, named so that an agent can tell them apart.</summary>
    internal static List<CloudFileRef> Files(CloudMessage message)
    {
        var files = new List<CloudFileRef>();
        void Add(CloudInboundMedia? item, string stem, string defaultType)
        {
            if (item?.Id is not { Length: > 0 } id)
                return;
            var type = (item.MimeType ?? defaultType).Split(';')[0].Trim();
            files.Add(new CloudFileRef(id, item.FileName is { Length: > 0 } name ? Path.GetFileName(name) : $"{stem}-{id}{Extension(type)}", type));
        }
        Add(message.Image, "image", "image/jpeg");
        Add(message.Video, "video", "video/mp4");
        Add(message.Audio, message.Audio?.Voice == true ? "voice" : "audio", "audio/ogg");
        Add(message.Voice, "voice", "audio/ogg");
        Add(message.Document, "document", "application/octet-stream");
        Add(message.Sticker, "sticker", "image/webp");
        return files;
    }

    private static string Extension(string contentType) => contentType switch
    {
        "image/jpeg" => ".jpg", "image/png" => ".png", "image/webp" => ".webp", "video/mp4" => ".mp4", "video/3gpp" => ".3gp",
        "audio/ogg" => ".ogg", "audio/mpeg" => ".mp3", "audio/mp4" => ".m4a", "audio/aac" => ".aac", "audio/amr" => ".amr",
        "application/pdf" => ".pdf", "text/plain" => ".txt", _ => "",
    };

    private (List<InboundAttachment>, List<MissingFile>) Attachments(CloudMessage message)
    {
        var (attachments, missing) = (new List<InboundAttachment>(), new List<MissingFile>());
        foreach (var file in Files(message.Edit?.Message ?? message))
        {
            if (media?.Take(file.MediaId) is { } content)
                attachments.Add(new InboundAttachment { FileName = file.Name, ContentType = file.ContentType, Content = content });
            else
                missing.Add(CloudMedia.Missing(file));
        }
        return (attachments, missing);
    }

    private static InboundMessage StatusEvent(RawInbound raw, CloudStatus status)
    {
        var e164 = WhatsAppNumbers.ToE164(status.RecipientId);
        var details = new Dictionary<string, string> { [Kind] = "status", [Status] = status.Status ?? "", [StatusOf] = "wa:" + status.Id };
        if (status.Errors is { Count: > 0 } errors)
        {
            details[Error] = string.Join("; ", errors);
            details[ErrorCodes] = string.Join(',', errors.Select(e => e.Code.ToString(CultureInfo.InvariantCulture)));
        }
        return new InboundMessage
        {
            Channel = WhatsAppChannel.Name,
            Account = Account,
            ExternalId = raw.ExternalId,
            Sender = new SenderIdentity { Identity = e164 ?? status.RecipientId ?? "unknown", Phone = e164 },
            Text = $"[{status.Status}]",
            TechnicalDetails = details,
            IsAutoSubmitted = true,
            SentAt = Time(status.Timestamp),
        };
    }

    /// <summary>A group's lifecycle, participants, settings or status, for <see cref="CloudGroupEventFilter"/>; it opens nothing.</summary>
    private static InboundMessage GroupChange(RawInbound raw, string field, CloudGroupEvent group) => new()
    {
        Channel = WhatsAppChannel.Name,
        Account = Account,
        ExternalId = raw.ExternalId,
        Sender = new SenderIdentity { Identity = group.GroupId is { Length: > 0 } id ? WhatsAppNumbers.GroupAddress(id) : "whatsapp" },
        Text = $"[{field} {group.Type}]",
        TechnicalDetails = new Dictionary<string, string>
        {
            [Kind] = "group_event", [GroupField] = field, [GroupEvent] = JsonSerializer.Serialize(group),
        },
        IsAutoSubmitted = true,
    };

    private static CloudRow Read(RawInbound raw) => JsonSerializer.Deserialize<CloudRow>(raw.Payload) ?? throw new InvalidDataException("not a WhatsApp Cloud row");

    private static DateTimeOffset? Time(string? unixSeconds) =>
        long.TryParse(unixSeconds, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds) ? DateTimeOffset.FromUnixTimeSeconds(seconds) : null;
}
