using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.RateLimiting;

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
    [JsonPropertyName("reply_to_message")] public TgMessage? ReplyToMessage { get; init; }
    [JsonPropertyName("photo")] public IReadOnlyList<TgFile>? Photo { get; init; }
    [JsonPropertyName("document")] public TgFile? Document { get; init; }
    [JsonPropertyName("voice")] public TgFile? Voice { get; init; }
    [JsonPropertyName("video")] public TgFile? Video { get; init; }
    [JsonPropertyName("audio")] public TgFile? Audio { get; init; }
    [JsonPropertyName("sticker")] public TgFile? Sticker { get; init; }
    [JsonPropertyName("location")] public TgLocation? Location { get; init; }
}

public sealed record TgUpdate([property: JsonPropertyName("update_id")] long UpdateId)
{
    [JsonPropertyName("message")] public TgMessage? Message { get; init; }
    [JsonPropertyName("edited_message")] public TgMessage? EditedMessage { get; init; }
}

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
}

/// <summary>Telegram refused the call: <see cref="ErrorCode"/> is its error_code (400, 403 "bot was blocked", …).</summary>
public sealed class TelegramApiException(string method, int errorCode, string description)
    : Exception($"{method}: {errorCode} {description}")
{
    public int ErrorCode { get; } = errorCode;

    public string Description { get; } = description;

    public bool BlockedByUser => ErrorCode == 403;
}

/// <summary>
/// The Bot API client: one method, <see cref="SendAsync{TResult}"/>, for every request record. It owns the limits
/// Telegram sets (about 30 messages/s overall, 1/s per chat, 20/min per group), waits out <c>429 retry_after</c>, and
/// retries 5xx and dropped connections a few times. The token is part of every URL, so no URL is ever logged.
/// </summary>
public sealed class TelegramBotClient : IDisposable
{
    private static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    private readonly HttpClient _http;
    private readonly string _baseUrl;
    private readonly TimeProvider _time;
    private readonly RateLimiter _overall;
    private readonly PartitionedRateLimiter<long> _perChat;

    public TelegramBotClient(string baseUrl, string token, TimeProvider? time = null, HttpMessageHandler? handler = null)
    {
        // A plain HttpClient: the factory's logging handlers would write the token-bearing URL to the log.
        _http = new HttpClient(handler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = Timeout.InfiniteTimeSpan };
        _baseUrl = $"{baseUrl.TrimEnd('/')}/bot{token}/";
        _time = time ?? TimeProvider.System;
        _overall = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = 30, TokensPerPeriod = 30, ReplenishmentPeriod = TimeSpan.FromSeconds(1), QueueLimit = int.MaxValue, AutoReplenishment = true,
        });
        _perChat = PartitionedRateLimiter.Create<long, long>(chat => chat < 0
            // Groups: 20 messages per minute.
            ? RateLimitPartition.GetTokenBucketLimiter(chat, _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = 20, TokensPerPeriod = 1, ReplenishmentPeriod = TimeSpan.FromSeconds(3), QueueLimit = int.MaxValue, AutoReplenishment = true,
            })
            : RateLimitPartition.GetTokenBucketLimiter(chat, _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = 1, TokensPerPeriod = 1, ReplenishmentPeriod = TimeSpan.FromSeconds(1), QueueLimit = int.MaxValue, AutoReplenishment = true,
            }));
    }

    /// <summary>How many times a call waited out a 429 (for tests and health).</summary>
    public int RateLimited { get; private set; }

    public async Task<TResult> SendAsync<TResult>(IBotRequest<TResult> request, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        if (request.ChatId is { } chat)
        {
            using var perChat = await _perChat.AcquireAsync(chat, 1, cancellationToken);
            using var overall = await _overall.AcquireAsync(1, cancellationToken);
            return await CallAsync(request, cancellationToken, timeout);
        }
        return await CallAsync(request, cancellationToken, timeout);
    }

    private async Task<TResult> CallAsync<TResult>(IBotRequest<TResult> request, CancellationToken cancellationToken, TimeSpan? timeout)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(request, request.GetType(), Json);
        for (var attempt = 1; ; attempt++)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(timeout ?? TimeSpan.FromSeconds(30));
            HttpResponseMessage response;
            try
            {
                var content = new ByteArrayContent(body);
                content.Headers.ContentType = new("application/json");
                response = await _http.PostAsync(_baseUrl + request.Method, content, cts.Token);
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                if (attempt >= 4)
                    throw new IOException($"{request.Method}: the Bot API did not answer ({(ex is OperationCanceledException ? "timeout" : ex.GetType().Name)})");
                await Task.Delay(TimeSpan.FromMilliseconds(250 * attempt), _time, cancellationToken);
                continue;
            }
            using (response)
            {
                var envelope = await ReadAsync(response, cancellationToken);
                if (envelope.Ok && envelope.Result is { } result)
                    return result.Deserialize<TResult>(Json)!;
                if (envelope.ErrorCode == 429 || response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    RateLimited++;
                    var wait = TimeSpan.FromSeconds(Math.Clamp(envelope.Parameters?.RetryAfter ?? 1, 0, 300));
                    await Task.Delay(wait, _time, cancellationToken);
                    attempt = 0;
                    continue;
                }
                if ((int)response.StatusCode >= 500 && attempt < 4)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(250 * attempt), _time, cancellationToken);
                    continue;
                }
                throw new TelegramApiException(request.Method, envelope.ErrorCode ?? (int)response.StatusCode, envelope.Description ?? response.ReasonPhrase ?? "");
            }
        }
    }

    private static async Task<Envelope> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync<Envelope>(Json, cancellationToken) ?? new Envelope();
        }
        catch (JsonException)
        {
            return new Envelope { ErrorCode = (int)response.StatusCode, Description = "the answer was not Bot API JSON" };
        }
    }

    /// <summary>Downloads a file that getFile described (file_path), from the file endpoint beside the API.</summary>
    public async Task<byte[]> DownloadAsync(string filePath, CancellationToken cancellationToken) =>
        await _http.GetByteArrayAsync(_baseUrl.Replace("/bot", "/file/bot", StringComparison.Ordinal) + filePath, cancellationToken);

    private sealed record Envelope
    {
        [JsonPropertyName("ok")] public bool Ok { get; init; }
        [JsonPropertyName("result")] public JsonElement? Result { get; init; }
        [JsonPropertyName("error_code")] public int? ErrorCode { get; init; }
        [JsonPropertyName("description")] public string? Description { get; init; }
        [JsonPropertyName("parameters")] public ResponseParameters? Parameters { get; init; }
    }

    private sealed record ResponseParameters
    {
        [JsonPropertyName("retry_after")] public int? RetryAfter { get; init; }
    }

    public void Dispose()
    {
        _http.Dispose();
        _overall.Dispose();
        _perChat.Dispose();
    }
}
