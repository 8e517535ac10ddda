using System.Net;
using System.Net.Http.Json;
using System.Text;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Limits;

/// <summary>Who is counted (a trusted proxy's X-Forwarded-For, never a stranger's), the intake key limit and the webhooks'.</summary>
[NonParallelizable]
public sealed class EndpointLimitsTests
{
    private static GatewayFactory Gateway(Dictionary<string, string?> settings, ManualTime? time = null) => new(settings, kestrel: true, time: time);

    [Test]
    public async Task X_forwarded_for_from_a_trusted_proxy_names_the_client()
    {
        using var gateway = Gateway(new()
        {
            ["SupportGateway:Limits:TrustedProxies:0"] = "127.0.0.1",
            ["SupportGateway:Limits:WebChat:NewRequestsPerAddress:Permits"] = "3",
        });
        using var client = new HttpClient { BaseAddress = gateway.ServerAddress };
        for (var i = 0; i < 3; i++)
        {
            var response = await WebChatFloodTests.NewRequestAsync(client, $"Через прокси {i}", forwardedFor: "198.51.100.7, 203.0.113.7");
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        }
        await WebChatFloodTests.AssertRefusedAsync(
            await WebChatFloodTests.NewRequestAsync(client, "Четвёртое", forwardedFor: "198.51.100.7, 203.0.113.7"), "webchat-requests");
        // Another client behind the same proxy has its own count.
        Assert.That((await WebChatFloodTests.NewRequestAsync(client, "Коллега", forwardedFor: "203.0.113.8")).StatusCode, Is.EqualTo(HttpStatusCode.Created));
        Assert.That((await DbProbe.CountsAsync(gateway.Directory))["tickets"], Is.EqualTo(4));
    }

    [Test]
    public async Task A_spoofed_x_forwarded_for_from_an_untrusted_peer_does_not_escape_the_limit()
    {
        // A proxy is configured, but it is not the peer (the test connects from 127.0.0.1): its header means nothing.
        using var gateway = Gateway(new()
        {
            ["SupportGateway:Limits:TrustedProxies:0"] = "10.0.0.0/8",
            ["SupportGateway:Limits:WebChat:NewRequestsPerAddress:Permits"] = "3",
        });
        using var client = new HttpClient { BaseAddress = gateway.ServerAddress };
        for (var i = 0; i < 3; i++)
            Assert.That((await WebChatFloodTests.NewRequestAsync(client, $"Спам {i}", forwardedFor: $"203.0.113.{i}")).StatusCode, Is.EqualTo(HttpStatusCode.Created));
        for (var i = 3; i < 20; i++)
            await WebChatFloodTests.AssertRefusedAsync(await WebChatFloodTests.NewRequestAsync(client, $"Спам {i}", forwardedFor: $"203.0.113.{i}"), "webchat-requests");
        Assert.That((await DbProbe.CountsAsync(gateway.Directory))["tickets"], Is.EqualTo(3));
    }

    [Test]
    public async Task Intake_requests_are_limited_per_key_per_minute()
    {
        var time = new ManualTime(DateTimeOffset.UtcNow);
        const string otherKey = "second-product-key-0002";
        using var gateway = Gateway(new()
        {
            ["SupportGateway:Intake:ApiKeys:1"] = otherKey,
            ["SupportGateway:Limits:IntakePerKey:Permits"] = "5",
        }, time);
        using var intake = gateway.Intake();
        for (var i = 0; i < 5; i++)
            await gateway.FileRequestAsync(intake, $"Отчёт {i}", $"user{i}@example.ru");

        var refused = await intake.PostAsJsonAsync("/api/v1/requests", new { description = "Шестой", contact = new { email = "six@example.ru" } });
        await WebChatFloodTests.AssertRefusedAsync(refused, "intake");
        Assert.That(refused.Headers.RetryAfter!.Delta, Is.LessThanOrEqualTo(TimeSpan.FromMinutes(2)));
        Assert.That((await DbProbe.CountsAsync(gateway.Directory))["inbound"], Is.EqualTo(5));

        // The limit is the key's: another product's key is not held by it.
        using var other = new HttpClient { BaseAddress = gateway.ServerAddress };
        other.DefaultRequestHeaders.Add("X-Api-Key", otherKey);
        await gateway.FileRequestAsync(other, "Другой продукт", "other@example.ru");

        time.Advance(refused.Headers.RetryAfter!.Delta!.Value);
        await gateway.FileRequestAsync(intake, "Шестой, позже", "six@example.ru");
        Assert.That((await DbProbe.CountsAsync(gateway.Directory))["tickets"], Is.EqualTo(7));
    }

    private static Dictionary<string, string?> TelegramWebhook(FakeBotApi bot) => new()
    {
        ["SupportGateway:Channels:Telegram:BotToken"] = FakeBotApi.Token,
        ["SupportGateway:Channels:Telegram:ApiBaseUrl"] = bot.BaseUrl,
        ["SupportGateway:Channels:Telegram:Mode"] = "Webhook",
        ["SupportGateway:Channels:Telegram:WebhookUrl"] = "https://support.example.ru/webhooks/telegram",
        ["SupportGateway:Channels:Telegram:WebhookSecret"] = "webhook-secret-0123456789",
    };

    private static Task<HttpResponseMessage> DeliverAsync(HttpClient client, int updateId)
    {
        var update = FakeBotApi.Update("message.json", updateId, userId: 7000 + updateId % 100, text: $"Сообщение {updateId}", messageId: updateId);
        var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/telegram") { Content = new StringContent(update.ToJsonString(), Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Telegram-Bot-Api-Secret-Token", "webhook-secret-0123456789");
        return client.SendAsync(request);
    }

    [Test]
    public async Task A_provider_sized_webhook_burst_from_one_address_passes_the_default_limit()
    {
        // After an outage Telegram delivers the backlog over up to 100 connections at once; a thousand updates in seconds.
        const int burst = 1000;
        await using var bot = new FakeBotApi();
        using var gateway = Gateway(TelegramWebhook(bot));
        using var client = new HttpClient { BaseAddress = gateway.ServerAddress };
        var statuses = new System.Collections.Concurrent.ConcurrentBag<HttpStatusCode>();
        await Parallel.ForEachAsync(Enumerable.Range(1, burst), new ParallelOptions { MaxDegreeOfParallelism = 40 }, async (i, _) =>
            statuses.Add((await DeliverAsync(client, i)).StatusCode));
        Assert.That(statuses.Count(s => s == HttpStatusCode.OK), Is.EqualTo(burst));
        Assert.That((await DbProbe.CountsAsync(gateway.Directory))["inbound"], Is.EqualTo(burst));
    }

    [Test]
    public async Task A_source_over_the_webhook_limit_gets_429_and_nothing_is_stored()
    {
        await using var bot = new FakeBotApi();
        var settings = TelegramWebhook(bot);
        settings["SupportGateway:Limits:WebhookPerSource:Permits"] = "3";
        using var gateway = Gateway(settings);
        using var client = new HttpClient { BaseAddress = gateway.ServerAddress };
        for (var i = 1; i <= 3; i++)
            Assert.That((await DeliverAsync(client, i)).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        await WebChatFloodTests.AssertRefusedAsync(await DeliverAsync(client, 4), "webhooks");
        Assert.That((await DbProbe.CountsAsync(gateway.Directory))["inbound"], Is.EqualTo(3));
    }
}
