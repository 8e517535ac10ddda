using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace SupportGateway.Tests.Support;

/// <summary>
/// One in-process gateway with every channel on, on a clock the test moves: e-mail through the real Postfix and Dovecot
/// (its IMAP and SMTP ports are <see cref="TcpRelay"/>s the test can close and open again), Telegram by webhook against
/// <see cref="FakeBotApi"/>, WhatsApp through both <see cref="FakeTwilioApi"/> and <see cref="FakeGraphApi"/>, the web
/// chat, the intake API, and agents' notifications by mail to an agent who can answer them. Inputs are posted as each
/// provider posts them (signed); what each double received is read from the doubles themselves.
/// </summary>
internal sealed class AllChannelsGateway : IAsyncDisposable
{
    public const string TelegramSecret = "reliability-telegram-secret-01";
    public const string AppSecret = "reliability-meta-app-secret-01";
    public const string TwilioWebhookUrl = "https://support.example.com/webhooks/whatsapp/twilio";
    private const string ReplySecret = "reliability-secret-signing-reply-tokens-01";

    private readonly int _smtpPort;
    private readonly int _imapPort;
    private TcpRelay? _smtp;
    private TcpRelay? _imap;

    private AllChannelsGateway(string id, TcpRelay smtp, TcpRelay imap)
    {
        Id = id;
        (_smtp, _imap) = (smtp, imap);
        (_smtpPort, _imapPort) = (smtp.Port, imap.Port);
        Support = $"support{id}@sg.test";
        AgentMail = $"support{id}agent@sg.test";
        var settings = MailServers.MailboxSettings(Support);
        var mailbox = "SupportGateway:Channels:Email:";
        settings[mailbox + "Mailboxes:0:Smtp:Port"] = _smtpPort.ToString(CultureInfo.InvariantCulture);
        settings[mailbox + "Mailboxes:0:Imap:Port"] = _imapPort.ToString(CultureInfo.InvariantCulture);
        // The reader's reconnect backoff waits in real time; a short cap keeps an IMAP outage's end seconds away.
        settings[mailbox + "MaxReconnectDelay"] = "00:00:01";
        settings[mailbox + "AgentNotifications:To"] = AgentMail;
        settings[mailbox + "AgentNotifications:Secret"] = ReplySecret;
        settings[mailbox + "AgentNotifications:NotifyAssignee"] = "false";
        settings["SupportGateway:Agents:1:Name"] = "Олег Агентов";
        settings["SupportGateway:Agents:1:Email"] = AgentMail;
        settings["SupportGateway:Agents:1:ApiKey"] = "reliability-agent-key-0002";
        foreach (var (key, value) in Providers())
            settings[key] = value;
        // Fewer, longer retries over simulated hours: every try against an unreachable Bot API costs real seconds
        // (PacedBotClient's own retries), and the Cloud API client paces each recipient in real time.
        settings["SupportGateway:Outbox:FirstRetryDelay"] = "00:10:00";
        settings["SupportGateway:Outbox:MaxRetryDelay"] = "00:40:00";
        Gateway = new GatewayFactory(settings, time: Time);
        Agent = Gateway.Agent();
        Outside = Gateway.CreateClient();
        Intake = Gateway.Intake();
    }

    public string Id { get; }

    public ManualTime Time { get; } = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));

    public FakeBotApi Bot { get; } = new();

    public FakeTwilioApi Twilio { get; } = new();

    public FakeGraphApi Graph { get; } = new();

    public GatewayFactory Gateway { get; }

    public string Directory => Gateway.Directory;

    /// <summary>The support mailbox the gateway reads and sends from.</summary>
    public string Support { get; }

    /// <summary>The agent: the team address of the notifications, and a configured agent whose answers by mail reach customers.</summary>
    public string AgentMail { get; }

    public HttpClient Agent { get; }

    /// <summary>A client without keys: the providers' webhooks and the widget.</summary>
    public HttpClient Outside { get; }

    public HttpClient Intake { get; }

    /// <summary>A customer's own mailbox on the test Postfix (delivered to support&lt;anything&gt;@sg.test).</summary>
    public string CustomerMail(int customer) => $"support{Id}c{customer}@sg.test";

    public static async Task<AllChannelsGateway> StartAsync()
    {
        await MailServers.EnsureStartedAsync();
        var gateway = new AllChannelsGateway(Guid.NewGuid().ToString("N")[..10],
            new TcpRelay(MailServers.Host, MailServers.SmtpPort), new TcpRelay(MailServers.Host, MailServers.ImapPort));
        await Eventually.HoldsAsync(() => Task.FromResult(gateway.Bot.Sent("setWebhook").Any()), 30, () => "the Telegram webhook was registered");
        return gateway;
    }

    private Dictionary<string, string?> Providers() => new()
    {
        ["SupportGateway:Channels:Telegram:BotToken"] = FakeBotApi.Token,
        ["SupportGateway:Channels:Telegram:ApiBaseUrl"] = Bot.BaseUrl,
        ["SupportGateway:Channels:Telegram:Mode"] = "Webhook",
        ["SupportGateway:Channels:Telegram:WebhookUrl"] = "https://support.example.com/webhooks/telegram",
        ["SupportGateway:Channels:Telegram:WebhookSecret"] = TelegramSecret,
        ["SupportGateway:Channels:WhatsApp:Twilio:AccountSid"] = FakeTwilioApi.AccountSid,
        ["SupportGateway:Channels:WhatsApp:Twilio:AuthToken"] = FakeTwilioApi.AuthToken,
        ["SupportGateway:Channels:WhatsApp:Twilio:From"] = "whatsapp:+14155238886",
        ["SupportGateway:Channels:WhatsApp:Twilio:WebhookUrl"] = TwilioWebhookUrl,
        ["SupportGateway:Channels:WhatsApp:Twilio:ApiBaseUrl"] = Twilio.BaseUrl,
        ["SupportGateway:Channels:WhatsApp:PublicBaseUrl"] = "https://support.example.com",
        ["SupportGateway:Channels:WhatsApp:Cloud:PhoneNumberId"] = FakeGraphApi.PhoneNumberId,
        ["SupportGateway:Channels:WhatsApp:Cloud:AccessToken"] = FakeGraphApi.Token,
        ["SupportGateway:Channels:WhatsApp:Cloud:AppSecret"] = AppSecret,
        ["SupportGateway:Channels:WhatsApp:Cloud:VerifyToken"] = "reliability-verify-token",
        ["SupportGateway:Channels:WhatsApp:Cloud:ApiBaseUrl"] = Graph.BaseUrl,
        ["SupportGateway:Channels:WhatsApp:Cloud:ApiVersion"] = FakeGraphApi.Version,
    };

    /// <summary>Postfix out of the gateway's reach (connections refused), or back on the same port.</summary>
    public async Task SmtpReachableAsync(bool up) => _smtp = await FlipAsync(_smtp, up, MailServers.SmtpPort, _smtpPort);

    /// <summary>Dovecot out of the gateway's reach (open sessions cut, then refused), or back on the same port.</summary>
    public async Task ImapReachableAsync(bool up) => _imap = await FlipAsync(_imap, up, MailServers.ImapPort, _imapPort);

    private static async Task<TcpRelay?> FlipAsync(TcpRelay? relay, bool up, int serverPort, int listenPort)
    {
        if (up)
            return relay ?? new TcpRelay(MailServers.Host, serverPort, listenPort);
        if (relay is not null)
            await relay.DisposeAsync();
        return null;
    }

    /// <summary>Closes every IMAP session open now (a network blip); the reader reconnects at once.</summary>
    public void CutImap() => _imap?.Cut();

    public Task<HttpResponseMessage> TelegramAsync(JsonObject update)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/telegram") { Content = new StringContent(update.ToJsonString(), Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Telegram-Bot-Api-Secret-Token", TelegramSecret);
        return Outside.SendAsync(request);
    }

    public Task<HttpResponseMessage> TwilioAsync(Dictionary<string, string> fields) =>
        Outside.SendAsync(FakeTwilioApi.WebhookRequest(TwilioWebhookUrl, fields));

    /// <summary>A text message to the Cloud API webhook, built from the corpus delivery and signed over its bytes as Meta signs.</summary>
    public Task<HttpResponseMessage> CloudAsync(string wamid, string from, string text)
    {
        var body = JsonNode.Parse(File.ReadAllText(Corpus.Path("whatsapp", "meta-cloud-api", "pywa", "message__text.json")))!;
        var value = body["entry"]![0]!["changes"]![0]!["value"]!;
        value["metadata"]!["phone_number_id"] = FakeGraphApi.PhoneNumberId;
        value["contacts"]![0]!["wa_id"] = from;
        var message = value["messages"]![0]!;
        message["id"] = wamid;
        message["from"] = from;
        message["text"]!["body"] = text;
        var bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
        var content = new ByteArrayContent(bytes) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } };
        var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/whatsapp/cloud") { Content = content };
        request.Headers.Add("X-Hub-Signature-256", "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(AppSecret), bytes)));
        return Outside.SendAsync(request);
    }

    /// <summary>The widget's post: a new request (no ticket) or a message on one, with the visitor's token once they have it.</summary>
    public Task<HttpResponseMessage> WebChatAsync(string text, string? token = null, string? number = null, string? clientId = null)
    {
        var form = new MultipartFormDataContent { { new StringContent(text), number is null ? "description" : "text" }, { new StringContent("ru"), "lang" } };
        if (clientId is not null)
            form.Add(new StringContent(clientId), "clientId");
        var request = new HttpRequestMessage(HttpMethod.Post, number is null ? "/webchat/api/requests" : $"/webchat/api/requests/{number}/messages") { Content = form };
        if (token is not null)
            request.Headers.Add("X-Visitor-Token", token);
        return Outside.SendAsync(request);
    }

    /// <summary>Waits until no stored inbound (webhook, mail) is waiting for the pipeline.</summary>
    public Task InboundSettledAsync() => Eventually.HoldsAsync(async () =>
        await DbProbe.ScalarAsync<long>(Directory, "SELECT COUNT(*) FROM inbound WHERE state = 'pending'") == 0, 30, () => "stored inbound was processed");

    public async ValueTask DisposeAsync()
    {
        Agent.Dispose();
        Outside.Dispose();
        Intake.Dispose();
        Gateway.Dispose();
        await Bot.DisposeAsync();
        await Twilio.DisposeAsync();
        await Graph.DisposeAsync();
        await SmtpReachableAsync(false);
        await ImapReachableAsync(false);
    }
}
