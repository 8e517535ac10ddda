using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Api;

/// <summary>A product hears of its tickets: signed callbacks through the outbox, and one log line per ticket event.</summary>
public sealed class IntakeCallbackTests
{
    private const string Secret = "callback-secret-0123456789abcdef-xyz";

    /// <summary>A product's receiver on loopback: records each request; answers 500 to the first <see cref="FailFirst"/>.</summary>
    private sealed class Receiver : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private int _seen;

        public Receiver()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
            builder.Logging.ClearProviders();
            _app = builder.Build();
            _app.MapPost("/hooks/support", async (HttpRequest request) =>
            {
                using var reader = new StreamReader(request.Body, Encoding.UTF8);
                var body = await reader.ReadToEndAsync();
                var failed = Interlocked.Increment(ref _seen) <= FailFirst;
                Requests.Enqueue((request.Headers["X-SupportGateway-Timestamp"].ToString(), request.Headers["X-SupportGateway-Signature"].ToString(),
                    request.Headers["X-SupportGateway-Delivery"].ToString(), body, failed));
                return failed ? Results.StatusCode(500) : Results.NoContent();
            });
            _app.StartAsync().GetAwaiter().GetResult();
        }

        public int FailFirst { get; init; }

        public string Url => _app.Urls.First() + "/hooks/support";

        public ConcurrentQueue<(string Timestamp, string Signature, string Delivery, string Body, bool Failed)> Requests { get; } = new();

        public ValueTask DisposeAsync() => _app.DisposeAsync();
    }

    private sealed class LogRecorder : ILoggerProvider
    {
        public ConcurrentQueue<(string Category, LogLevel Level, string Message, IReadOnlyList<KeyValuePair<string, object?>> State)> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(LogRecorder recorder, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                recorder.Entries.Enqueue((category, logLevel, formatter(state, exception),
                    state as IReadOnlyList<KeyValuePair<string, object?>> ?? []));
        }
    }

    private static GatewayFactory Gateway(Receiver receiver, LogRecorder? logs = null) => new(new Dictionary<string, string?>
    {
        ["SupportGateway:Intake:Callbacks:0:Url"] = receiver.Url,
        ["SupportGateway:Intake:Callbacks:0:Secret"] = Secret,
        ["SupportGateway:Outbox:FirstRetryDelay"] = "00:00:00.200",
    }, services: logs is null ? null : s => s.AddSingleton<ILoggerProvider>(logs));

    private static string Hmac(string timestamp, string body) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes($"{timestamp}.{body}")));

    [Test]
    public async Task An_agent_answer_and_a_status_change_reach_the_product_signed_and_retried_after_a_failure()
    {
        await using var receiver = new Receiver { FailFirst = 1 };
        using var gateway = Gateway(receiver);
        using var intake = gateway.Intake();
        using var agent = gateway.Agent();
        var number = await gateway.FileRequestAsync(intake, "Отчёт не выгружается");
        Assert.That(receiver.Requests, Is.Empty, "a new ticket is the product's own news");

        await agent.PostAsJsonAsync($"/api/v1/tickets/{number}/replies", new { text = "Смотрим" });
        await Eventually.HoldsAsync(() => Task.FromResult(receiver.Requests.Count(r => !r.Failed) >= 2), 30,
            () => string.Join(" | ", receiver.Requests.Select(r => r.Body)));

        var requests = receiver.Requests.ToList();
        Assert.That(requests[0].Failed, Is.True);
        var delivered = requests.Where(r => !r.Failed).ToList();
        foreach (var request in requests)
        {
            Assert.That(request.Signature, Is.EqualTo("sha256=" + Hmac(request.Timestamp, request.Body)), "HMAC-SHA256 of timestamp.body");
            Assert.That(long.Parse(request.Timestamp), Is.EqualTo(DateTimeOffset.UtcNow.ToUnixTimeSeconds()).Within(120), "a fresh timestamp");
        }
        var events = delivered.Select(r => JsonDocument.Parse(r.Body).RootElement).ToList();
        Assert.That(events.Select(e => e.GetProperty("event").GetString()), Is.EquivalentTo(new[] { "answer_sent", "status_changed" }));
        Assert.That(events.Select(e => e.GetProperty("ticketNumber").GetString()).Distinct(), Is.EqualTo(new[] { number }));
        Assert.That(events.Single(e => e.GetProperty("event").GetString() == "status_changed").GetProperty("status").GetString(), Is.EqualTo("in_progress"));
        var retried = requests[0];
        Assert.That(delivered.Any(r => r.Delivery == retried.Delivery && r.Body == retried.Body), Is.True, "the retry is the same delivery, the same body");
        Assert.That(delivered.Select(r => r.Body).Any(b => b.Contains("Смотрим")), Is.False, "the answer's text stays in the gateway");
    }

    [Test]
    public async Task Each_ticket_event_is_one_information_line_without_text_or_people()
    {
        await using var receiver = new Receiver();
        var logs = new LogRecorder();
        using var gateway = Gateway(receiver, logs);
        using var intake = gateway.Intake();
        using var agent = gateway.Agent();
        var number = await gateway.FileRequestAsync(intake, "Отчёт не выгружается", "secret-person@example.ru");
        await intake.PostAsJsonAsync($"/api/v1/requests/{number}/messages", new { text = "Всё ещё не работает", contact = new { email = "secret-person@example.ru" } });
        await agent.PostAsJsonAsync($"/api/v1/tickets/{number}/replies", new { text = "Смотрим" });

        var lines = logs.Entries.Where(e => e.Category == "SupportGateway.Core.Tickets.TicketEvents").ToList();
        Assert.That(lines.Select(l => l.State.Single(p => p.Key == "TicketEvent").Value),
            Is.EqualTo(new object[] { "created", "customer_follow_up", "answer_sent", "status_changed" }));
        Assert.That(lines.Select(l => l.Level).Distinct(), Is.EqualTo(new[] { LogLevel.Information }));
        Assert.That(lines.Select(l => l.State.Single(p => p.Key == "TicketNumber").Value).Distinct(), Is.EqualTo(new object[] { number }));
        Assert.That(lines.Select(l => l.State.Single(p => p.Key == "Channel").Value).Distinct(), Is.EqualTo(new object[] { "api" }));
        Assert.That(lines.Select(l => l.Message), Has.None.Contains("secret-person").And.None.Contains("Смотрим").And.None.Contains("работает"));
    }

    [TestCase("ftp://product.example/hook", Secret, "Callbacks:0:Url")]
    [TestCase("https://product.example/hook", "short", "Callbacks:0:Secret")]
    public void A_bad_callback_is_refused_at_start_naming_the_key(string url, string secret, string key)
    {
        var options = new SupportGateway.Host.Channels.Api.IntakeOptions { Callbacks = [new() { Url = url, Secret = secret }] };
        var result = new SupportGateway.Host.Channels.Api.IntakeOptionsValidator().Validate(null, options);
        Assert.That(result.Failed, Is.True);
        Assert.That(result.Failures, Has.One.StartsWith("SupportGateway:Intake:" + key + ":"));
    }
}
