using System.Globalization;
using System.Text.Json;
using SupportGateway.Core.Pipeline;
using SupportGateway.Core.Storage;
using SupportGateway.Core.Tickets;
using Telegram.Bot;
using Telegram.Bot.Types;
using Telegram.Bot.Types.Enums;
using ChatKind = Telegram.Bot.Types.Enums.ChatType;

namespace SupportGateway.Host.Channels.Telegram;

/// <summary>
/// A stored Bot API Update (its JSON as received, read with Telegram.Bot's model and JSON settings) into an
/// <see cref="InboundMessage"/>. Messages are known by
/// "chat:message_id", as our own sent messages are, so a Telegram reply to either finds its ticket; an edit is a
/// new message "chat:message_id:edit:date" that names the original. The conversation is the private chat, a group
/// member's own thread in a group, or a forum topic. Update kind, command, mentions and files travel in the details.
/// </summary>
internal sealed class TelegramNormalizer(TelegramMedia? media = null, TelegramBotIdentity? identity = null) : IInboundNormalizer
{
    public const string Channel = "telegram";

    public string Format => Channel;

    /// <summary>The payload to store: deduplicated by update_id, which Telegram repeats until an update is confirmed.</summary>
    public static RawInbound ToRaw(byte[] update, long updateId) => new(Channel, "u" + updateId.ToString(CultureInfo.InvariantCulture), Channel, update);

    public const string Kind = "telegram.kind";
    public const string ChatType = "telegram.chat_type";
    public const string Command = "telegram.command";
    public const string CommandTarget = "telegram.command_to";
    public const string Mentions = "telegram.mentions";
    public const string RepliedTo = "telegram.reply_to_user";
    public const string Files = "telegram.files";
    public const string CallbackId = "telegram.callback_id";
    public const string CallbackMessage = "telegram.callback_message";
    public const string MessageId = "telegram.message_id";
    public const string Thread = "telegram.thread";

    /// <summary>Callback data of the resolution buttons: "sg:c:SG-10009" confirms, "sg:r:SG-10009" objects.</summary>
    public static string VerdictData(CustomerVerdict verdict, string number) => $"sg:{(verdict == CustomerVerdict.Confirms ? 'c' : 'r')}:{number}";

    /// <summary>
    /// Before the transaction: fetches the message's files (see <see cref="TelegramMedia"/>), and for a group message
    /// makes sure the bot knows its @username, which tells whether it was mentioned.
    /// </summary>
    public async ValueTask PrepareAsync(RawInbound raw, CancellationToken cancellationToken)
    {
        if (Read(raw)?.Message is not { Chat: not null } message)
            return;
        if (identity is not null && message.Chat.Type != ChatKind.Private)
            await identity.LoadAsync(cancellationToken);
        if (media is not null && TelegramMedia.Describe(message) is { Count: > 0 } files)
            await media.PrefetchAsync(files, cancellationToken);
    }

    public InboundMessage Normalize(RawInbound raw)
    {
        var update = Read(raw) ?? throw new InvalidDataException("not a Telegram update");
        // Telegram.Bot reads a missing required object (a message's chat, a callback's sender) as null: such an update
        // is damaged, not another kind, and is parked as unreadable rather than failing on the null below.
        if (update.CallbackQuery is { } callback)
            return callback.From is null ? throw new InvalidDataException("a Telegram callback_query without its from") : Callback(raw, callback);
        var edited = update.EditedMessage is not null;
        if ((update.Message ?? update.EditedMessage) is { Chat: null })
            throw new InvalidDataException("a Telegram message without its chat");
        if ((update.Message ?? update.EditedMessage) is not { From: { } from } message)
            return Other(raw);
        var chat = message.Chat.Id.ToString(CultureInfo.InvariantCulture);
        var (key, replyAddress) = Conversation(message, from);
        var text = (message.Text ?? message.Caption ?? Describe(message)).Trim();
        var command = text.StartsWith('/') ? text.Split([' ', '\n'], 2)[0].Split('@')[0].ToLowerInvariant() : null;
        if (command is "/new")
            text = text.Split([' ', '\n'], 2) is [_, var rest] ? rest.Trim() : "";
        var original = $"{chat}:{message.MessageId}";
        var details = new Dictionary<string, string>
        {
            [Kind] = edited ? "edit" : "message",
            [ChatType] = TypeName(message.Chat.Type),
            [MessageId] = message.MessageId.ToString(CultureInfo.InvariantCulture),
        };
        if (command is not null)
            details[Command] = command;
        // "/start@some_bot": in a group, a command can be for another bot.
        if (command is not null && text.Split([' ', '\n'], 2)[0].Split('@') is [_, var target])
            details[CommandTarget] = "@" + target.ToLowerInvariant();
        if (message.IsTopicMessage && message.MessageThreadId is { } thread)
            details[Thread] = thread.ToString(CultureInfo.InvariantCulture);
        var entities = message.Entities ?? message.CaptionEntities ?? [];
        var mentions = entities.Where(e => e.Type == MessageEntityType.Mention)
            .Select(e => Slice(message.Text ?? message.Caption, e).ToLowerInvariant()).Where(m => m.Length > 1).ToList();
        if (mentions.Count > 0)
            details[Mentions] = string.Join(' ', mentions);
        if (message.ReplyToMessage is { From: { } repliedAuthor })
            details[RepliedTo] = repliedAuthor.Id.ToString(CultureInfo.InvariantCulture);
        if (!edited && TelegramMedia.Describe(message) is { Count: > 0 } files)
            details[Files] = JsonSerializer.Serialize(files);
        List<string> replyTo = message.ReplyToMessage is { } replied ? [$"{chat}:{replied.MessageId}"] : [];
        if (edited)
            replyTo.Insert(0, original);
        return new InboundMessage
        {
            Channel = Channel,
            ExternalId = edited ? $"{original}:edit:{(message.EditDate is { } at ? UnixSeconds(at) : update.Id)}" : original,
            Sender = Sender(from),
            Hints = new ThreadHints { StartNew = command is "/new", ConversationKey = key, ReplyAddress = replyAddress, ReplyTo = replyTo },
            Text = edited ? $"[edited] {text}" : text,
            Language = from.LanguageCode,
            TechnicalDetails = details,
            IsAutoSubmitted = from.IsBot,
            SentAt = DateTimeOffset.FromUnixTimeSeconds(UnixSeconds(message.Date)),
        };
    }

    /// <summary>A resolution button: the verdict on the ticket its data names, worded as the customer saw it.</summary>
    private static InboundMessage Callback(RawInbound raw, CallbackQuery callback)
    {
        var details = new Dictionary<string, string> { [Kind] = "callback", [CallbackId] = callback.Id };
        var verdict = callback.Data switch
        {
            ['s', 'g', ':', 'c', ':', ..] => CustomerVerdict.Confirms,
            ['s', 'g', ':', 'r', ':', ..] => CustomerVerdict.Rejects,
            _ => CustomerVerdict.None,
        };
        string? key = null, replyAddress = null;
        if (callback.Message is { Chat.Id: not 0 } prompt)
        {
            (key, replyAddress) = Conversation(prompt, callback.From);
            details[CallbackMessage] = $"{prompt.Chat.Id.ToString(CultureInfo.InvariantCulture)}:{prompt.MessageId.ToString(CultureInfo.InvariantCulture)}";
            details[ChatType] = TypeName(prompt.Chat.Type);
        }
        var russian = callback.From.LanguageCode?.StartsWith("ru", StringComparison.OrdinalIgnoreCase) == true;
        return new InboundMessage
        {
            Channel = Channel,
            ExternalId = "cb:" + callback.Id,
            Sender = Sender(callback.From),
            Hints = new ThreadHints { TicketNumber = verdict == CustomerVerdict.None ? null : callback.Data![5..], ConversationKey = key, ReplyAddress = replyAddress },
            Text = verdict switch
            {
                CustomerVerdict.Confirms => russian ? "Решено ✅" : "Solved ✅",
                CustomerVerdict.Rejects => russian ? "Не решено ❌" : "Not solved ❌",
                _ => callback.Data ?? "",
            },
            Verdict = verdict,
            Language = callback.From.LanguageCode,
            TechnicalDetails = details,
            IsAutoSubmitted = callback.From.IsBot,
        };
    }

    private static InboundMessage Other(RawInbound raw) => new()
    {
        Channel = Channel, ExternalId = raw.ExternalId, Sender = new SenderIdentity { Identity = "telegram" },
        TechnicalDetails = new Dictionary<string, string> { [Kind] = "other" },
    };

    private static SenderIdentity Sender(User from) => new()
    {
        Identity = from.Id.ToString(CultureInfo.InvariantCulture),
        Name = from.LastName is { Length: > 0 } last ? $"{from.FirstName} {last}" : from.FirstName,
    };

    private static Update? Read(RawInbound raw)
    {
        try
        {
            return JsonSerializer.Deserialize<Update>(raw.Payload, JsonBotAPI.Options);
        }
        catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException or ArgumentException)
        {
            // Telegram.Bot's polymorphic converters look their discriminator up (a chat member's "status", a
            // reaction's "type") and throw these, not JsonException, when it is missing or of the wrong type.
            throw new InvalidDataException($"not a Telegram Update as the Bot API defines it: {ex.Message}", ex);
        }
    }

    /// <summary>The Bot API's own name of the chat type: "private", "group", "supergroup", "channel".</summary>
    private static string TypeName(ChatKind type) => type.ToString().ToLowerInvariant();

    private static long UnixSeconds(DateTime utc) => new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc)).ToUnixTimeSeconds();

    /// <summary>
    /// Which conversation a message is in, and where answers go: a private chat is one; in a forum, each topic is one
    /// (answers go into the topic); in a group, each member has their own, so two colleagues' problems stay apart.
    /// </summary>
    public static (string Key, string ReplyAddress) Conversation(Message message, User from)
    {
        var chat = message.Chat.Id.ToString(CultureInfo.InvariantCulture);
        if (message.Chat.Type == ChatKind.Private)
            return (chat, chat);
        if (message.IsTopicMessage && message.MessageThreadId is { } thread)
            return ($"{chat}:t{thread.ToString(CultureInfo.InvariantCulture)}", $"{chat}:{thread.ToString(CultureInfo.InvariantCulture)}");
        return ($"{chat}:u{from.Id.ToString(CultureInfo.InvariantCulture)}", chat);
    }

    private static string Slice(string? text, MessageEntity entity) =>
        text is not null && entity.Offset >= 0 && entity.Offset + entity.Length <= text.Length ? text.Substring(entity.Offset, entity.Length) : "";

    /// <summary>What a message without text is, in words an agent reads.</summary>
    private static string Describe(Message message) => message switch
    {
        { Sticker: { } sticker } => $"[sticker {sticker.Emoji}]",
        { Location: { } at } => $"[location {at.Latitude.ToString(CultureInfo.InvariantCulture)}, {at.Longitude.ToString(CultureInfo.InvariantCulture)}]",
        { Photo: not null } => "[photo]",
        { Document: { } document } => $"[document {document.FileName}]",
        { Voice: not null } => "[voice message]",
        { Video: not null } or { VideoNote: not null } => "[video]",
        { Audio: { } audio } => $"[audio {audio.FileName}]",
        _ => "",
    };
}
