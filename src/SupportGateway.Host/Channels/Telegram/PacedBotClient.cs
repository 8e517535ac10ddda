using System.Text.Json;
using System.Threading.RateLimiting;
using Telegram.Bot;
using Telegram.Bot.Exceptions;
using Telegram.Bot.Requests;
using Telegram.Bot.Requests.Abstractions;

namespace SupportGateway.Host.Channels.Telegram;

/// <summary>
/// Telegram.Bot's client with the limits Telegram sets (about 30 messages/s overall, 1/s per chat, 20/min per group)
/// and our answers to faults: a short <c>429 retry_after</c> is waited out (a long one is the caller's to honour), 5xx, dropped connections and timeouts are tried
/// again a few times; what is left reaches the caller as Telegram.Bot's <see cref="ApiRequestException"/> (with the
/// error_code) or <see cref="RequestException"/>. Every call, the extension methods included, comes through
/// <see cref="SendRequest{TResponse}"/>. The library's own 429 retry is off, so this is the one place for it.
/// </summary>
public sealed class PacedBotClient : TelegramBotClient, IDisposable
{
    /// <summary>Bots may download files up to 20 MB (getFile).</summary>
    public const long MaxDownload = 20 * 1024 * 1024;

    private const int MaxAttempts = 4;

    /// <summary>A longer retry_after reaches the caller: the outbox waits it out without holding a sender (or a poll).</summary>
    private const int MaxRetryAfterWait = 10;
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30);

    private readonly TimeProvider _time;
    private readonly RateLimiter _overall;
    private readonly PartitionedRateLimiter<long> _perChat;

    public PacedBotClient(TelegramBotClientOptions options, HttpClient http, TimeProvider time) : base(options, http)
    {
        options.RetryThreshold = 0;
        _time = time;
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

    public override Task<TResponse> SendRequest<TResponse>(IRequest<TResponse> request, CancellationToken cancellationToken = default) =>
        SendAsync(() => request, cancellationToken);

    /// <summary>
    /// A call that builds its request for every attempt: an upload's stream is read and disposed by a send, so a
    /// retried sendPhoto or sendDocument needs a fresh request.
    /// </summary>
    public async Task<TResponse> SendAsync<TResponse>(Func<IRequest<TResponse>> request, CancellationToken cancellationToken)
    {
        var first = request();
        // The limits count messages sent to a chat (sendMessage, sendPhoto, …), not other calls about it.
        if (first is IChatTargetable { ChatId.Identifier: { } chat } && first.MethodName.StartsWith("send", StringComparison.Ordinal))
        {
            using var perChat = await _perChat.AcquireAsync(chat, 1, cancellationToken);
            using var overall = await _overall.AcquireAsync(1, cancellationToken);
            return await CallAsync(first, request, cancellationToken);
        }
        return await CallAsync(first, request, cancellationToken);
    }

    private async Task<TResponse> CallAsync<TResponse>(IRequest<TResponse> first, Func<IRequest<TResponse>> request, CancellationToken cancellationToken)
    {
        var next = first;
        for (var attempt = 1; ; attempt++)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            // A long poll waits up to its own timeout for news; everything else answers within seconds.
            timeout.CancelAfter(next switch
            {
                GetUpdatesRequest { Timeout: { } poll } => TimeSpan.FromSeconds(poll + 10),
                RawUpdates { Timeout: { } poll } => TimeSpan.FromSeconds(poll + 10),
                _ => CallTimeout,
            });
            TimeSpan wait;
            try
            {
                return await base.SendRequest(next, timeout.Token);
            }
            catch (ApiRequestException ex) when (ex.ErrorCode == 429 && (ex.Parameters?.RetryAfter ?? 1) <= MaxRetryAfterWait)
            {
                RateLimited++;
                wait = TimeSpan.FromSeconds(Math.Max(ex.Parameters?.RetryAfter ?? 1, 0));
                attempt = 0;
            }
            catch (Exception ex) when (attempt < MaxAttempts && Transient(ex, cancellationToken))
            {
                wait = TimeSpan.FromMilliseconds(250 * attempt);
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw new RequestException($"{next.MethodName}: the Bot API did not answer in time", ex);
            }
            await Task.Delay(wait, _time, cancellationToken);
            next = request();
        }
    }

    /// <summary>5xx, a dropped connection, an answer that is not Bot API JSON, or our own timeout: worth another try.</summary>
    private static bool Transient(Exception ex, CancellationToken cancellationToken) => ex switch
    {
        ApiRequestException api => api.ErrorCode >= 500,
        RequestException request => request.HttpStatusCode is null || (int)request.HttpStatusCode >= 500,
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        _ => false,
    };

    /// <summary>getUpdates with each update as the JSON Telegram sent (see <see cref="RawUpdates"/>).</summary>
    public Task<JsonElement[]> GetRawUpdatesAsync(GetUpdatesRequest request, CancellationToken cancellationToken) =>
        SendRequest(new RawUpdates(request), cancellationToken);

    /// <summary>Downloads a file that getFile described, from the file endpoint beside the API (at most two minutes).</summary>
    public async Task<byte[]> DownloadAsync(string filePath, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        using var content = new MemoryStream();
        try
        {
            await DownloadFile(filePath, content, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new IOException("the file download took over 2 minutes");
        }
        return content.ToArray();
    }

    /// <summary>
    /// getUpdates, Telegram.Bot's request, with the result left as JSON: each update is stored as received, and one
    /// update the library cannot read (a newer Bot API) is parked for replay instead of failing every poll after it.
    /// </summary>
    private sealed class RawUpdates(GetUpdatesRequest request) : IRequest<JsonElement[]>
    {
        public HttpMethod HttpMethod => request.HttpMethod;

        public string MethodName => request.MethodName;

        public bool IsWebhookResponse { get => request.IsWebhookResponse; set => request.IsWebhookResponse = value; }

        public HttpContent? ToHttpContent() => request.ToHttpContent();

        public int? Timeout => request.Timeout;
    }

    public void Dispose()
    {
        _overall.Dispose();
        _perChat.Dispose();
    }
}
