using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SupportGateway.Core.Pipeline;
using SupportGateway.Host.Channels.Telegram;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Telegram;

/// <summary>A gateway polling a Bot API double; scenarios push corpus updates and read what the bot sent.</summary>
public abstract class TelegramScenario
{
    private protected FakeBotApi Bot = null!;
    private protected GatewayFactory Gateway = null!;
    private protected HttpClient Agent = null!;

    /// <summary>Settings a scenario adds to the gateway's.</summary>
    private protected virtual Dictionary<string, string?> Settings => [];

    [SetUp]
    public void StartGateway()
    {
        Bot = new FakeBotApi();
        var settings = new Dictionary<string, string?>
        {
            ["SupportGateway:Channels:Telegram:BotToken"] = FakeBotApi.Token,
            ["SupportGateway:Channels:Telegram:ApiBaseUrl"] = Bot.BaseUrl,
            ["SupportGateway:Channels:Telegram:PollTimeout"] = "00:00:01",
        };
        foreach (var (key, value) in Settings)
            settings[key] = value;
        Gateway = new GatewayFactory(settings);
        Agent = Gateway.Agent();
    }

    [TearDown]
    public async Task StopGateway()
    {
        Agent.Dispose();
        Gateway.Dispose();
        await Bot.DisposeAsync();
    }

    private protected async Task<JsonObject> SentAsync(Func<JsonObject, bool> match, int seconds = 15, string method = "sendMessage")
    {
        JsonObject? found = null;
        await Eventually.HoldsAsync(() => Task.FromResult((found = Bot.Sent(method).LastOrDefault(match)) is not null), seconds);
        return found!;
    }

    /// <summary>The acknowledgement answering message <paramref name="messageId"/>, and the ticket number in it.</summary>
    private protected async Task<(JsonObject Ack, string Number)> AckAsync(long messageId)
    {
        var ack = await SentAsync(m => m["reply_parameters"]?["message_id"]?.GetValue<long>() == messageId && Regex.IsMatch(m["text"]!.GetValue<string>(), @"SG-\d+"));
        return (ack, Regex.Match(ack["text"]!.GetValue<string>(), @"SG-\d+").Value);
    }

    private protected Task<JsonElement> TicketAsync(string number) => Agent.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{number}");

    private protected async Task<string> StatusAsync(string number) => (await TicketAsync(number)).GetProperty("ticket").GetProperty("status").GetString()!;

    private protected async Task<List<string>> NumbersAsync() =>
        [.. (await Agent.GetFromJsonAsync<JsonElement>("/api/v1/tickets")).EnumerateArray().Select(t => t.GetProperty("number").GetString()!)];

}

/// <summary>The Telegram channel against a Bot API double fed with corpus updates.</summary>
[NonParallelizable]
public sealed class TelegramChannelTests : TelegramScenario
{
    [Test]
    public async Task A_message_opens_a_ticket_the_ack_answers_it_and_anAgent_reply_goes_back_to_the_chat()
    {
        Bot.Push(FakeBotApi.Update("message.json", 1, userId: 5001, text: "Не работает касса", messageId: 77));
        var ack = await SentAsync(m => m["chat_id"]!.GetValue<long>() == 5001);
        var number = Regex.Match(ack["text"]!.GetValue<string>(), @"SG-\d+").Value;
        Assert.That(number, Is.Not.Empty, ack.ToJsonString());
        Assert.That(ack["reply_parameters"]!["message_id"]!.GetValue<long>(), Is.EqualTo(77));

        var ticket = await Agent.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{number}");
        Assert.That(ticket.GetProperty("ticket").GetProperty("channel").GetString(), Is.EqualTo("telegram"));
        Assert.That(ticket.GetProperty("messages")[0].GetProperty("text").GetString(), Is.EqualTo("Не работает касса"));

        Bot.Push(FakeBotApi.Update("message.json", 2, userId: 5001, text: "Ошибка ФН-12", messageId: 78));
        await Eventually.HoldsAsync(async () => (await Agent.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{number}")).GetProperty("messages").GetArrayLength() == 3);

        var reply = await Agent.PostAsJsonAsync($"/api/v1/tickets/{number}/replies", new { text = "Перезагрузите кассу, пожалуйста." });
        Assert.That(reply.StatusCode, Is.EqualTo(HttpStatusCode.Created), await reply.Content.ReadAsStringAsync());
        var answer = await SentAsync(m => m["text"]!.GetValue<string>() == "Перезагрузите кассу, пожалуйста.");
        Assert.That((answer["chat_id"]!.GetValue<long>(), answer["reply_parameters"]!["message_id"]!.GetValue<long>()), Is.EqualTo((5001L, 78L)),
            "a reply to the customer's last message");
    }

    [Test]
    public async Task Start_greets_and_opens_nothing_and_new_makes_the_next_message_a_new_ticket()
    {
        Bot.Push(FakeBotApi.Update("command.json", 1, userId: 5002, text: "/start"));
        var welcome = await SentAsync(m => m["chat_id"]!.GetValue<long>() == 5002);
        Assert.That(welcome["text"]!.GetValue<string>(), Does.Contain("support").Or.Contain("поддержки"));

        Bot.Push(FakeBotApi.Update("message.json", 2, userId: 5002, text: "Не печатает чек", messageId: 10));
        var first = await SentAsync(m => m["reply_parameters"]?["message_id"]?.GetValue<long>() == 10);
        Bot.Push(FakeBotApi.Update("command.json", 3, userId: 5002, text: "/new"));
        await SentAsync(m => m["text"]!.GetValue<string>().Contains("new problem", StringComparison.Ordinal));
        Bot.Push(FakeBotApi.Update("message.json", 4, userId: 5002, text: "Не открывается личный кабинет", messageId: 12));
        var second = await SentAsync(m => m["reply_parameters"]?["message_id"]?.GetValue<long>() == 12);

        var numbers = new[] { first, second }.Select(m => Regex.Match(m["text"]!.GetValue<string>(), @"SG-\d+").Value).ToList();
        Assert.That(numbers, Is.Unique.And.All.Not.Empty);
        // An unknown command gets the greeting with the commands, not a ticket.
        Bot.Push(FakeBotApi.Update("command.json", 5, userId: 5002, text: "/help"));
        await Eventually.HoldsAsync(() => Task.FromResult(Bot.Sent("sendMessage").Count(m => m["chat_id"]!.GetValue<long>() == 5002
            && m["text"]!.GetValue<string>().Contains("/status", StringComparison.Ordinal)) == 2));
        Assert.That((await Agent.GetFromJsonAsync<JsonElement>("/api/v1/tickets")).GetArrayLength(), Is.EqualTo(2), "/start and /help opened nothing");
    }

    [Test]
    public async Task Polling_rides_out_5xx_and_a_429_storm_without_losing_or_doubling_an_update()
    {
        Bot.ServerErrorsLeft = 5;
        Bot.TooManyRequestsLeft = 3;
        Bot.Push(FakeBotApi.Update("message.json", 7, userId: 5003, text: "Касса зависла", messageId: 5));
        // Three answers of 429 retry_after=1 are waited out; the fourth attempt delivers.
        await Eventually.HoldsAsync(() => Task.FromResult(Bot.Sent("sendMessage").Count(m => m["chat_id"]!.GetValue<long>() == 5003) == 4), seconds: 30);
        await Task.Delay(500);
        var attempts = Bot.Sent("sendMessage").Where(m => m["chat_id"]!.GetValue<long>() == 5003).ToList();
        Assert.That(attempts, Has.Count.EqualTo(4));
        Assert.That(attempts.Select(m => m["text"]!.GetValue<string>()).Distinct().Single(), Does.Match(@"SG-\d+"));

        // Telegram repeats an update it has not seen confirmed: the same update_id again changes nothing.
        Bot.Push(FakeBotApi.Update("message.json", 7, userId: 5003, text: "Касса зависла", messageId: 5));
        Bot.Push(FakeBotApi.Update("message.json", 8, userId: 5003, text: "Уже работает", messageId: 6));
        await Eventually.HoldsAsync(async () => (await Agent.GetFromJsonAsync<JsonElement>("/api/v1/tickets")).EnumerateArray()
            .Select(t => t.GetProperty("number").GetString()!).ToList() is [var only]
            && (await Agent.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{only}")).GetProperty("messages").GetArrayLength() == 3);
    }

    [Test]
    public void A_long_answer_is_cut_into_parts_Telegram_accepts_at_paragraphs_lines_or_spaces()
    {
        var paragraph = string.Concat(Enumerable.Repeat("Проверьте настройки принтера. ", 60)).Trim();
        var text = string.Join("\n\n", Enumerable.Repeat(paragraph, 5));
        var parts = SupportGateway.Host.Channels.TextParts.Split(text, TelegramSender.MaxText);
        Assert.That(parts, Has.All.Length.LessThanOrEqualTo(TelegramSender.MaxText));
        Assert.That(string.Join("\n\n", parts), Is.EqualTo(text), "cut at paragraph breaks, nothing lost");
        Assert.That(parts, Has.Count.GreaterThan(1));

        var emoji = string.Concat(Enumerable.Repeat("😀", 3000));
        var cut = SupportGateway.Host.Channels.TextParts.Split(emoji, 4095);
        Assert.That(string.Concat(cut), Is.EqualTo(emoji), "no character is split");
        Assert.That(SupportGateway.Host.Channels.TextParts.Split("коротко", TelegramSender.MaxText), Is.EqualTo(new[] { "коротко" }));
    }

    [Test]
    public void Every_corpus_update_is_read_without_error()
    {
        var normalizer = new TelegramNormalizer();
        var files = Directory.GetFiles(Corpus.Path("telegram", "nutgram", "updates"), "*.json");
        var messages = 0;
        foreach (var file in files)
        {
            var bytes = File.ReadAllBytes(file);
            var message = normalizer.Normalize(TelegramNormalizer.ToRaw(bytes, 1));
            if (message.TechnicalDetails![TelegramNormalizer.Kind] is "message" or "edit")
            {
                messages++;
                Assert.That(long.Parse(message.Sender.Identity), Is.Not.Zero, file);
            }
        }
        TestContext.Out.WriteLine($"{files.Length} corpus updates read, {messages} of them messages");
        Assert.That(messages, Is.GreaterThan(60));
    }
}

/// <summary>Webhook mode: the secret guards the door, and an accepted update is stored before the 200.</summary>
[NonParallelizable]
public sealed class TelegramWebhookTests
{
    [Test]
    public async Task A_wrong_secret_gets_401_and_stores_nothing_and_the_right_one_is_processed()
    {
        await using var bot = new FakeBotApi();
        using var gateway = new GatewayFactory(new Dictionary<string, string?>
        {
            ["SupportGateway:Channels:Telegram:BotToken"] = FakeBotApi.Token,
            ["SupportGateway:Channels:Telegram:ApiBaseUrl"] = bot.BaseUrl,
            ["SupportGateway:Channels:Telegram:Mode"] = "Webhook",
            ["SupportGateway:Channels:Telegram:WebhookUrl"] = "https://support.example.ru/webhooks/telegram",
            ["SupportGateway:Channels:Telegram:WebhookSecret"] = "webhook-secret-0123456789",
        });
        using var client = gateway.CreateClient();
        var update = FakeBotApi.Update("message.json", 42, userId: 6001, text: "Не приходит СМС", messageId: 3).ToJsonString();

        var wrong = new HttpRequestMessage(HttpMethod.Post, "/webhooks/telegram") { Content = new StringContent(update, Encoding.UTF8, "application/json") };
        wrong.Headers.Add("X-Telegram-Bot-Api-Secret-Token", "webhook-secret-WRONG");
        var refused = await client.SendAsync(wrong);
        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(refused.Content.Headers.ContentType!.MediaType, Is.EqualTo("application/problem+json"));
        Assert.That((await DbProbe.CountsAsync(gateway.Directory))["inbound"], Is.Zero);

        var right = new HttpRequestMessage(HttpMethod.Post, "/webhooks/telegram") { Content = new StringContent(update, Encoding.UTF8, "application/json") };
        right.Headers.Add("X-Telegram-Bot-Api-Secret-Token", "webhook-secret-0123456789");
        Assert.That((await client.SendAsync(right)).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!bot.Sent("sendMessage").Any(m => m["chat_id"]!.GetValue<long>() == 6001))
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail("the stored update was not processed within 15 s");
            await Task.Delay(50);
        }
        Assert.That(bot.Sent("setWebhook").Single()["secret_token"]!.GetValue<string>(), Is.EqualTo("webhook-secret-0123456789"));
    }
}
