using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.WebUtilities;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Fuzz;

/// <summary>
/// The inputs strangers control, mutated from the corpus fixtures and valid requests, thousands of cases per target:
/// the widget's forms, the intake API's JSON, and the Telegram, Twilio and Cloud API webhooks (signed correctly, so the
/// damage reaches the parsers, and sometimes not). Every answer is 2xx or a 4xx with problem details, none is 5xx or
/// late, nothing is logged as an error or with a stack trace, and once the workers are done nothing is half-written.
/// SG_FUZZ_SEED replays a run (the seed is printed); SG_FUZZ_CASES sets the cases per target.
/// </summary>
[NonParallelizable]
public sealed class HostileInputFuzzTests
{
    private const int Cases = 3000;
    private static readonly List<FuzzTally> Tallies = [];

    [OneTimeTearDown]
    public void PrintTable()
    {
        if (Tallies.Count > 0)
            TestContext.Progress.WriteLine("Fuzzing the public inputs\n" + FuzzTally.Render(Tallies));
    }

    [Test]
    public Task The_web_chat_forms_survive_mutation() => RunAsync("webchat", 20261201, async (g, m, n) =>
    {
        var follow = m.Chance(30) && _webChat is not null;
        var fields = m.Fields(follow
            ? [new("text", "Всё ещё не работает"), new("lang", "ru"), new("clientId", $"fz-{n:D8}"), new("verdict", m.Pick(["", "confirms", "rejects"]))]
            : [new("description", "Не печатает касса"), new("name", "Иван"), new("email", "ivan@example.ru"), new("type", "incident"), new("lang", "ru"),
                new("clientId", $"fz-{n:D8}")]);
        (string, string, string, byte[])[] files = m.Chance(30) ? [("files", m.Pick(["shot.png", "../x.png", "a\u202Egnp.exe", ""]),
            m.Pick(["image/png", "application/x-msdownload", "", "text/html"]), m.Chance(50) ? SampleFiles.OnePixelPng : m.Bytes(SampleFiles.OnePixelPng))] : [];
        byte[] body;
        string? type;
        switch (m.Next(10))
        {
            case < 6:
                (body, type) = m.Multipart(fields, files);
                break;
            case < 8:
                (body, type) = (m.FormBody(fields), "application/x-www-form-urlencoded");
                break;
            default:
                (body, type) = (m.FormBody(fields), m.WrongContentType());
                break;
        }
        var path = follow ? $"/webchat/api/requests/{_webChat!.Value.Number}/messages" : "/webchat/api/requests";
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = FuzzGateway.Content(body, type) };
        var token = follow ? _webChat!.Value.Token : m.Chance(50) ? _webChat?.Token : null;
        if (token is not null)
            request.Headers.TryAddWithoutValidation("X-Visitor-Token", m.Chance(10) ? token[..^1] + "\u00e9" : token);
        await g.SendAsync(n, g.Client, request, $"web chat {(follow ? "message" : "request")} ({type})");
    }, async g =>
    {
        var form = new MultipartFormDataContent { { new StringContent("Первое обращение"), "description" } };
        using var response = await g.Client.PostAsync("/webchat/api/requests", form);
        var created = await response.Content.ReadFromJsonAsync<JsonElement>();
        _webChat = (created.GetProperty("token").GetString()!, created.GetProperty("conversation").GetProperty("ticket").GetProperty("number").GetString()!);
    });

    private static (string Token, string Number)? _webChat;

    private static string? _intakeNumber;

    [Test]
    public Task The_intake_API_survives_mutated_JSON() => RunAsync("intake", 20261202, async (g, m, n) =>
    {
        var follow = m.Chance(25) && _intakeNumber is not null;
        JsonNode document = follow
            ? new JsonObject { ["text"] = "Ещё подробности", ["contact"] = new JsonObject { ["email"] = "fuzz@example.ru" } }
            : new JsonObject
            {
                ["subject"] = "Отчёт не выгружается",
                ["description"] = "Кнопка «Выгрузить» ничего не делает",
                ["type"] = "incident",
                ["priority"] = "high",
                ["language"] = "ru",
                ["contact"] = new JsonObject { ["name"] = "Иван", ["email"] = "fuzz@example.ru", ["phone"] = "+7 916 000-00-00", ["accountNumber"] = "ACC-77", ["externalId"] = "u-1" },
                ["technicalDetails"] = new JsonObject { ["appVersion"] = "5.2.1", ["os"] = "Windows 11" },
                ["attachments"] = new JsonArray(new JsonObject { ["fileName"] = "shot.png", ["contentType"] = "image/png", ["contentBase64"] = Convert.ToBase64String(SampleFiles.OnePixelPng) }),
            };
        var text = m.Chance(85) ? m.Json(document) : document.ToJsonString();
        var body = m.Chance(10) ? m.Bytes(Encoding.UTF8.GetBytes(text)) : Encoding.UTF8.GetBytes(text);
        var type = m.Chance(8) ? m.WrongContentType() : "application/json";
        var request = new HttpRequestMessage(HttpMethod.Post, follow ? $"/api/v1/requests/{_intakeNumber}/messages" : "/api/v1/requests") { Content = FuzzGateway.Content(body, type) };
        if (m.Chance(20))
            request.Headers.TryAddWithoutValidation("Idempotency-Key", m.Chance(50) ? $"fz-{n % 50}" : new string('k', 300));
        await g.SendAsync(n, g.Intake, request, $"intake {(follow ? "follow-up" : "request")} ({type})");
    }, async g => _intakeNumber = await g.Gateway.FileRequestAsync(g.Intake, email: "fuzz@example.ru"));

    [Test]
    public Task The_Telegram_webhook_survives_mutated_updates() => RunAsync("telegram", 20261203, async (g, m, n) =>
    {
        var update = (JsonObject)m.Pick(TelegramFixtures).DeepClone();
        update["update_id"] = 100_000 + n;
        if (update["message"] is JsonObject message && m.Chance(20))
            message["message_id"] = n % 40; // the same chat and message again, under a new update_id
        var text = m.Chance(85) ? m.Json(update) : update.ToJsonString();
        var body = m.Chance(10) ? m.Bytes(Encoding.UTF8.GetBytes(text)) : Encoding.UTF8.GetBytes(text);
        var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/telegram") { Content = FuzzGateway.Content(body, m.Chance(5) ? m.WrongContentType() : "application/json") };
        request.Headers.Add("X-Telegram-Bot-Api-Secret-Token", m.Chance(5) ? "wrong" : FuzzGateway.TelegramSecret);
        await g.SendAsync(n, g.Client, request, "Telegram update");
    });

    [Test]
    public Task The_Twilio_webhook_survives_mutated_forms() => RunAsync("twilio", 20261204, async (g, m, n) =>
    {
        var fields = m.Pick(TwilioFixtures).ToDictionary();
        var sid = m.Chance(15) ? $"SMfz{n % 40:D30}" : $"SMfz{n:D30}";
        foreach (var name in new[] { "MessageSid", "SmsSid", "SmsMessageSid" })
            fields[name] = sid;
        var body = m.Chance(85) ? m.FormBody(m.Fields([.. fields])) : m.FormBody([.. fields]);
        if (m.Chance(5))
            body = m.Bytes(body);
        var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/whatsapp/twilio")
        {
            Content = FuzzGateway.Content(body, m.Chance(5) ? m.WrongContentType() : "application/x-www-form-urlencoded"),
        };
        // Signed over the form as the gateway reads it, so the damage reaches the normaliser; now and then not.
        request.Headers.Add("X-Twilio-Signature", m.Chance(8) ? "AAAA" + FakeTwilioApi.Sign(FuzzGateway.TwilioUrl, [])[4..] : SignAsParsed(body));
        await g.SendAsync(n, g.Client, request, "Twilio message");
    });

    [Test]
    public Task The_Cloud_API_webhook_survives_mutated_deliveries() => RunAsync("cloud", 20261205, async (g, m, n) =>
    {
        var delivery = m.Pick(CloudFixtures).DeepClone();
        if (delivery["entry"]?[0]?["changes"]?[0]?["value"] is JsonObject value)
        {
            if (value["metadata"] is JsonObject metadata)
                metadata["phone_number_id"] = FakeGraphApi.PhoneNumberId;
            if (value["messages"]?[0] is JsonObject message)
                message["id"] = m.Chance(15) ? $"wamid.FZ{n % 40}" : $"wamid.FZ{n}";
            if (value["statuses"]?[0] is JsonObject status)
                status["id"] = $"wamid.FZS{n}";
        }
        var text = m.Chance(85) ? m.Json(delivery) : delivery.ToJsonString();
        var body = m.Chance(10) ? m.Bytes(Encoding.UTF8.GetBytes(text)) : Encoding.UTF8.GetBytes(text);
        var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/whatsapp/cloud") { Content = FuzzGateway.Content(body, m.Chance(5) ? m.WrongContentType() : "application/json") };
        var signature = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(FuzzGateway.AppSecret), body));
        request.Headers.TryAddWithoutValidation("X-Hub-Signature-256", m.Chance(8) ? "sha256=" + new string('0', 64) : "sha256=" + signature);
        await g.SendAsync(n, g.Client, request, "Cloud API delivery");
    });

    private static async Task RunAsync(string target, int defaultSeed, Func<FuzzGateway, InputMutator, int, Task> send, Func<FuzzGateway, Task>? prepare = null)
    {
        var seed = InputMutator.SeedFromEnvironment(defaultSeed);
        var cases = InputMutator.CasesFromEnvironment(Cases);
        TestContext.Progress.WriteLine($"fuzz {target}: seed {seed}, {cases} cases (SG_FUZZ_SEED={seed} replays it)");
        await using var gateway = await FuzzGateway.StartAsync(target, seed);
        lock (Tallies)
            Tallies.Add(gateway.Tally);
        if (prepare is not null)
            await prepare(gateway);
        var mutator = new InputMutator(seed);
        for (var n = 0; n < cases; n++)
            await send(gateway, mutator, n);
        await gateway.CheckSettledAsync();
        var table = FuzzTally.Render([gateway.Tally]);
        TestContext.Out.WriteLine(table);
        var t = gateway.Tally;
        Assert.Multiple(() =>
        {
            Assert.That(t.Cases, Is.EqualTo(cases), table);
            Assert.That(t.Success, Is.GreaterThan(cases / 20), "too few cases got through to be a test of the parsers\n" + table);
            Assert.That(t.FailureCount, Is.Zero, table);
        });
    }

    /// <summary>X-Twilio-Signature over the form as ASP.NET Core parses it: each name's distinct values in order, as Twilio signs repeats.</summary>
    private static string SignAsParsed(byte[] body)
    {
        var form = QueryHelpers.ParseQuery(Encoding.UTF8.GetString(body));
        var pairs = form.SelectMany(f => f.Value.Select(v => v ?? "").Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select(v => new KeyValuePair<string, string>(f.Key, v)));
        return FakeTwilioApi.Sign(FuzzGateway.TwilioUrl, pairs);
    }

    private static readonly JsonNode[] TelegramFixtures =
    [
        .. Directory.EnumerateFiles(Corpus.Path("telegram", "nutgram", "updates"), "*.json").Order(StringComparer.Ordinal)
            .Select(f => JsonNode.Parse(File.ReadAllText(f))).OfType<JsonObject>().Where(o => o.ContainsKey("update_id")),
    ];

    private static readonly KeyValuePair<string, string>[][] TwilioFixtures =
    [
        .. Directory.EnumerateFiles(Corpus.Path("whatsapp", "twilio-synthetic"), "*.json").Order(StringComparer.Ordinal)
            .Select(f => JsonNode.Parse(File.ReadAllText(f))!)
            .Where(j => j["params"]?["MessageStatus"] is null && j["params"] is JsonObject)
            .Select(j => j["params"]!.AsObject().Select(p => new KeyValuePair<string, string>(p.Key, p.Value is JsonValue v && v.TryGetValue<string>(out var s) ? s : p.Value?.ToJsonString() ?? "")).ToArray()),
    ];

    private static readonly JsonNode[] CloudFixtures =
    [
        .. Directory.EnumerateFiles(Corpus.Path("whatsapp", "meta-cloud-api", "pywa"), "*.json").Order(StringComparer.Ordinal)
            .Where(f => !Path.GetFileName(f).StartsWith("outgoing_", StringComparison.Ordinal))
            .Select(f => JsonNode.Parse(File.ReadAllText(f))!).Where(j => j["entry"] is JsonArray),
    ];
}
