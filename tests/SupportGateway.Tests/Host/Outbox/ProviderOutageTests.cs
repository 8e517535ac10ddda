using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using SupportGateway.Tests.Host.WhatsApp;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Outbox;

/// <summary>Opening tickets the way a customer does, for every provider's outage test.</summary>
internal static class Tickets
{
    /// <summary>Waits for the ticket whose subject holds <paramref name="text"/> (stored webhooks are processed by a worker); its number.</summary>
    public static async Task<string> FindAsync(HttpClient agent, string text)
    {
        string? number = null;
        await Eventually.HoldsAsync(async () =>
        {
            var found = (await agent.GetFromJsonAsync<JsonElement>($"/api/v1/tickets?q={Uri.EscapeDataString(text)}")).EnumerateArray().ToList();
            number = found is [var one] ? one.GetProperty("number").GetString() : null;
            return number is not null;
        }, 20, () => $"a ticket for '{text}'");
        return number!;
    }
}

/// <summary>The Bot API unreachable (every connection dropped) for 10 minutes and for 6 hours of simulated time, and a 429 storm.</summary>
[NonParallelizable]
public sealed class TelegramOutageTests
{
    private const string Secret = "webhook-secret-0123456789";
    private ManualTime _time = null!;
    private FakeBotApi _bot = null!;
    private GatewayFactory _gateway = null!;
    private HttpClient _agent = null!;
    private HttpClient _telegram = null!;
    private int _updateId = 100;

    [SetUp]
    public async Task SetUp()
    {
        _time = new ManualTime(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
        _bot = new FakeBotApi();
        _gateway = new GatewayFactory(new Dictionary<string, string?>
        {
            ["SupportGateway:Channels:Telegram:BotToken"] = FakeBotApi.Token,
            ["SupportGateway:Channels:Telegram:ApiBaseUrl"] = _bot.BaseUrl,
            // Webhook mode: updates reach the gateway while the Bot API (which it sends through) is down.
            ["SupportGateway:Channels:Telegram:Mode"] = "Webhook",
            ["SupportGateway:Channels:Telegram:WebhookUrl"] = "https://support.example.ru/webhooks/telegram",
            ["SupportGateway:Channels:Telegram:WebhookSecret"] = Secret,
        }, time: _time);
        _agent = _gateway.Agent();
        _telegram = _gateway.CreateClient();
        await Eventually.HoldsAsync(() => Task.FromResult(_bot.Sent("setWebhook").Any()), 20, () => "the webhook was registered");
    }

    [TearDown]
    public async Task TearDown()
    {
        _agent.Dispose();
        _telegram.Dispose();
        _gateway.Dispose();
        await _bot.DisposeAsync();
    }

    private OutageTarget Target => new(_time, _gateway.Directory, "telegram", _agent, OpenAsync, up => _bot.Unreachable = !up,
        () => [.. Delivered().Select(m => (m["chat_id"]!.GetValue<long>().ToString(System.Globalization.CultureInfo.InvariantCulture),
            m["text"]!.GetValue<string>()))],
        i => (7001 + i).ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The messages the double took (a call it answered with 429 is recorded too, without a sent id).</summary>
    private IEnumerable<System.Text.Json.Nodes.JsonObject> Delivered() => _bot.Sent("sendMessage").Where(m => m["_sent_message_id"] is not null);

    private async Task<string> OpenAsync(int customer, string text)
    {
        var update = FakeBotApi.Update("message.json", ++_updateId, userId: 7001 + customer, text: text, messageId: _updateId).ToJsonString();
        var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/telegram") { Content = new StringContent(update, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Telegram-Bot-Api-Secret-Token", Secret);
        Assert.That((await _telegram.SendAsync(request)).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        return await Tickets.FindAsync(_agent, text);
    }

    // One customer: every try against the unreachable API is a dozen dropped connections (PacedBotClient's retries
    // inside Polly's), seconds of real time; the other providers' tests show two customers apart.
    [TestCase(10)]
    [TestCase(360)]
    public Task Everything_queued_during_an_outage_is_delivered_once_in_order_when_it_ends(int minutes) =>
        OutageScript.RunAsync(Target, TimeSpan.FromMinutes(minutes), customers: 1);

    [Test]
    public async Task A_429_storm_is_waited_out_honouring_retry_after_and_nothing_is_sent_twice()
    {
        var marker = Guid.NewGuid().ToString("N")[..8];
        _bot.RetryAfter = 90;
        _bot.TooManyRequestsLeft = 4;
        var number = await OpenAsync(0, $"Не открывается смена {marker}");
        await OutageScript.ReplyAsync(_agent, number, $"Ответ {marker}");

        var waits = new List<long>();
        while (_bot.TooManyRequestsLeft > 0)
        {
            await OutboxClock.PassAsync(_time, _gateway.Directory, "telegram", TimeSpan.Zero);
            var head = (await DbProbe.ListAsync<(long Next, string? Error)>(_gateway.Directory,
                "SELECT next_attempt_at, last_error FROM outbox WHERE channel = 'telegram' AND state = 'pending' ORDER BY id")).First();
            Assert.That(head.Error, Does.Contain("Too Many Requests"));
            waits.Add(head.Next - _time.GetUtcNow().ToUnixTimeMilliseconds());
            _time.Advance(TimeSpan.FromMilliseconds(head.Next) - TimeSpan.FromMilliseconds(_time.GetUtcNow().ToUnixTimeMilliseconds()));
        }
        await OutboxClock.UntilDeliveredAsync(_time, _gateway.Directory, "telegram");

        Assert.That(waits, Has.Count.EqualTo(4).And.All.GreaterThanOrEqualTo(90_000), "each try waited the retry_after Telegram asked for");
        var got = Delivered().Where(m => m["chat_id"]!.GetValue<long>() == 7001).Select(m => m["text"]!.GetValue<string>()).ToList();
        Assert.That(got, Has.Count.EqualTo(2));
        Assert.That((got[0].Contains(number, StringComparison.Ordinal), got[1]), Is.EqualTo((true, $"Ответ {marker}")));
    }
}

/// <summary>Twilio's API unreachable for 10 minutes and for 6 hours of simulated time, a 429 storm, and a permanent refusal retried by the CLI.</summary>
[NonParallelizable]
public sealed class TwilioOutageTests : TwilioScenario
{
    private readonly ManualTime _clock = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
    private int _sid;

    private protected override TimeProvider? Clock => _clock;

    private static string Phone(int customer) => $"+7916555{customer:0000}";

    private OutageTarget Target => new(_clock, Gateway.Directory, "whatsapp", Agent, OpenAsync, up => Twilio.Unreachable = !up,
        () => [.. Twilio.Messages.Select(m => (m["To"], m["Body"]))], i => "whatsapp:" + Phone(i));

    private async Task<string> OpenAsync(int customer, string text)
    {
        var sid = $"SM{Guid.NewGuid():N}{++_sid}";
        await SendAsync(sid, Phone(customer), text);
        return await ProcessedAsync(sid);
    }

    [TestCase(10, 2)]
    [TestCase(360, 1)]
    public Task Everything_queued_during_an_outage_is_delivered_once_in_order_when_it_ends(int minutes, int customers) =>
        OutageScript.RunAsync(Target, TimeSpan.FromMinutes(minutes), customers);

    [Test]
    public async Task A_429_storm_is_waited_out_and_nothing_is_sent_twice()
    {
        for (var i = 0; i < 5; i++)
            Twilio.Faults.Enqueue((429, 20429));
        var number = await OpenAsync(3, "Не проходит оплата картой");
        await OutageScript.ReplyAsync(Agent, number, "Проверьте терминал");
        await OutboxClock.UntilDeliveredAsync(_clock, Gateway.Directory, "whatsapp");

        Assert.That(Twilio.Faults, Is.Empty, "every 429 was answered");
        var got = Twilio.Messages.Where(m => m["To"] == "whatsapp:" + Phone(3)).Select(m => m["Body"]).ToList();
        Assert.That(got, Has.Count.EqualTo(2));
        Assert.That((got[0].Contains(number, StringComparison.Ordinal), got[1]), Is.EqualTo((true, "Проверьте терминал")));
    }

    [Test]
    public async Task A_refusal_fails_at_once_shows_on_the_ticket_tells_the_agents_and_outbox_retry_sends_it()
    {
        Twilio.Faults.Enqueue((400, 21602));
        var number = await OpenAsync(4, "Сломался сканер штрихкодов");
        await Eventually.HoldsAsync(async () => (await TicketAsync(number)).GetProperty("failedDeliveries").GetArrayLength() == 1, 20,
            () => "the refused acknowledgement is on the ticket");

        var failed = (await TicketAsync(number)).GetProperty("failedDeliveries")[0];
        Assert.That((failed.GetProperty("channel").GetString(), failed.GetProperty("recipient").GetString()), Is.EqualTo(("whatsapp", Phone(4))));
        Assert.That(failed.GetProperty("error").GetString(), Does.Contain("21602").And.Not.Contain(FakeTwilioApi.AuthToken));
        Assert.That(failed.GetProperty("failedAt").GetDateTimeOffset(), Is.EqualTo(_clock.GetUtcNow()));
        Assert.That(await TeamNoticesAsync(), Has.Some.Contains($"Not delivered on whatsapp to {Phone(4)}").And.Some.Contains($"outbox retry {number}"));
        Assert.That(Twilio.Messages.Where(m => m["To"] == "whatsapp:" + Phone(4)), Is.Empty);

        var environment = GatewayProcess.Environment(Gateway.Directory);
        var (exit, output) = await GatewayProcess.RunAsync(Gateway.Directory, environment, "outbox", "retry", number);
        Assert.That((exit, output.Trim()), Is.EqualTo((0, $"Queued again: 1 delivery of {number}.")));
        var ack = await SentAsync(Phone(4));
        Assert.That(ack["Body"], Does.Contain(number));
        await Eventually.HoldsAsync(async () => (await TicketAsync(number)).GetProperty("failedDeliveries").GetArrayLength() == 0, 20);

        (exit, output) = await GatewayProcess.RunAsync(Gateway.Directory, environment, "outbox", "retry", "all");
        Assert.That((exit, output.Trim()), Is.EqualTo((0, "Queued again: 0 deliveries.")));
        (exit, output) = await GatewayProcess.RunAsync(Gateway.Directory, environment, "outbox", "retry", "SG-10019");
        Assert.That((exit, output.Trim()), Is.EqualTo((2, "error: ticket SG-10019 does not exist.")));
        (exit, output) = await GatewayProcess.RunAsync(Gateway.Directory, environment, "outbox", "retry", "SG-10018");
        Assert.That((exit, output.Trim()), Is.EqualTo((2, "error: 'SG-10018' is neither a ticket number (like SG-10008) nor 'all'.")));
        Assert.That(Twilio.Messages.Count(m => m["To"] == "whatsapp:" + Phone(4)), Is.EqualTo(1), "sent once");
    }
}

/// <summary>The Cloud API (Meta's Graph API) unreachable for 10 minutes and for 6 hours of simulated time, and a throughput storm.</summary>
[NonParallelizable]
public sealed class CloudOutageTests : CloudScenario
{
    private readonly ManualTime _clock = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));

    private protected override TimeProvider? Clock => _clock;

    // CloudApiClient paces each recipient with a token bucket that refills in real time (one message per 6 s after a
    // burst of 10), and every try spends a token: simulated hours of 30-minute tries would wait real minutes. Fewer,
    // longer steps test the same recovery; the backoff's own cap is the dispatcher's tests' business.
    private protected override IEnumerable<KeyValuePair<string, string?>> Settings =>
    [
        new("SupportGateway:Outbox:FirstRetryDelay", "00:30:00"),
        new("SupportGateway:Outbox:MaxRetryDelay", "02:00:00"),
    ];

    private static string Number(int customer) => $"7916555{customer:0000}";

    private OutageTarget Target => new(_clock, Gateway.Directory, "whatsapp", Agent, OpenAsync, up => Graph.Unreachable = !up,
        () => [.. Graph.Messages.Select(m => (m["to"]!.GetValue<string>(), Body(m)))], Number);

    private async Task<string> OpenAsync(int customer, string text)
    {
        var response = await PostAsync(Delivery("message__text.json", $"wamid.OUT{Guid.NewGuid():N}", from: Number(customer), text: text));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        return await Tickets.FindAsync(Agent, text);
    }

    [TestCase(10, 2)]
    [TestCase(360, 1)]
    public Task Everything_queued_during_an_outage_is_delivered_once_in_order_when_it_ends(int minutes, int customers) =>
        OutageScript.RunAsync(Target, TimeSpan.FromMinutes(minutes), customers);

    [Test]
    public async Task A_throughput_storm_is_waited_out_and_nothing_is_sent_twice()
    {
        Graph.ThroughputErrorsLeft = 6;
        var number = await OpenAsync(5, "Не работает эквайринг");
        await OutageScript.ReplyAsync(Agent, number, "Перезагрузите терминал");
        await OutboxClock.UntilDeliveredAsync(_clock, Gateway.Directory, "whatsapp");

        Assert.That(Graph.ThroughputErrorsLeft, Is.Zero);
        var got = Graph.Messages.Where(m => m["to"]!.GetValue<string>() == Number(5)).Select(Body).ToList();
        Assert.That(got, Has.Count.EqualTo(2));
        Assert.That((got[0].Contains(number, StringComparison.Ordinal), got[1]), Is.EqualTo((true, "Перезагрузите терминал")));
    }
}
