using System.Net.Http.Json;
using System.Text.Json;
using SupportGateway.Host.Channels.WhatsApp;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.WhatsApp;

/// <summary>The 24-hour window through Twilio: answers held, the content template instead, released when the customer writes.</summary>
[NonParallelizable]
public sealed class TwilioWindowTests : TwilioScenario
{
    private const string Customer = "+447700900555";
    private const string ContentSid = "HX00000000000000000000000000000001";

    private readonly ManualTime _clock = new(DateTimeOffset.UtcNow);

    private protected override TimeProvider? Clock => _clock;

    private protected override IEnumerable<KeyValuePair<string, string?>> Settings =>
        [new("SupportGateway:Channels:WhatsApp:Twilio:Templates:window", ContentSid)];

    [Test]
    public async Task An_answer_25_hours_after_the_customer_wrote_is_held_the_template_goes_out_and_their_next_message_releases_it()
    {
        await SendAsync("SM0000000000000000000000000000w001", Customer, "Не работает касса");
        var number = await ProcessedAsync("SM0000000000000000000000000000w001");
        await SentAsync(Customer);
        _clock.Advance(TimeSpan.FromHours(25));

        await Agent.PostAsJsonAsync($"/api/v1/tickets/{number}/replies", new { text = "Проверьте бумагу в кассе." });
        var template = await SentAsync(Customer, m => m.ContainsKey("ContentSid"));
        Assert.That(template["ContentSid"], Is.EqualTo(ContentSid));
        var variables = JsonSerializer.Deserialize<Dictionary<string, string>>(template["ContentVariables"])!;
        Assert.That((variables["1"], variables["2"]), Is.EqualTo((number, "Проверьте бумагу в кассе.")));
        await AssertHeldAndToldAsync(number);

        await SendAsync("SM0000000000000000000000000000w002", Customer, "Я на связи");
        await SentAsync(Customer, m => m.GetValueOrDefault("Body") == "Проверьте бумагу в кассе.");
        await Task.Delay(500);
        Assert.That(Twilio.Messages.Count(m => m.GetValueOrDefault("Body") == "Проверьте бумагу в кассе."), Is.EqualTo(1), "sent once");
        Assert.That(await DbProbe.ScalarAsync<long>(Gateway.Directory, "SELECT COUNT(*) FROM outbox WHERE state = 'held'"), Is.Zero);
    }

    [Test]
    public async Task A_63016_inside_what_we_believed_was_the_window_holds_the_answer_the_same_way()
    {
        await SendAsync("SM0000000000000000000000000000w101", Customer, "Не печатает чек");
        var number = await ProcessedAsync("SM0000000000000000000000000000w101");
        await SentAsync(Customer);

        Twilio.Faults.Enqueue((400, TwilioSender.WindowClosed));
        await Agent.PostAsJsonAsync($"/api/v1/tickets/{number}/replies", new { text = "Замените ленту." });
        var template = await SentAsync(Customer, m => m.ContainsKey("ContentSid"));
        Assert.That(template["ContentVariables"], Does.Contain(number));
        await AssertHeldAndToldAsync(number);
        Assert.That(await DbProbe.ScalarAsync<string>(Gateway.Directory, "SELECT last_error FROM outbox WHERE state = 'held'"), Does.Contain("63016"));

        await SendAsync("SM0000000000000000000000000000w102", Customer, "Хорошо");
        await SentAsync(Customer, m => m.GetValueOrDefault("Body") == "Замените ленту.");
    }

    private async Task AssertHeldAndToldAsync(string number)
    {
        await Eventually.HoldsAsync(async () => await DbProbe.ScalarAsync<long>(Gateway.Directory, "SELECT COUNT(*) FROM outbox WHERE channel = 'whatsapp' AND state = 'held'") == 1);
        Assert.That(Twilio.Messages.Any(m => m.GetValueOrDefault("Body") is "Проверьте бумагу в кассе." or "Замените ленту."), Is.False, "no free text outside the window");
        var ticket = await TicketAsync(number);
        Assert.That(ticket.GetProperty("audit").EnumerateArray().Any(a => a.GetProperty("action").GetString() == "window_closed"), Is.True);
        var note = ticket.GetProperty("messages").EnumerateArray().Last(m => m.GetProperty("internal").GetBoolean());
        Assert.That(note.GetProperty("text").GetString(), Does.Contain("24 hours").And.Contain("held"));
        Assert.That((await TeamNoticesAsync()).Count(n => n.Contains("24 hours", StringComparison.Ordinal)), Is.EqualTo(1), "the agents' mail");
    }
}
