using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.RateLimiting;

namespace SupportGateway.Host.Channels.Telegram;

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
        _http = new HttpClient(handler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            Timeout = Timeout.InfiniteTimeSpan,
            // Nothing the Bot API sends is larger than a 20 MB file download.
            MaxResponseContentBufferSize = GetFile.MaxDownload + (1 << 20),
        };
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
                response = await _http.PostAsync(_baseUrl + request.Method, Content(request, body), cts.Token);
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

    /// <summary>JSON, or for an upload multipart/form-data: each field as text (objects as JSON) and the file.</summary>
    private static HttpContent Content(object request, byte[] json)
    {
        if (request is not IBotUpload upload)
        {
            var content = new ByteArrayContent(json);
            content.Headers.ContentType = new("application/json");
            return content;
        }
        var form = new MultipartFormDataContent();
        using (var fields = JsonDocument.Parse(json))
        {
            foreach (var field in fields.RootElement.EnumerateObject())
                form.Add(new StringContent(field.Value.ValueKind == JsonValueKind.String ? field.Value.GetString()! : field.Value.GetRawText()), field.Name);
        }
        var file = new ByteArrayContent(upload.Content);
        file.Headers.ContentType = new(upload.ContentType);
        form.Add(file, upload.FileField, upload.FileName);
        return form;
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
    public async Task<byte[]> DownloadAsync(string filePath, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        try
        {
            return await _http.GetByteArrayAsync(_baseUrl.Replace("/bot", "/file/bot", StringComparison.Ordinal) + filePath, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new IOException("the file download took over 2 minutes");
        }
    }

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
