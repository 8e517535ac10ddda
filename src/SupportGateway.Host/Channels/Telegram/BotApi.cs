using System.Text.Json;
using System.Text.Json.Serialization;

namespace SupportGateway.Host.Channels.Telegram;

// The Telegram Bot API (https://core.telegram.org/bots/api), the subset a support bot needs. Objects keep only the
// fields we read; unknown fields are ignored, so newer API versions parse. Ids are long: user ids exceed 2^31.

public sealed record TgUser([property: JsonPropertyName("id")] long Id)
{
    [JsonPropertyName("is_bot")] public bool IsBot { get; init; }
    [JsonPropertyName("first_name")] public string FirstName { get; init; } = "";
    [JsonPropertyName("last_name")] public string? LastName { get; init; }
    [JsonPropertyName("username")] public string? Username { get; init; }
    [JsonPropertyName("language_code")] public string? LanguageCode { get; init; }

    public string DisplayName => LastName is { Length: > 0 } last ? $"{FirstName} {last}" : FirstName;
}

public sealed record TgChat([property: JsonPropertyName("id")] long Id, [property: JsonPropertyName("type")] string Type)
{
    [JsonPropertyName("title")] public string? Title { get; init; }
    [JsonPropertyName("is_forum")] public bool IsForum { get; init; }

    public bool IsPrivate => Type == "private";
}

public sealed record TgFile
{
    [JsonPropertyName("file_id")] public string FileId { get; init; } = "";
    [JsonPropertyName("file_unique_id")] public string? FileUniqueId { get; init; }
    [JsonPropertyName("file_size")] public long? FileSize { get; init; }
    [JsonPropertyName("file_name")] public string? FileName { get; init; }
    [JsonPropertyName("mime_type")] public string? MimeType { get; init; }
    [JsonPropertyName("file_path")] public string? FilePath { get; init; }
    [JsonPropertyName("width")] public int? Width { get; init; }
    [JsonPropertyName("height")] public int? Height { get; init; }
    [JsonPropertyName("emoji")] public string? Emoji { get; init; }
}

/// <summary>A MessageEntity: offset and length count UTF-16 code units, as .NET strings do.</summary>
public sealed record TgEntity([property: JsonPropertyName("type")] string Type, [property: JsonPropertyName("offset")] int Offset,
    [property: JsonPropertyName("length")] int Length)
{
    [JsonPropertyName("user")] public TgUser? User { get; init; }
}

public sealed record TgLocation([property: JsonPropertyName("latitude")] double Latitude, [property: JsonPropertyName("longitude")] double Longitude);

public sealed record TgMessage
{
    [JsonPropertyName("message_id")] public long MessageId { get; init; }
    [JsonPropertyName("message_thread_id")] public long? MessageThreadId { get; init; }
    [JsonPropertyName("is_topic_message")] public bool IsTopicMessage { get; init; }
    [JsonPropertyName("from")] public TgUser? From { get; init; }
    [JsonPropertyName("chat")] public TgChat Chat { get; init; } = new(0, "private");
    [JsonPropertyName("date")] public long Date { get; init; }
    [JsonPropertyName("edit_date")] public long? EditDate { get; init; }
    [JsonPropertyName("text")] public string? Text { get; init; }
    [JsonPropertyName("caption")] public string? Caption { get; init; }
    [JsonPropertyName("entities")] public IReadOnlyList<TgEntity>? Entities { get; init; }
    [JsonPropertyName("caption_entities")] public IReadOnlyList<TgEntity>? CaptionEntities { get; init; }
    [JsonPropertyName("reply_to_message")] public TgMessage? ReplyToMessage { get; init; }
    [JsonPropertyName("photo")] public IReadOnlyList<TgFile>? Photo { get; init; }
    [JsonPropertyName("document")] public TgFile? Document { get; init; }
    [JsonPropertyName("voice")] public TgFile? Voice { get; init; }
    [JsonPropertyName("video")] public TgFile? Video { get; init; }
    [JsonPropertyName("audio")] public TgFile? Audio { get; init; }
    [JsonPropertyName("video_note")] public TgFile? VideoNote { get; init; }
    [JsonPropertyName("sticker")] public TgFile? Sticker { get; init; }
    [JsonPropertyName("location")] public TgLocation? Location { get; init; }
}

public sealed record TgUpdate([property: JsonPropertyName("update_id")] long UpdateId)
{
    [JsonPropertyName("message")] public TgMessage? Message { get; init; }
    [JsonPropertyName("edited_message")] public TgMessage? EditedMessage { get; init; }
    [JsonPropertyName("callback_query")] public TgCallbackQuery? CallbackQuery { get; init; }
}

/// <summary>A pressed inline button. <see cref="Message"/> is the bot's message that carried it (absent when too old).</summary>
public sealed record TgCallbackQuery([property: JsonPropertyName("id")] string Id, [property: JsonPropertyName("from")] TgUser From)
{
    [JsonPropertyName("message")] public TgMessage? Message { get; init; }
    [JsonPropertyName("data")] public string? Data { get; init; }
}

public sealed record InlineButton([property: JsonPropertyName("text")] string Text, [property: JsonPropertyName("callback_data")] string CallbackData);

public sealed record InlineKeyboard([property: JsonPropertyName("inline_keyboard")] IReadOnlyList<IReadOnlyList<InlineButton>> Rows);

/// <summary>One Bot API method: its name and the type of its <c>result</c>. The record itself is the JSON body.</summary>
public interface IBotRequest<TResult>
{
    [JsonIgnore] string Method { get; }

    /// <summary>The chat a sending method writes to, for the per-chat rate limits; null for others.</summary>
    [JsonIgnore] long? ChatId => null;
}

public sealed record GetMe : IBotRequest<TgUser>
{
    [JsonIgnore] public string Method => "getMe";
}

public sealed record GetUpdates : IBotRequest<IReadOnlyList<JsonElement>>
{
    [JsonIgnore] public string Method => "getUpdates";
    [JsonPropertyName("offset")] public long? Offset { get; init; }
    [JsonPropertyName("timeout")] public int Timeout { get; init; }
    [JsonPropertyName("limit")] public int Limit { get; init; } = 100;
    [JsonPropertyName("allowed_updates")] public IReadOnlyList<string>? AllowedUpdates { get; init; }
}

public sealed record SetWebhook([property: JsonPropertyName("url")] string Url) : IBotRequest<bool>
{
    [JsonIgnore] public string Method => "setWebhook";
    [JsonPropertyName("secret_token")] public string? SecretToken { get; init; }
    [JsonPropertyName("allowed_updates")] public IReadOnlyList<string>? AllowedUpdates { get; init; }
}

public sealed record DeleteWebhook : IBotRequest<bool>
{
    [JsonIgnore] public string Method => "deleteWebhook";
}

public sealed record BotCommand([property: JsonPropertyName("command")] string Command, [property: JsonPropertyName("description")] string Description);

public sealed record SetMyCommands([property: JsonPropertyName("commands")] IReadOnlyList<BotCommand> Commands) : IBotRequest<bool>
{
    [JsonIgnore] public string Method => "setMyCommands";
    [JsonPropertyName("language_code")] public string? LanguageCode { get; init; }
}

public sealed record ReplyParameters([property: JsonPropertyName("message_id")] long MessageId)
{
    [JsonPropertyName("allow_sending_without_reply")] public bool AllowSendingWithoutReply { get; init; } = true;
}

public sealed record SendMessage([property: JsonPropertyName("chat_id")] long Chat, [property: JsonPropertyName("text")] string Text) : IBotRequest<TgMessage>
{
    [JsonIgnore] public string Method => "sendMessage";
    long? IBotRequest<TgMessage>.ChatId => Chat;
    [JsonPropertyName("message_thread_id")] public long? MessageThreadId { get; init; }
    [JsonPropertyName("reply_parameters")] public ReplyParameters? ReplyParameters { get; init; }
    [JsonPropertyName("reply_markup")] public InlineKeyboard? ReplyMarkup { get; init; }
}

/// <summary>A method that uploads a file: sent as multipart/form-data, the file under <see cref="FileField"/>.</summary>
public interface IBotUpload
{
    [JsonIgnore] string FileField { get; }
    [JsonIgnore] string FileName { get; }
    [JsonIgnore] string ContentType { get; }
    [JsonIgnore] byte[] Content { get; }
}

/// <summary>sendPhoto: Telegram recompresses it and shows it inline (up to 10 MB).</summary>
public sealed record SendPhoto([property: JsonPropertyName("chat_id")] long Chat, [property: JsonIgnore] string FileName,
    [property: JsonIgnore] string ContentType, [property: JsonIgnore] byte[] Content) : IBotRequest<TgMessage>, IBotUpload
{
    [JsonIgnore] public string Method => "sendPhoto";
    long? IBotRequest<TgMessage>.ChatId => Chat;
    [JsonIgnore] public string FileField => "photo";
    [JsonPropertyName("message_thread_id")] public long? MessageThreadId { get; init; }
    [JsonPropertyName("caption")] public string? Caption { get; init; }
    [JsonPropertyName("reply_parameters")] public ReplyParameters? ReplyParameters { get; init; }
}

/// <summary>sendDocument: any file as it is (bots may upload up to 50 MB).</summary>
public sealed record SendDocument([property: JsonPropertyName("chat_id")] long Chat, [property: JsonIgnore] string FileName,
    [property: JsonIgnore] string ContentType, [property: JsonIgnore] byte[] Content) : IBotRequest<TgMessage>, IBotUpload
{
    [JsonIgnore] public string Method => "sendDocument";
    long? IBotRequest<TgMessage>.ChatId => Chat;
    [JsonIgnore] public string FileField => "document";
    [JsonPropertyName("message_thread_id")] public long? MessageThreadId { get; init; }
    [JsonPropertyName("caption")] public string? Caption { get; init; }
    [JsonPropertyName("reply_parameters")] public ReplyParameters? ReplyParameters { get; init; }
}

/// <summary>getFile: a file_path to download from, valid for an hour; bots may download files up to 20 MB.</summary>
public sealed record GetFile([property: JsonPropertyName("file_id")] string FileId) : IBotRequest<TgFile>
{
    [JsonIgnore] public string Method => "getFile";

    public const long MaxDownload = 20 * 1024 * 1024;
}

public sealed record AnswerCallbackQuery([property: JsonPropertyName("callback_query_id")] string CallbackQueryId) : IBotRequest<bool>
{
    [JsonIgnore] public string Method => "answerCallbackQuery";
    [JsonPropertyName("text")] public string? Text { get; init; }
}

/// <summary>editMessageReplyMarkup without a markup: takes the buttons off a message once they are answered.</summary>
public sealed record EditMessageReplyMarkup([property: JsonPropertyName("chat_id")] long Chat, [property: JsonPropertyName("message_id")] long MessageId)
    : IBotRequest<JsonElement>
{
    [JsonIgnore] public string Method => "editMessageReplyMarkup";
    [JsonPropertyName("reply_markup")] public InlineKeyboard? ReplyMarkup { get; init; }
}

