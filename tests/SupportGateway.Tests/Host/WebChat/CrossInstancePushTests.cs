using System.Net;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using SupportGateway.Core.Outbox;
using SupportGateway.Core.Storage;
using SupportGateway.Host.Channels.WebChat;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.WebChat;

/// <summary>
/// Two gateway instances on one PostgreSQL database: live push and wake-ups cross between them by LISTEN/NOTIFY. Where
/// a test must know which instance delivers, the other one is started without the web chat sender, so that only the
/// signal can explain what its visitor sees.
/// </summary>
[NonParallelizable]
public sealed class CrossInstancePushTests
{
    private const string Long = "00:10:00";

    private TestDatabase _database = null!;
    private readonly List<GatewayFactory> _instances = [];

    [SetUp]
    public async Task CreateDatabase() => _database = await TestDatabase.CreateAsync(StorageEngine.Postgres);

    [TearDown]
    public async Task StopInstances()
    {
        foreach (var instance in _instances)
            instance.Dispose();
        _instances.Clear();
        await _database.DisposeAsync();
    }

    [TestCase(0)]
    [TestCase(1)]
    public async Task A_visitor_on_one_instance_gets_the_answer_posted_through_the_other_exactly_once(int visitorSide)
    {
        var instances = new[] { Start(deliversWebChat: visitorSide != 0), Start(deliversWebChat: visitorSide != 1) };
        var (visitorOn, agentOn) = (instances[visitorSide], instances[1 - visitorSide]);
        var (token, number) = await OpenRequestAsync(visitorOn);
        await using var stream = await VisitorStream.OpenAsync(visitorOn.ServerAddress, token);

        var text = $"We are on it (answer through instance {2 - visitorSide}).";
        await ReplyAsync(agentOn, number, text);

        var pushed = await stream.WaitForAsync(text);
        Assert.That(pushed.GetProperty("ticketNumber").GetString(), Is.EqualTo(number));
        await Task.Delay(1000);
        Assert.That(stream.Count(text), Is.EqualTo(1), "pushed once, by the instance that holds the stream");
    }

    [Test]
    public async Task An_answer_larger_than_a_notification_may_be_arrives_whole()
    {
        var visitorOn = Start(deliversWebChat: false);
        var agentOn = Start();
        var (token, number) = await OpenRequestAsync(visitorOn);
        await using var stream = await VisitorStream.OpenAsync(visitorOn.ServerAddress, token);

        // NOTIFY takes under 8,000 bytes; the answer is over 20,000 in UTF-8.
        var text = string.Join(" ", Enumerable.Repeat("Ответ оператора, длинный.", 800));
        await ReplyAsync(agentOn, number, text);

        await stream.WaitForAsync(text);
        await Task.Delay(500);
        Assert.That(stream.Count(text), Is.EqualTo(1));
    }

    [Test]
    public async Task An_answer_sent_while_the_listener_reconnects_still_reaches_the_open_stream()
    {
        var visitorOn = Start(deliversWebChat: false);
        var agentOn = Start();
        var (token, number) = await OpenRequestAsync(visitorOn);
        await using var stream = await VisitorStream.OpenAsync(visitorOn.ServerAddress, token);
        await Eventually.HoldsAsync(async () => (await HealthAsync(visitorOn)).Contains("signals: connected", StringComparison.Ordinal));

        Assert.That(await TerminateListenerAsync(visitorOn), Is.EqualTo(1), "the instance's one listener connection");
        await Eventually.HoldsAsync(async () => (await HealthAsync(visitorOn)).Contains("signals: reconnecting", StringComparison.Ordinal));
        var health = await HealthAsync(visitorOn);
        Assert.That(health, Does.Contain("last error: 57P01"), "the server's reason, and nothing of the connection string");
        Assert.That(health, Does.Not.Contain("Password").And.Not.Contain("Username"));

        var text = "Answered while the listener was away.";
        await ReplyAsync(agentOn, number, text);
        await Eventually.HoldsAsync(() => SentAsync(text));
        Assert.That(await HealthAsync(visitorOn), Does.Contain("signals: reconnecting"), "the answer was delivered during the break (the first retry waits 3 s)");

        await stream.WaitForAsync(text, seconds: 20);
        await Eventually.HoldsAsync(async () => (await HealthAsync(visitorOn)).Contains("signals: connected", StringComparison.Ordinal));
        await Task.Delay(500);
        Assert.That(stream.Count(text), Is.EqualTo(1));
    }

    [Test]
    public async Task Outbound_messages_queued_on_one_instance_wake_the_sender_of_another()
    {
        // Neither instance polls the outbox within the test: only the signal wakes the first one.
        var delivering = Start(settings: new() { ["SupportGateway:Outbox:PollInterval"] = Long });
        var queueing = Start(deliversWebChat: false, settings: new() { ["SupportGateway:Outbox:PollInterval"] = Long });
        var (token, number) = await OpenRequestAsync(delivering);
        await using var stream = await VisitorStream.OpenAsync(delivering.ServerAddress, token);
        await Eventually.HoldsAsync(async () => (await HealthAsync(delivering)).Contains("signals: connected", StringComparison.Ordinal));

        var text = "Queued on the instance that cannot deliver it.";
        await ReplyAsync(queueing, number, text);

        await stream.WaitForAsync(text, seconds: 10);
    }

    [Test]
    public async Task A_webhook_stored_on_one_instance_wakes_the_worker_running_on_another()
    {
        await using var bot = new FakeBotApi();
        var settings = new Dictionary<string, string?>
        {
            ["SupportGateway:Channels:Telegram:BotToken"] = FakeBotApi.Token,
            ["SupportGateway:Channels:Telegram:ApiBaseUrl"] = bot.BaseUrl,
            ["SupportGateway:Channels:Telegram:Mode"] = "Webhook",
            ["SupportGateway:Channels:Telegram:WebhookUrl"] = "https://support.example.ru/webhooks/telegram",
            ["SupportGateway:Channels:Telegram:WebhookSecret"] = "webhook-secret-0123456789",
            // Only a signal can explain processing within the test.
            ["SupportGateway:Inbound:PendingPollInterval"] = Long,
            ["SupportGateway:Outbox:PollInterval"] = Long,
        };
        var worker = Start(settings: settings);
        await Eventually.HoldsAsync(async () => (await HealthAsync(worker)).Contains("work inbound:pending: held here", StringComparison.Ordinal));
        var receiver = Start(settings: settings);
        await Eventually.HoldsAsync(async () => (await HealthAsync(receiver)).Contains("work inbound:pending: waiting", StringComparison.Ordinal));
        await Eventually.HoldsAsync(async () => (await HealthAsync(worker)).Contains("signals: connected", StringComparison.Ordinal));

        using var client = new HttpClient { BaseAddress = receiver.ServerAddress };
        var update = FakeBotApi.Update("message.json", 77, userId: 6002, text: "Не приходит СМС", messageId: 5).ToJsonString();
        var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/telegram") { Content = new StringContent(update, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Telegram-Bot-Api-Secret-Token", "webhook-secret-0123456789");
        Assert.That((await client.SendAsync(request)).StatusCode, Is.EqualTo(HttpStatusCode.OK));

        await Eventually.HoldsAsync(() => Task.FromResult(bot.Sent("sendMessage").Any(m => m["chat_id"]!.GetValue<long>() == 6002)), seconds: 10,
            explain: () => "the stored update was not processed and acknowledged");
        Assert.That(await ScalarAsync("SELECT COUNT(*) FROM tickets"), Is.EqualTo(1));
    }

    private GatewayFactory Start(bool deliversWebChat = true, Dictionary<string, string?>? settings = null)
    {
        var all = _database.Settings;
        // A break of the listener lasts long enough for a test to act inside it.
        all["SupportGateway:Storage:SignalRetryDelay"] = "00:00:03";
        foreach (var (key, value) in settings ?? [])
            all[key] = value;
        var gateway = new GatewayFactory(all, kestrel: true, services: deliversWebChat ? null : services =>
            services.Remove(services.Single(d => d.ServiceType == typeof(IOutboundSender) && d.ImplementationType == typeof(WebChatSender))));
        _instances.Add(gateway);
        return gateway;
    }

    internal static async Task<(string Token, string Number)> OpenRequestAsync(GatewayFactory gateway)
    {
        using var client = new HttpClient { BaseAddress = gateway.ServerAddress };
        using var form = new MultipartFormDataContent { { new StringContent("Ivan"), "name" }, { new StringContent("Printer is broken"), "description" } };
        var response = await client.PostAsync("/webchat/api/requests", form);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
        var created = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (created.GetProperty("token").GetString()!, created.GetProperty("conversation").GetProperty("ticket").GetProperty("number").GetString()!);
    }

    private static async Task ReplyAsync(GatewayFactory gateway, string number, string text)
    {
        using var agent = gateway.Agent();
        var reply = await agent.PostAsJsonAsync($"/api/v1/tickets/{number}/replies", new { text });
        Assert.That(reply.IsSuccessStatusCode, Is.True, await reply.Content.ReadAsStringAsync());
    }

    private static async Task<string> HealthAsync(GatewayFactory gateway)
    {
        using var client = new HttpClient { BaseAddress = gateway.ServerAddress };
        return await (await client.GetAsync("/healthz")).Content.ReadAsStringAsync();
    }

    private async Task<long> TerminateListenerAsync(GatewayFactory gateway) => await ScalarAsync(
        "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = @name AND datname = current_database()) t",
        ("name", "sg-signals " + gateway.Services.GetRequiredService<InstanceSignals>().Instance));

    private async Task<bool> SentAsync(string text) => await ScalarAsync(
        "SELECT COUNT(*) FROM outbox o JOIN messages m ON m.id = o.message_id WHERE o.channel = 'webchat' AND o.state = 'sent' AND m.text = @text",
        ("text", text)) == 1;

    private async Task<long> ScalarAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(_database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>A visitor's open event stream, read as the widget reads it, keeping every message event.</summary>
internal sealed class VisitorStream : IAsyncDisposable
{
    private readonly HttpClient _client;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<JsonElement> _messages = [];
    private readonly Channel<bool> _arrived = Channel.CreateUnbounded<bool>();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _pump = Task.CompletedTask;

    private VisitorStream(HttpClient client) => _client = client;

    public static async Task<VisitorStream> OpenAsync(Uri baseAddress, string token)
    {
        var client = new HttpClient { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.Add("X-Visitor-Token", token);
        var stream = new VisitorStream(client);
        var response = await client.GetAsync("/webchat/api/events", HttpCompletionOption.ResponseHeadersRead);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        stream._pump = stream.PumpAsync(await response.Content.ReadAsStreamAsync());
        await stream._ready.Task.WaitAsync(TimeSpan.FromSeconds(10));
        return stream;
    }

    private async Task PumpAsync(Stream body)
    {
        try
        {
            await foreach (var item in SseParser.Create(body).EnumerateAsync(_stop.Token))
            {
                if (item.EventType == "ready")
                    _ready.TrySetResult();
                if (item.EventType != "message")
                    continue;
                lock (_messages)
                    _messages.Add(JsonDocument.Parse(item.Data).RootElement.Clone());
                _arrived.Writer.TryWrite(true);
            }
        }
        catch (Exception ex)
        {
            // Ended by DisposeAsync, or by the server: a test still waiting is told why.
            _ready.TrySetException(ex);
        }
    }

    public int Count(string text)
    {
        lock (_messages)
            return _messages.Count(m => m.GetProperty("message").GetProperty("text").GetString() == text);
    }

    /// <summary>The first event whose message has <paramref name="text"/>; fails the test after <paramref name="seconds"/>.</summary>
    public async Task<JsonElement> WaitForAsync(string text, int seconds = 10)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        while (true)
        {
            lock (_messages)
            {
                foreach (var m in _messages)
                {
                    if (m.GetProperty("message").GetProperty("text").GetString() == text)
                        return m;
                }
            }
            try
            {
                await _arrived.Reader.ReadAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                lock (_messages)
                    Assert.Fail($"the message did not reach the stream within {seconds} s; it had: " +
                        string.Join(" | ", _messages.Select(m => m.GetProperty("message").GetProperty("text").GetString()?[..Math.Min(80, m.GetProperty("message").GetProperty("text").GetString()!.Length)])));
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _client.Dispose();
        await _pump;
        _stop.Dispose();
    }
}
