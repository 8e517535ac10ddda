using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.RateLimiting;

namespace SupportGateway.Host.Channels.WhatsApp;

/// <summary>
/// The Graph API client: one method, <see cref="SendAsync{TResponse}"/>, for every request record. The limits live
/// here and nowhere else: the business number's throughput (80 messages/s by default), per-recipient pacing (Meta's
/// pair rate limit allows short bursts, then about one message per 6 s), and waiting out HTTP 429, 130429, 131056
/// and 5xx (Retry-After when given, else exponential backoff) before the outbox's own retries take over; a call the
/// API does not answer at all (refused, dropped, timed out) goes back to the outbox at once. The bearer
/// token travels only in the Authorization header, which nothing here logs.
/// </summary>
public sealed class CloudApiClient : IDisposable
{
    private static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    private readonly HttpClient _http;
    private readonly string _baseUrl;
    private readonly AuthenticationHeaderValue _bearer;
    private readonly TimeProvider _time;
    private readonly RateLimiter _overall;
    private readonly PartitionedRateLimiter<string> _perRecipient;

    public CloudApiClient(string baseUrl, string version, string accessToken, TimeProvider? time = null, HttpMessageHandler? handler = null)
    {
        // A plain HttpClient: the factory's logging handlers would write media URLs (with their signed query) to the log.
        _http = new HttpClient(handler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            Timeout = Timeout.InfiniteTimeSpan,
            MaxResponseContentBufferSize = DownloadMedia.MaxSize + (1 << 20),
        };
        _baseUrl = $"{baseUrl.TrimEnd('/')}/{version.Trim('/')}/";
        _bearer = new AuthenticationHeaderValue("Bearer", accessToken);
        _time = time ?? TimeProvider.System;
        _overall = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = 80, TokensPerPeriod = 80, ReplenishmentPeriod = TimeSpan.FromSeconds(1), QueueLimit = int.MaxValue, AutoReplenishment = true,
        });
        _perRecipient = PartitionedRateLimiter.Create<string, string>(to => RateLimitPartition.GetTokenBucketLimiter(to, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = 10, TokensPerPeriod = 1, ReplenishmentPeriod = TimeSpan.FromSeconds(6), QueueLimit = int.MaxValue, AutoReplenishment = true,
        }));
    }

    /// <summary>How many times a call waited out a rate limit (for tests and health).</summary>
    public int RateLimited { get; private set; }

    /// <summary>The first wait after a transient failure; it doubles for each further attempt.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    public const int MaxAttempts = 4;

    public async Task<TResponse> SendAsync<TResponse>(ICloudRequest<TResponse> request, CancellationToken cancellationToken)
    {
        if (request.Recipient is not { } to)
            return await CallAsync(request, cancellationToken);
        using var perRecipient = await _perRecipient.AcquireAsync(to, 1, cancellationToken);
        using var overall = await _overall.AcquireAsync(1, cancellationToken);
        return await CallAsync(request, cancellationToken);
    }

    private async Task<TResponse> CallAsync<TResponse>(ICloudRequest<TResponse> request, CancellationToken cancellationToken)
    {
        var name = request.GetType().Name;
        var body = request.Method == HttpMethod.Post && request is not UploadMedia ? JsonSerializer.SerializeToUtf8Bytes(request, request.GetType(), Json) : null;
        for (var attempt = 1; ; attempt++)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(request is DownloadMedia or UploadMedia ? TimeSpan.FromMinutes(2) : TimeSpan.FromSeconds(30));
            CloudApiException failure;
            TimeSpan? retryAfter = null;
            try
            {
                using var message = new HttpRequestMessage(request.Method, Address(request)) { Content = Content(request, body) };
                message.Headers.Authorization = _bearer;
                using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseContentRead, timeout.Token);
                if (response.IsSuccessStatusCode)
                    return await ReadAsync<TResponse>(response, name, cancellationToken);
                failure = await ErrorAsync(response, name, cancellationToken);
                retryAfter = response.Headers.RetryAfter?.Delta;
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // Not answering at all is an outage, not a hiccup: seconds of retries here would hold the outbox's
                // sender on every delivery while the API is down, and the outbox retries by time anyway.
                throw new CloudApiException(name, 503, 0, "the Graph API did not answer", ex is OperationCanceledException ? "timeout" : ex.GetType().Name);
            }
            var limited = failure.Code is CloudApiException.Throughput or CloudApiException.PairRate || failure.Status == 429;
            if (!failure.Transient || attempt >= MaxAttempts || !(request.Idempotent || limited))
                throw failure;
            if (limited)
                RateLimited++;
            var backoff = RetryDelay * Math.Pow(2, attempt - 1) * (0.8 + Random.Shared.NextDouble() * 0.4);
            await Task.Delay(retryAfter is { } wait ? TimeSpan.FromSeconds(Math.Clamp(wait.TotalSeconds, 0, 30)) : backoff, _time, cancellationToken);
        }
    }

    private Uri Address<TResponse>(ICloudRequest<TResponse> request) =>
        Uri.TryCreate(request.Path, UriKind.Absolute, out var absolute) && absolute.Scheme is "https" or "http" ? absolute : new Uri(_baseUrl + request.Path);

    /// <summary>JSON for a call, multipart/form-data for an upload (Meta's documented fields: messaging_product, type, file).</summary>
    private static HttpContent? Content(object request, byte[]? json)
    {
        if (request is UploadMedia upload)
        {
            var file = new ByteArrayContent(upload.Content);
            file.Headers.ContentType = new(upload.ContentType);
            return new MultipartFormDataContent
            {
                { new StringContent("whatsapp"), "messaging_product" },
                { new StringContent(upload.ContentType), "type" },
                { file, "file", upload.FileName },
            };
        }
        if (json is null)
            return null;
        var content = new ByteArrayContent(json);
        content.Headers.ContentType = new("application/json");
        return content;
    }

    private static async Task<TResponse> ReadAsync<TResponse>(HttpResponseMessage response, string name, CancellationToken cancellationToken)
    {
        if (typeof(TResponse) == typeof(byte[]))
            return (TResponse)(object)await response.Content.ReadAsByteArrayAsync(cancellationToken);
        try
        {
            return await response.Content.ReadFromJsonAsync<TResponse>(Json, cancellationToken)
                ?? throw new CloudApiException(name, (int)response.StatusCode, 0, "an empty answer", null);
        }
        catch (JsonException ex)
        {
            throw new CloudApiException(name, 502, 0, "the answer was not Graph API JSON", ex.Message);
        }
    }

    /// <summary>Graph API errors are <c>{"error":{"message","type","code","error_subcode","error_data":{"details"}}}</c>.</summary>
    private static async Task<CloudApiException> ErrorAsync(HttpResponseMessage response, string name, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        try
        {
            var envelope = await response.Content.ReadFromJsonAsync<ErrorEnvelope>(Json, cancellationToken);
            if (envelope?.Error is { } error)
                return new CloudApiException(name, status, error.Code, error.Message ?? error.Title ?? "", error.Data?.Details);
        }
        catch (JsonException)
        {
            // Not JSON (a proxy's error page): the status is all there is.
        }
        return new CloudApiException(name, status, 0, response.ReasonPhrase ?? "", null);
    }

    private sealed record ErrorEnvelope([property: JsonPropertyName("error")] GraphError? Error);

    private sealed record GraphError
    {
        [JsonPropertyName("code")] public int Code { get; init; }
        [JsonPropertyName("message")] public string? Message { get; init; }
        [JsonPropertyName("title")] public string? Title { get; init; }
        [JsonPropertyName("error_data")] public GraphErrorData? Data { get; init; }
    }

    private sealed record GraphErrorData([property: JsonPropertyName("details")] string? Details);

    public void Dispose()
    {
        _http.Dispose();
        _overall.Dispose();
        _perRecipient.Dispose();
    }
}
