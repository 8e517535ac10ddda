using System.Net;
using System.Net.Http.Json;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Outbox;

/// <summary>One provider under test: how a customer opens a ticket on it, how it goes away and comes back, what it got.</summary>
internal sealed record OutageTarget(
    ManualTime Time,
    string Directory,
    string Channel,
    HttpClient Agent,
    Func<int, string, Task<string>> OpenTicketAsync,
    Action<bool> SetReachable,
    Func<IReadOnlyList<(string To, string Text)>> Delivered,
    Func<int, string> Recipient);

/// <summary>
/// The outage every provider goes through: customers write while it is down (their tickets open, the acknowledgements
/// and then agents' answers queue up), the outage lasts, the provider comes back, and each customer gets exactly their
/// acknowledgement and the answers, once each, in the order written.
/// </summary>
internal static class OutageScript
{
    public static async Task RunAsync(OutageTarget target, TimeSpan outage, int customers)
    {
        var marker = Guid.NewGuid().ToString("N")[..8];
        target.SetReachable(false);
        var numbers = new List<string>();
        for (var i = 0; i < customers; i++)
            numbers.Add(await target.OpenTicketAsync(i, $"Касса не печатает чеки {marker}-{i}"));
        for (var answer = 1; answer <= 2; answer++)
        {
            for (var i = 0; i < customers; i++)
                await ReplyAsync(target.Agent, numbers[i], $"Ответ {answer} {marker}-{i}");
            target.Time.Advance(TimeSpan.FromSeconds(30));
        }

        await OutboxClock.PassAsync(target.Time, target.Directory, target.Channel, outage);
        Assert.That(target.Delivered().Where(d => numbers.Any(d.Text.Contains) || d.Text.Contains(marker, StringComparison.Ordinal)), Is.Empty,
            "nothing got through while the provider was down");
        Assert.That(await FailedAsync(target), Is.Zero, $"nothing is given up after {outage}");

        target.SetReachable(true);
        await OutboxClock.UntilDeliveredAsync(target.Time, target.Directory, target.Channel);
        for (var i = 0; i < customers; i++)
        {
            var got = target.Delivered().Where(d => d.To == target.Recipient(i)).Select(d => d.Text).ToList();
            Assert.That(got, Has.Count.EqualTo(3), $"customer {i} got exactly three messages: " + string.Join(" | ", got));
            Assert.That(got[0], Does.Contain(numbers[i]), "the acknowledgement first");
            Assert.That(got.Skip(1), Is.EqualTo(new[] { $"Ответ 1 {marker}-{i}", $"Ответ 2 {marker}-{i}" }), "then the answers, in the order written");
        }
        Assert.That(await FailedAsync(target), Is.Zero);
    }

    public static async Task ReplyAsync(HttpClient agent, string number, string text)
    {
        var response = await agent.PostAsJsonAsync($"/api/v1/tickets/{number}/replies", new { text });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
    }

    private static Task<long> FailedAsync(OutageTarget target) =>
        DbProbe.ScalarAsync<long>(target.Directory, "SELECT COUNT(*) FROM outbox WHERE channel = @channel AND state = 'failed'", new { channel = target.Channel });
}
