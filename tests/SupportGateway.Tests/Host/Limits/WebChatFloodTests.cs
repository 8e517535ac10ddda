using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Limits;

/// <summary>
/// The flood of issue 16: hundreds of new web-chat requests from one client within seconds, on a real socket. At most the
/// configured number become tickets; the rest get 429 with Retry-After and problem details, and nothing of them is stored.
/// </summary>
[NonParallelizable]
public sealed class WebChatFloodTests
{
    private const int Flood = 300;

    internal static async Task<HttpResponseMessage> NewRequestAsync(HttpClient client, string text, string? token = null, string? forwardedFor = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webchat/api/requests")
        {
            Content = new MultipartFormDataContent { { new StringContent("Ivan"), "name" }, { new StringContent(text), "description" } },
        };
        if (token is not null)
            request.Headers.Add("X-Visitor-Token", token);
        if (forwardedFor is not null)
            request.Headers.Add("X-Forwarded-For", forwardedFor);
        return await client.SendAsync(request);
    }

    internal static async Task AssertRefusedAsync(HttpResponseMessage response, string limit)
    {
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.TooManyRequests));
        Assert.That(response.Headers.RetryAfter?.Delta, Is.Not.Null.And.GreaterThanOrEqualTo(TimeSpan.FromSeconds(1)), "Retry-After in seconds");
        Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("application/problem+json"));
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That((problem.GetProperty("status").GetInt32(), problem.GetProperty("limit").GetString()), Is.EqualTo((429, limit)));
        Assert.That(problem.GetProperty("detail").GetString(), Is.Not.Empty);
    }

    /// <summary>Sends <paramref name="count"/> requests, 16 at a time, as a script would.</summary>
    private static async Task<ConcurrentBag<HttpResponseMessage>> FloodAsync(HttpClient client, int count, string? token)
    {
        var responses = new ConcurrentBag<HttpResponseMessage>();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
            responses.Add(await NewRequestAsync(client, $"Спам номер {i}", token)));
        return responses;
    }

    private static async Task<(long Tickets, long Inbound, long Customer, long System)> StoredAsync(GatewayFactory gateway)
    {
        var counts = await DbProbe.CountsAsync(gateway.Directory);
        var customer = await DbProbe.ScalarAsync<long>(gateway.Directory, "SELECT COUNT(*) FROM messages WHERE author_kind = 'customer'");
        var system = await DbProbe.ScalarAsync<long>(gateway.Directory, "SELECT COUNT(*) FROM messages WHERE author_kind = 'system'");
        return (counts["tickets"], counts["inbound"], customer, system);
    }

    [Test]
    public async Task Three_hundred_requests_with_one_visitor_token_open_ten_tickets_and_store_nothing_else()
    {
        var time = new ManualTime(DateTimeOffset.UtcNow);
        using var gateway = new GatewayFactory(kestrel: true, time: time);
        using var client = new HttpClient { BaseAddress = gateway.ServerAddress };
        var first = await NewRequestAsync(client, "Первое обращение");
        Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        var token = (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;

        var responses = await FloodAsync(client, Flood - 1, token);

        Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.Created), Is.EqualTo(9), "10 per visitor per hour, the first included");
        var refused = responses.Where(r => r.StatusCode != HttpStatusCode.Created).ToList();
        Assert.That(refused, Has.Count.EqualTo(Flood - 10));
        foreach (var response in refused)
            await AssertRefusedAsync(response, "webchat-requests");
        // Ten tickets, each with its customer message; acknowledged up to the cap of 5 per address per hour.
        Assert.That(await StoredAsync(gateway), Is.EqualTo((10L, 10L, 10L, 5L)));
        Assert.That(await DbProbe.ScalarAsync<long>(gateway.Directory, "SELECT COUNT(*) FROM audit WHERE action = 'acknowledgement_suppressed'"),
            Is.EqualTo(5));

        // Retry-After is the truth: a second before it the visitor is still refused, at it one more request fits.
        var wait = refused.Max(r => r.Headers.RetryAfter!.Delta!.Value);
        await CloseOneAsync(client, token); // under the open-requests cap (10) again
        time.Advance(wait - TimeSpan.FromSeconds(1));
        await AssertRefusedAsync(await NewRequestAsync(client, "Ещё рано", token), "webchat-requests");
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.That((await NewRequestAsync(client, "Теперь можно", token)).StatusCode, Is.EqualTo(HttpStatusCode.Created));
        Assert.That((await StoredAsync(gateway)).Tickets, Is.EqualTo(11));
    }

    [Test]
    public async Task Three_hundred_requests_each_without_a_token_open_thirty_tickets_from_one_address()
    {
        // A script that drops its token is a new visitor every time: the address limit holds it.
        using var gateway = new GatewayFactory(kestrel: true);
        using var client = new HttpClient { BaseAddress = gateway.ServerAddress };

        var responses = await FloodAsync(client, Flood, token: null);

        Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.Created), Is.EqualTo(30), "30 per address per hour");
        var refused = responses.Where(r => r.StatusCode != HttpStatusCode.Created).ToList();
        Assert.That(refused, Has.Count.EqualTo(Flood - 30));
        foreach (var response in refused)
            await AssertRefusedAsync(response, "webchat-requests");
        Assert.That(await StoredAsync(gateway), Is.EqualTo((30L, 30L, 30L, 30L)), "thirty visitors, one acknowledgement each");
    }

    [Test]
    public async Task A_visitor_with_the_most_open_requests_opens_another_only_after_closing_one()
    {
        using var gateway = new GatewayFactory(new Dictionary<string, string?> { ["SupportGateway:Limits:WebChat:OpenRequestsPerVisitor"] = "2" },
            kestrel: true);
        using var client = new HttpClient { BaseAddress = gateway.ServerAddress };
        var first = await NewRequestAsync(client, "Не печатает принтер");
        var token = (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
        Assert.That((await NewRequestAsync(client, "И сканер тоже", token)).StatusCode, Is.EqualTo(HttpStatusCode.Created));

        await AssertRefusedAsync(await NewRequestAsync(client, "И ещё почта", token), "open-requests");
        Assert.That((await StoredAsync(gateway)).Tickets, Is.EqualTo(2));

        await CloseOneAsync(client, token);
        Assert.That((await NewRequestAsync(client, "И ещё почта", token)).StatusCode, Is.EqualTo(HttpStatusCode.Created));
        Assert.That((await StoredAsync(gateway)).Tickets, Is.EqualTo(3));
    }

    [Test]
    public async Task Messages_per_visitor_are_limited_per_minute_and_refused_ones_are_not_stored()
    {
        var time = new ManualTime(DateTimeOffset.UtcNow);
        using var gateway = new GatewayFactory(new Dictionary<string, string?> { ["SupportGateway:Limits:WebChat:MessagesPerVisitor:Permits"] = "3" },
            kestrel: true, time: time);
        using var client = new HttpClient { BaseAddress = gateway.ServerAddress };
        var first = await NewRequestAsync(client, "Не печатает принтер");
        var created = await first.Content.ReadFromJsonAsync<JsonElement>();
        var token = created.GetProperty("token").GetString()!;
        var number = created.GetProperty("conversation").GetProperty("ticket").GetProperty("number").GetString()!;

        async Task<HttpResponseMessage> SayAsync(string text)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/webchat/api/requests/{number}/messages")
            {
                Content = new MultipartFormDataContent { { new StringContent(text), "text" } },
            };
            request.Headers.Add("X-Visitor-Token", token);
            return await client.SendAsync(request);
        }

        for (var i = 0; i < 3; i++)
            Assert.That((await SayAsync($"Деталь {i}")).StatusCode, Is.EqualTo(HttpStatusCode.Created));
        var refused = await SayAsync("Слишком быстро");
        await AssertRefusedAsync(refused, "webchat-messages");
        Assert.That((await StoredAsync(gateway)).Customer, Is.EqualTo(4));

        time.Advance(refused.Headers.RetryAfter!.Delta!.Value);
        Assert.That((await SayAsync("Теперь можно")).StatusCode, Is.EqualTo(HttpStatusCode.Created));
        Assert.That((await StoredAsync(gateway)).Customer, Is.EqualTo(5));
    }

    private static async Task CloseOneAsync(HttpClient client, string token)
    {
        using var list = new HttpRequestMessage(HttpMethod.Get, "/webchat/api/requests");
        list.Headers.Add("X-Visitor-Token", token);
        var tickets = await (await client.SendAsync(list)).Content.ReadFromJsonAsync<JsonElement>();
        var number = tickets[0].GetProperty("number").GetString();
        using var close = new HttpRequestMessage(HttpMethod.Post, $"/webchat/api/requests/{number}/close");
        close.Headers.Add("X-Visitor-Token", token);
        Assert.That((await client.SendAsync(close)).StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }
}
