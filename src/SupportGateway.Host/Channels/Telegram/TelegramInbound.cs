using System.Globalization;
using System.Text.Json;
using SupportGateway.Core.Pipeline;
using SupportGateway.Core.Storage;

namespace SupportGateway.Host.Channels.Telegram;

/// <summary>
/// A stored Bot API Update (its JSON as received) into an <see cref="InboundMessage"/>. Messages are known by
/// "chat:message_id", as our own sent messages are, so a Telegram reply to either finds its ticket; an edit is a
/// new message "chat:message_id:edit:date". The update kind and command travel in the technical details.
/// </summary>
internal sealed class TelegramNormalizer : IInboundNormalizer
{
    public const string Channel = "telegram";

    public string Format => Channel;

    /// <summary>The payload to store: deduplicated by update_id, which Telegram repeats until an update is confirmed.</summary>
    public static RawInbound ToRaw(byte[] update, long updateId) => new(Channel, "u" + updateId.ToString(CultureInfo.InvariantCulture), Channel, update);

    public InboundMessage Normalize(RawInbound raw)
    {
        var update = JsonSerializer.Deserialize<TgUpdate>(raw.Payload) ?? throw new InvalidDataException("not a Telegram update");
        var edited = update.EditedMessage is not null;
        if ((update.Message ?? update.EditedMessage) is not { From: { } from } message)
        {
            return new InboundMessage
            {
                Channel = Channel, ExternalId = raw.ExternalId, Sender = new SenderIdentity { Identity = "telegram" },
                TechnicalDetails = new Dictionary<string, string> { [Kind] = "other" },
            };
        }
        var chat = message.Chat.Id.ToString(CultureInfo.InvariantCulture);
        var text = (message.Text ?? message.Caption ?? Describe(message)).Trim();
        var command = text.StartsWith('/') ? text.Split([' ', '\n'], 2)[0].Split('@')[0].ToLowerInvariant() : null;
        if (command is "/new")
            text = text.Length > 4 ? text[4..].Trim() : "";
        var details = new Dictionary<string, string>
        {
            [Kind] = edited ? "edit" : "message",
            [ChatType] = message.Chat.Type,
            ["telegram.message_id"] = message.MessageId.ToString(CultureInfo.InvariantCulture),
        };
        if (command is not null)
            details[Command] = command;
        return new InboundMessage
        {
            Channel = Channel,
            ExternalId = edited ? $"{chat}:{message.MessageId}:edit:{message.EditDate ?? update.UpdateId}" : $"{chat}:{message.MessageId}",
            Sender = new SenderIdentity { Identity = from.Id.ToString(CultureInfo.InvariantCulture), Name = from.DisplayName },
            Hints = new ThreadHints
            {
                StartNew = command is "/new",
                ConversationKey = chat,
                ReplyAddress = chat,
                ReplyTo = message.ReplyToMessage is { } replied ? [$"{chat}:{replied.MessageId}"] : [],
            },
            Text = edited ? $"[edited] {text}" : text,
            Language = from.LanguageCode,
            TechnicalDetails = details,
            IsAutoSubmitted = from.IsBot,
            SentAt = DateTimeOffset.FromUnixTimeSeconds(message.Date),
        };
    }

    public const string Kind = "telegram.kind";
    public const string ChatType = "telegram.chat_type";
    public const string Command = "telegram.command";

    /// <summary>What a message without text is, in words an agent reads.</summary>
    private static string Describe(TgMessage message) => message switch
    {
        { Sticker: { } sticker } => $"[sticker {sticker.Emoji}]",
        { Location: { } at } => $"[location {at.Latitude.ToString(CultureInfo.InvariantCulture)}, {at.Longitude.ToString(CultureInfo.InvariantCulture)}]",
        { Photo: not null } => "[photo]",
        { Document: { } document } => $"[document {document.FileName}]",
        { Voice: not null } => "[voice message]",
        { Video: not null } => "[video]",
        { Audio: { } audio } => $"[audio {audio.FileName}]",
        _ => "",
    };
}

/// <summary>
/// The bot's own commands and what is not for tickets: /start greets and opens nothing; a bare /new detaches the
/// chat from its current ticket so the next message opens a new one; updates other than private messages are kept
/// (stored) but open nothing yet.
/// </summary>
internal sealed class TelegramCommandFilter(TelegramBotClient bot, Core.Tickets.TicketStore tickets) : IInboundFilter
{
    public int Order => 250;

    public async ValueTask RunAsync(InboundContext context, CancellationToken cancellationToken)
    {
        var message = context.Message;
        if (message.Channel != TelegramNormalizer.Channel)
            return;
        var details = message.TechnicalDetails ?? new Dictionary<string, string>();
        if (details.GetValueOrDefault(TelegramNormalizer.Kind) is not ("message" or "edit"))
        {
            context.DroppedBecause = "a Telegram update that is not a message";
            return;
        }
        if (details.GetValueOrDefault(TelegramNormalizer.ChatType) != "private")
        {
            context.DroppedBecause = "group chats are not handled yet";
            return;
        }
        if (message.IsAutoSubmitted)
        {
            context.DroppedBecause = "a message from a bot";
            return;
        }
        var russian = message.Language?.StartsWith("ru", StringComparison.OrdinalIgnoreCase) == true;
        var chat = long.Parse(message.Hints.ConversationKey!, CultureInfo.InvariantCulture);
        switch (details.GetValueOrDefault(TelegramNormalizer.Command))
        {
            case "/start":
                context.DroppedBecause = "/start";
                context.AfterCommit = ct => bot.SendAsync(new SendMessage(chat, russian
                    ? "Здравствуйте! Это служба поддержки. Опишите проблему одним сообщением — мы зарегистрируем обращение и пришлём его номер. /new — новое обращение."
                    : "Hello! This is customer support. Describe your problem in one message and we will register it and send you its number. /new starts a new request."), ct);
                return;
            case "/new" when message.Text.Length == 0:
                context.DroppedBecause = "/new";
                await tickets.DetachConversationAsync(context.Session, message.Channel, message.Hints.ConversationKey!, cancellationToken);
                context.AfterCommit = ct => bot.SendAsync(new SendMessage(chat, russian
                    ? "Опишите новую проблему одним сообщением."
                    : "Describe the new problem in one message."), ct);
                return;
        }
    }
}
