using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Security;

/// <summary>
/// The gateway process at its most verbose (Trace, the framework's categories and HttpClient's included) with every
/// channel on and a distinctive secret in every secret setting: mail over the real Dovecot and Postfix (with the
/// protocol logs on), Telegram, Twilio and the Cloud API through their doubles, web chat, the intake and agent APIs,
/// intake callbacks, the report link; then the error paths (forged signatures, a wrong mailbox password, wrong keys,
/// an unreachable OAuth authority). No line it writes, no protocol log, no response body and no /healthz output may
/// hold a secret, as it is, URL-encoded or in base64.
/// </summary>
[NonParallelizable]
public sealed class SecretsNeverLoggedTests
{
    private const string IntakeKey = "intake-key+Zq7/Wm3=never-logged";
    private const string AgentKey = "agent-key+Rt5/Hs9=never-logged";
    private const string CallbackSecret = "callback-secret+Vb8/Nc4=never-logged-in-any-form";
    private const string NotificationSecret = "notify-secret+Pq2/Lx6=never-logged-in-any-form";
    private const string TwilioToken = "twilio-auth+Kj4/Df1=never-logged";
    private const string AppSecret = "meta-app-secret+Gh7/Ty2=never-logged";
    private const string VerifyToken = "verify-token+Mn3/Bv8=never-logged";
    private const string WrongImapPassword = "wrong-imap-pass+Cx9/Za5=never-logged";
    private const string OAuthClientSecret = "oauth-client-secret+Ew6/Ru1=never-logged";
    private const string WrongKey = "wrong-key+Yt1/Ui0=never-logged";
    private const string TelegramWebhookSecret = "telegram-webhook-secret-Qw8Er4-never-logged";
    private const string TwilioWebhookUrl = "https://support.example/webhooks/whatsapp/twilio";

    private readonly List<(string Path, string Text)> _responses = [];

    private async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpRequestMessage request)
    {
        var response = await client.SendAsync(request);
        // What the gateway answered: status, headers and body (the request, with the test's own secrets, is left out).
        _responses.Add((request.RequestUri!.AbsolutePath, $"{(int)response.StatusCode}\n{response.Headers}{response.Content.Headers}\n{await response.Content.ReadAsStringAsync()}"));
        return response;
    }

    private Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string path, HttpContent? content = null,
        params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        foreach (var (name, value) in headers)
            request.Headers.TryAddWithoutValidation(name, value);
        return SendAsync(client, request);
    }

    /// <summary>Telegram either polls (its token in every URL) or takes webhooks (its secret in a header): both are run.</summary>
    [TestCase("Polling")]
    [TestCase("Webhook")]
    public async Task No_secret_reaches_a_log_line_a_protocol_log_a_problem_or_the_health_output_on_any_channel(string telegramMode)
    {
        _responses.Clear(); // NUnit runs both cases on one instance
        await MailServers.EnsureStartedAsync();
        await using var bot = new FakeBotApi();
        await using var twilio = new FakeTwilioApi(TwilioToken);
        await using var graph = new FakeGraphApi();
        var id = Guid.NewGuid().ToString("N")[..10];
        // The test Postfix delivers to support<anything>@sg.test: one set of addresses per run.
        var (support, agentMail, customer) = ($"support{id}@sg.test", $"support{id}agent@sg.test", $"support{id}customer@sg.test");
        var directory = TempDirectory.Create();
        var protocolLogs = Path.Combine(directory, "protocol");
        var port = GatewayProcess.FreePort();
        var env = Environment(directory, port, support, agentMail, protocolLogs, bot, twilio, graph);
        env["SupportGateway__Channels__Telegram__Mode"] = telegramMode;
        env["SupportGateway__Channels__Telegram__WebhookUrl"] = "https://support.example/webhooks/telegram";
        env["SupportGateway__Channels__Telegram__WebhookSecret"] = TelegramWebhookSecret;
        var baseAddress = new Uri($"http://127.0.0.1:{port}");

        string output, health;
        string visitorToken, reportToken;
        using (var gateway = GatewayProcess.Start(directory, env))
        {
            using var client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
            await Eventually.HoldsAsync(async () => await Answers(client), 90, () => gateway.OutputTail);

            // E-mail: a customer writes, the agents are told, an agent answers through the API.
            var marker = Guid.NewGuid().ToString("N");
            await MailServers.SubmitAsync(customer, ClientMail.Create("Иван", customer, support, $"Не работает вход {marker}", $"Пароль не подходит. {marker}"));
            var notification = InboundMail(await MailServers.WaitForDeliveryAsync(agentMail, marker));
            var mailTicket = System.Text.RegularExpressions.Regex.Match(notification, @"\[(SG-\d+)\]").Groups[1].Value;
            Assert.That(mailTicket, Is.Not.Empty, "the agents were told of the mail");
            var agentAuth = ("Authorization", $"Bearer {AgentKey}");
            using (var answer = await SendAsync(client, HttpMethod.Post, $"/api/v1/tickets/{mailTicket}/replies", JsonContent.Create(new { text = $"Сбросили пароль {marker}" }), agentAuth))
                Assert.That(answer.StatusCode, Is.EqualTo(HttpStatusCode.Created));
            await MailServers.WaitForDeliveryAsync(customer, $"Сбросили пароль {marker}");

            // Telegram: the double is polled, or the test posts the update as Telegram would (and once with a wrong secret).
            var update = FakeBotApi.Update("message.json", 1, userId: 7401, text: "Не приходит код", messageId: 40);
            if (telegramMode == "Polling")
                bot.Push(update);
            else
            {
                using var forged = await SendAsync(client, HttpMethod.Post, "/webhooks/telegram", new StringContent(update.ToJsonString(), Encoding.UTF8, "application/json"),
                    ("X-Telegram-Bot-Api-Secret-Token", WrongKey));
                Assert.That(forged.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
                using var delivered = await SendAsync(client, HttpMethod.Post, "/webhooks/telegram", new StringContent(update.ToJsonString(), Encoding.UTF8, "application/json"),
                    ("X-Telegram-Bot-Api-Secret-Token", TelegramWebhookSecret));
                Assert.That(delivered.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            }
            await Eventually.HoldsAsync(() => Task.FromResult(bot.Sent("sendMessage").Any(m => m["chat_id"]!.GetValue<long>() == 7401)), 60, () => gateway.OutputTail);

            // WhatsApp through both providers, then forged deliveries and a wrong verify token.
            var twilioFields = FakeTwilioApi.Inbound("SM" + new string('a', 32), "+79160000001", "Нет доступа");
            using (var ok = await SendAsync(client, FakeTwilioApi.WebhookRequest(TwilioWebhookUrl, twilioFields, TwilioToken)))
                Assert.That(ok.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            using (var ok = await SendAsync(client, CloudDelivery("wamid.SECRETS1", "79260000001", AppSecret)))
                Assert.That(ok.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            using (var forged = await SendAsync(client, FakeTwilioApi.WebhookRequest(TwilioWebhookUrl, FakeTwilioApi.Inbound("SM" + new string('b', 32), "+79160000002", "x"), WrongKey)))
                Assert.That(forged.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
            using (var forged = await SendAsync(client, CloudDelivery("wamid.FORGED1", "79260000002", WrongKey)))
                Assert.That(forged.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized).Or.EqualTo(HttpStatusCode.Forbidden));
            using (var verified = await SendAsync(client, HttpMethod.Get, $"/webhooks/whatsapp/cloud?hub.mode=subscribe&hub.verify_token={Uri.EscapeDataString(VerifyToken)}&hub.challenge=4711"))
                Assert.That(await verified.Content.ReadAsStringAsync(), Is.EqualTo("4711"));
            using (var refused = await SendAsync(client, HttpMethod.Get, $"/webhooks/whatsapp/cloud?hub.mode=subscribe&hub.verify_token={Uri.EscapeDataString(WrongKey)}&hub.challenge=4712"))
                Assert.That(refused.IsSuccessStatusCode, Is.False);
            await Eventually.HoldsAsync(() => Task.FromResult(twilio.Messages.Count >= 1 && graph.Messages.Count >= 1), 60, () => gateway.OutputTail);

            // Web chat: the visitor token is a credential too.
            var form = new MultipartFormDataContent { { new StringContent("Не грузится страница"), "description" } };
            using (var created = await SendAsync(client, HttpMethod.Post, "/webchat/api/requests", form))
            {
                var body = await created.Content.ReadFromJsonAsync<JsonElement>();
                visitorToken = body.GetProperty("token").GetString()!;
                var chatTicket = body.GetProperty("conversation").GetProperty("ticket").GetProperty("number").GetString()!;
                using var read = await SendAsync(client, HttpMethod.Get, $"/webchat/api/requests/{chatTicket}", null, ("X-Visitor-Token", visitorToken));
                Assert.That(read.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            }

            // Intake API with its callback (to an address nobody listens on: the failing delivery is logged), and wrong keys.
            var intakeAuth = ("X-Api-Key", IntakeKey);
            string apiTicket;
            using (var filed = await SendAsync(client, HttpMethod.Post, "/api/v1/requests",
                JsonContent.Create(new { description = "Экспорт падает", contact = new { email = "ivan@example.ru" } }), intakeAuth))
                apiTicket = (await filed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ticketNumber").GetString()!;
            using (var answer = await SendAsync(client, HttpMethod.Post, $"/api/v1/tickets/{apiTicket}/replies", JsonContent.Create(new { text = "Исправили" }), agentAuth))
                Assert.That(answer.StatusCode, Is.EqualTo(HttpStatusCode.Created));
            using (var wrong = await SendAsync(client, HttpMethod.Post, "/api/v1/requests", JsonContent.Create(new { description = "x" }), ("X-Api-Key", WrongKey)))
                Assert.That(wrong.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            using (var wrong = await SendAsync(client, HttpMethod.Get, "/api/v1/tickets", null, ("Authorization", $"Bearer {WrongKey}")))
                Assert.That(wrong.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));

            // The report page opened through a signed link: the token travels in its URL.
            using (var link = await SendAsync(client, HttpMethod.Post, "/api/v1/reports/sla/link", null, agentAuth))
            {
                var url = new Uri((await link.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("url").GetString()!);
                reportToken = System.Web.HttpUtility.ParseQueryString(url.Query)["token"]!;
                using var page = await SendAsync(client, HttpMethod.Get, url.PathAndQuery);
                Assert.That(page.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            }

            // The error paths of the mailboxes have run: a wrong password, an authority that does not answer; a callback failed.
            await Eventually.HoldsAsync(() => Task.FromResult(gateway.Output.Contains("Mailbox wrongpass:", StringComparison.Ordinal)
                && gateway.Output.Contains("Mailbox oauth:", StringComparison.Ordinal)
                && gateway.Output.Contains("failed (attempt", StringComparison.Ordinal)), 90, () => gateway.OutputTail);
            using (var healthz = await SendAsync(client, HttpMethod.Get, "/healthz"))
                health = await healthz.Content.ReadAsStringAsync();
            output = gateway.Output;
        }

        var secrets = new Dictionary<string, string>
        {
            ["intake key"] = IntakeKey, ["agent key"] = AgentKey, ["callback secret"] = CallbackSecret,
            ["notification signing secret"] = NotificationSecret, ["Twilio auth token"] = TwilioToken, ["Meta app secret"] = AppSecret,
            ["Meta verify token"] = VerifyToken, ["Cloud API access token"] = FakeGraphApi.Token, ["bot token"] = FakeBotApi.Token.Split(':')[1],
            ["Telegram webhook secret"] = TelegramWebhookSecret, ["wrong IMAP password"] = WrongImapPassword, ["OAuth client secret"] = OAuthClientSecret, ["a wrong key"] = WrongKey,
            ["visitor token"] = visitorToken, ["report link token"] = reportToken,
            ["Twilio basic auth"] = $"{FakeTwilioApi.AccountSid}:{TwilioToken}",
            // The shared test servers take "secret" for every user; its distinctive forms are the login lines.
            ["IMAP login"] = $"\0{support}\0{MailServers.Password}", ["IMAP LOGIN command"] = $"{support} {MailServers.Password}",
        };
        Assert.That(output, Does.Contain("trce: Microsoft.AspNetCore").And.Contain("trce: System.Net.Http.HttpClient"),
            "the gateway logged at its most verbose, the framework's and HttpClient's categories too");
        var sources = new List<(string Name, string Text)> { ("the gateway's output", output), ("/healthz", health) };
        // A credential goes back to whoever it was issued to, and nowhere else: the visitor's token with its request, the report link to the agent who asked.
        var issued = new Dictionary<string, string[]>
        {
            ["/webchat/api/requests"] = ["visitor token"], ["/api/v1/reports/sla/link"] = ["report link token"], ["/reports/sla"] = ["report link token"],
        };
        sources.AddRange(_responses.Select(r => ($"the answer to {r.Path}", r.Text)));
        sources.AddRange(Directory.GetFiles(protocolLogs).Select(f => ($"the protocol log {Path.GetFileName(f)}", File.ReadAllText(f))));
        Assert.That(sources.Count(s => s.Name.StartsWith("the protocol log", StringComparison.Ordinal)), Is.GreaterThanOrEqualTo(2), "IMAP and SMTP were logged");
        var leaks = sources.SelectMany(s => SecretForms.FoundIn(s.Text, secrets)
            .Where(secret => !issued.Any(i => s.Name == $"the answer to {i.Key}" && i.Value.Contains(secret)))
            .Select(secret => $"{s.Name} holds the {secret}")).ToList();
        foreach (var line in output.Split('\n').Where(l => SecretForms.FoundIn(l, secrets).Any()).Take(20))
            TestContext.Out.WriteLine($"leaking line: {line}");
        Assert.That(leaks, Is.Empty);
        TestContext.Out.WriteLine($"{output.Split('\n').Length} lines of output, {sources.Count} sources, {secrets.Count} secrets in {secrets.Sum(s => SecretForms.Of(s.Value).Distinct().Count())} forms: none found");
    }

    /// <summary>Any answer from /healthz: 503 is expected, a mailbox has the wrong password on purpose.</summary>
    private static async Task<bool> Answers(HttpClient client)
    {
        try
        {
            using var response = await client.GetAsync("/healthz");
            return true;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    private static string InboundMail(byte[] raw)
    {
        var mail = SupportGateway.Mail.Inbound.InboundMail.Read(raw);
        return mail.Subject + "\n" + mail.Text;
    }

    private static Dictionary<string, string> Environment(string directory, int port, string support, string agentMail, string protocolLogs,
        FakeBotApi bot, FakeTwilioApi twilio, FakeGraphApi graph)
    {
        var env = GatewayProcess.Environment(directory, port);
        env["SupportGateway__Intake__ApiKeys__0"] = IntakeKey;
        env["SupportGateway__Agents__0__ApiKey"] = AgentKey;
        env["Logging__LogLevel__Default"] = "Trace";
        // appsettings.json quiets some categories by name; a name beats Default, so each is raised too.
        foreach (var category in new[] { "Microsoft", "Microsoft.AspNetCore", "Microsoft.Hosting.Lifetime", "System", "System.Net.Http", "System.Net.Http.HttpClient" })
            env[$"Logging__LogLevel__{category}"] = "Trace";
        env["SupportGateway__Intake__Callbacks__0__Url"] = $"http://127.0.0.1:{GatewayProcess.FreePort()}/callbacks";
        env["SupportGateway__Intake__Callbacks__0__Secret"] = CallbackSecret;
        env["SupportGateway__Outbox__FirstRetryDelay"] = "00:00:01";

        Mailbox(env, 0, "support", support, MailServers.Password);
        Mailbox(env, 1, "wrongpass", $"wrong{support}", WrongImapPassword);
        Mailbox(env, 2, "oauth", $"oauth{support}", password: null);
        env["SupportGateway__Channels__Email__Mailboxes__2__Imap__Auth"] = "OAuth2";
        const string oauth = "SupportGateway__Channels__Email__Mailboxes__2__OAuth2__";
        env[oauth + "Provider"] = "Microsoft";
        env[oauth + "TenantId"] = "00000000-0000-0000-0000-00000000a11c";
        env[oauth + "ClientId"] = "00000000-0000-0000-0000-00000000b0b0";
        env[oauth + "ClientSecret"] = OAuthClientSecret;
        env[oauth + "Authority"] = $"https://127.0.0.1:{GatewayProcess.FreePort()}/00000000-0000-0000-0000-00000000a11c";
        env["SupportGateway__Channels__Email__ProtocolLogDirectory"] = protocolLogs;
        env["SupportGateway__Channels__Email__AgentNotifications__To"] = agentMail;
        env["SupportGateway__Channels__Email__AgentNotifications__Mailbox"] = "support";
        env["SupportGateway__Channels__Email__AgentNotifications__Secret"] = NotificationSecret;

        env["SupportGateway__Channels__Telegram__BotToken"] = FakeBotApi.Token;
        env["SupportGateway__Channels__Telegram__ApiBaseUrl"] = bot.BaseUrl;
        env["SupportGateway__Channels__Telegram__PollTimeout"] = "00:00:01";

        env["SupportGateway__Channels__WhatsApp__Twilio__AccountSid"] = FakeTwilioApi.AccountSid;
        env["SupportGateway__Channels__WhatsApp__Twilio__AuthToken"] = TwilioToken;
        env["SupportGateway__Channels__WhatsApp__Twilio__From"] = "whatsapp:+14155238886";
        env["SupportGateway__Channels__WhatsApp__Twilio__WebhookUrl"] = TwilioWebhookUrl;
        env["SupportGateway__Channels__WhatsApp__Twilio__ApiBaseUrl"] = twilio.BaseUrl;
        env["SupportGateway__Channels__WhatsApp__PublicBaseUrl"] = "https://support.example.com";
        env["SupportGateway__Channels__WhatsApp__Cloud__PhoneNumberId"] = FakeGraphApi.PhoneNumberId;
        env["SupportGateway__Channels__WhatsApp__Cloud__AccessToken"] = FakeGraphApi.Token;
        env["SupportGateway__Channels__WhatsApp__Cloud__AppSecret"] = AppSecret;
        env["SupportGateway__Channels__WhatsApp__Cloud__VerifyToken"] = VerifyToken;
        env["SupportGateway__Channels__WhatsApp__Cloud__ApiBaseUrl"] = graph.BaseUrl;
        env["SupportGateway__Channels__WhatsApp__Cloud__ApiVersion"] = FakeGraphApi.Version;
        return env;
    }

    private static void Mailbox(Dictionary<string, string> env, int index, string name, string address, string? password)
    {
        var key = $"SupportGateway__Channels__Email__Mailboxes__{index}__";
        env[key + "Name"] = name;
        env[key + "Address"] = address;
        env[key + "Imap__Host"] = MailServers.Host;
        env[key + "Imap__Port"] = MailServers.ImapPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        env[key + "Imap__Security"] = "None";
        env[key + "Imap__Username"] = address;
        if (password is not null)
            env[key + "Imap__Password"] = password;
        env[key + "Smtp__Host"] = MailServers.Host;
        env[key + "Smtp__Port"] = MailServers.SmtpPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        env[key + "Smtp__Security"] = "None";
    }

    /// <summary>One text message as Meta delivers it (the pywa fixture), signed with <paramref name="secret"/> over its bytes.</summary>
    private static HttpRequestMessage CloudDelivery(string wamid, string from, string secret)
    {
        var body = File.ReadAllText(Corpus.Path("whatsapp", "meta-cloud-api", "pywa", "message__text.json"))
            .Replace("1122334455667", FakeGraphApi.PhoneNumberId, StringComparison.Ordinal)
            .Replace("wamid.xyzxyz", wamid, StringComparison.Ordinal)
            .Replace("972987654321", from, StringComparison.Ordinal);
        var bytes = Encoding.UTF8.GetBytes(body);
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/whatsapp/cloud") { Content = content };
        request.Headers.Add("X-Hub-Signature-256", "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), bytes)));
        return request;
    }
}
