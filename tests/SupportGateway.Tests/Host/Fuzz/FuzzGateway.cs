using System.Collections.Concurrent;
using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Fuzz;

/// <summary>
/// One gateway for one fuzz target, with every public input on (web chat, intake API, the Telegram webhook, Twilio and
/// the Cloud API against their doubles), the abuse limits out of the way so that mutations reach the parsers, and a log
/// that keeps every warning and error. It sends a case, judges the answer and tallies it; at the end it waits for the
/// workers to finish what was stored and checks the database for anything half-written.
/// </summary>
internal sealed class FuzzGateway : IAsyncDisposable
{
    public const string TelegramSecret = "fuzz-telegram-secret-0001";
    public const string AppSecret = "fuzz-meta-app-secret-0001";
    public const string TwilioUrl = "https://support.example.com/webhooks/whatsapp/twilio";

    // Far longer than any answer takes on a loaded machine; a case past it is a hang.
    private static readonly TimeSpan CaseTimeout = TimeSpan.FromSeconds(30);

    private readonly FuzzLog _log = new();

    private FuzzGateway(FuzzTally tally)
    {
        Tally = tally;
        var settings = new Dictionary<string, string?>
        {
            ["SupportGateway:Channels:Telegram:BotToken"] = FakeBotApi.Token,
            ["SupportGateway:Channels:Telegram:ApiBaseUrl"] = Bot.BaseUrl,
            ["SupportGateway:Channels:Telegram:Mode"] = "Webhook",
            ["SupportGateway:Channels:Telegram:WebhookUrl"] = "https://support.example.com/webhooks/telegram",
            ["SupportGateway:Channels:Telegram:WebhookSecret"] = TelegramSecret,
            ["SupportGateway:Channels:WhatsApp:Twilio:AccountSid"] = FakeTwilioApi.AccountSid,
            ["SupportGateway:Channels:WhatsApp:Twilio:AuthToken"] = FakeTwilioApi.AuthToken,
            ["SupportGateway:Channels:WhatsApp:Twilio:From"] = "whatsapp:+14155238886",
            ["SupportGateway:Channels:WhatsApp:Twilio:WebhookUrl"] = TwilioUrl,
            ["SupportGateway:Channels:WhatsApp:Twilio:ApiBaseUrl"] = Twilio.BaseUrl,
            ["SupportGateway:Channels:WhatsApp:PublicBaseUrl"] = "https://support.example.com",
            ["SupportGateway:Channels:WhatsApp:Cloud:PhoneNumberId"] = FakeGraphApi.PhoneNumberId,
            ["SupportGateway:Channels:WhatsApp:Cloud:AccessToken"] = FakeGraphApi.Token,
            ["SupportGateway:Channels:WhatsApp:Cloud:AppSecret"] = AppSecret,
            ["SupportGateway:Channels:WhatsApp:Cloud:VerifyToken"] = "fuzz-verify-token",
            ["SupportGateway:Channels:WhatsApp:Cloud:ApiBaseUrl"] = Graph.BaseUrl,
            ["SupportGateway:Channels:WhatsApp:Cloud:ApiVersion"] = FakeGraphApi.Version,
            // The limits have tests of their own; here they would answer 429 before a mutation reached a parser.
            ["SupportGateway:Limits:WebChat:NewRequestsPerVisitor:Permits"] = "1000000",
            ["SupportGateway:Limits:WebChat:NewRequestsPerAddress:Permits"] = "1000000",
            ["SupportGateway:Limits:WebChat:MessagesPerVisitor:Permits"] = "1000000",
            ["SupportGateway:Limits:WebChat:OpenRequestsPerVisitor"] = "1000000",
            ["SupportGateway:Limits:IntakePerKey:Permits"] = "1000000",
            ["SupportGateway:Limits:WebhookPerSource:Permits"] = "1000000",
            ["SupportGateway:Intake:MaxRequestBytes"] = "2000000",
        };
        Gateway = new GatewayFactory(settings, services: s => s.AddSingleton<ILoggerProvider>(_log));
        Client = Gateway.CreateClient();
        Intake = Gateway.Intake();
    }

    public FuzzTally Tally { get; }

    public FakeBotApi Bot { get; } = new();

    public FakeTwilioApi Twilio { get; } = new();

    public FakeGraphApi Graph { get; } = new();

    public GatewayFactory Gateway { get; }

    /// <summary>A client without keys: the webhooks and the widget.</summary>
    public HttpClient Client { get; }

    public HttpClient Intake { get; }

    public static async Task<FuzzGateway> StartAsync(string target, int seed)
    {
        var gateway = new FuzzGateway(new FuzzTally(target, seed));
        await Eventually.HoldsAsync(() => Task.FromResult(gateway.Bot.Sent("setWebhook").Any()), 30, () => "the Telegram webhook was registered");
        return gateway;
    }

    /// <summary>Sends case <paramref name="n"/> and judges the answer: 2xx, or 4xx with problem details; never 5xx, a hang or a logged exception.</summary>
    public async Task SendAsync(int n, HttpClient client, HttpRequestMessage request, string what)
    {
        var before = _log.Failures;
        using var timeout = new CancellationTokenSource(CaseTimeout);
        try
        {
            using var response = await client.SendAsync(request, timeout.Token);
            var status = (int)response.StatusCode;
            var body = await response.Content.ReadAsStringAsync(timeout.Token);
            if (status is >= 200 and < 300)
                Tally.Success++;
            else if (status is >= 400 and < 500)
            {
                Tally.ClientError++;
                if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                    Tally.Fail(n, $"{status} without problem details ({response.Content.Headers.ContentType}) for {what}: {Clip(body)}");
            }
            else
            {
                Tally.ServerError++;
                Tally.Fail(n, $"{status} for {what}: {Clip(body)}");
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            Tally.Hangs++;
            Tally.Fail(n, $"no answer within {CaseTimeout.TotalSeconds:0} s for {what}");
        }
        finally
        {
            request.Dispose();
        }
        Tally.Cases++;
        foreach (var line in _log.Since(before))
        {
            Tally.Exceptions++;
            Tally.Fail(n, $"logged while handling {what}: {Clip(line, 1200)}");
        }
    }

    /// <summary>
    /// Waits until the workers are done with everything stored (no payload pending, no delivery due), then checks that
    /// nothing is half-written: every ticket has its first message, every parked payload says why.
    /// </summary>
    public async Task CheckSettledAsync()
    {
        var before = _log.Failures;
        var dir = Gateway.Directory;
        await Eventually.HoldsAsync(async () => await DbProbe.ScalarAsync<long>(dir, "SELECT COUNT(*) FROM inbound WHERE state = 'pending'") == 0, 120,
            () => "every stored payload was processed");
        await Eventually.HoldsAsync(async () => await DbProbe.ScalarAsync<long>(dir,
            "SELECT COUNT(*) FROM outbox WHERE state = 'in_flight' OR (state = 'pending' AND next_attempt_at <= @now)",
            new { now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() }) == 0, 120, () => "every due delivery was tried");
        Tally.Tickets = await DbProbe.ScalarAsync<long>(dir, "SELECT COUNT(*) FROM tickets");
        Tally.Parked = await DbProbe.ScalarAsync<long>(dir, "SELECT COUNT(*) FROM inbound WHERE state = 'dead'");
        var noFirst = await DbProbe.ListAsync<string>(dir,
            "SELECT number FROM tickets t WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.ticket_id = t.id AND m.direction = 'in')");
        foreach (var number in noFirst)
            Tally.Fail(-1, $"ticket {number} has no message from its customer");
        var unexplained = await DbProbe.ListAsync<long>(dir, "SELECT id FROM inbound WHERE state = 'dead' AND (last_error IS NULL OR last_error = '')");
        foreach (var id in unexplained)
            Tally.Fail(-1, $"inbound {id} is parked without a reason");
        var unknown = await DbProbe.ListAsync<string>(dir, "SELECT DISTINCT state FROM inbound WHERE state NOT IN ('processed', 'dead')");
        foreach (var state in unknown)
            Tally.Fail(-1, $"inbound rows left in state {state}");
        var orphans = await DbProbe.ScalarAsync<long>(dir, "SELECT COUNT(*) FROM messages m WHERE NOT EXISTS (SELECT 1 FROM tickets t WHERE t.id = m.ticket_id)");
        if (orphans > 0)
            Tally.Fail(-1, $"{orphans} messages belong to no ticket");
        foreach (var line in _log.Since(before))
        {
            Tally.Exceptions++;
            Tally.Fail(-1, $"logged by a background worker: {Clip(line, 1200)}");
        }
    }

    public static ByteArrayContent Content(byte[] body, string? contentType)
    {
        var content = new ByteArrayContent(body);
        if (contentType is not null && MediaTypeHeaderValue.TryParse(contentType, out var parsed))
            content.Headers.ContentType = parsed;
        else if (contentType is not null)
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return content;
    }

    private static string Clip(string text, int length = 300) => text.Length <= length ? text : text[..length] + "…";

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        Intake.Dispose();
        Gateway.Dispose();
        await Bot.DisposeAsync();
        await Twilio.DisposeAsync();
        await Graph.DisposeAsync();
    }
}

/// <summary>
/// What the gateway logged that a fuzz case must never cause: an error, or any line carrying an exception (an unhandled
/// one, or a stack trace where a warning without one would do). Warnings without an exception are expected: hostile input.
/// </summary>
internal sealed class FuzzLog : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();
    private int _count;

    public int Failures => Volatile.Read(ref _count);

    public IReadOnlyList<string> Since(int index) => [.. _lines.Skip(index)];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(FuzzLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel < LogLevel.Error && exception is null)
                return;
            log._lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)}{(exception is null ? "" : $" [{exception}]")}");
            Interlocked.Increment(ref log._count);
        }
    }
}
