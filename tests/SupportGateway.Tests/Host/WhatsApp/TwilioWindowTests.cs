using System.Net.Http.Json;
using System.Text.Json;
using SupportGateway.Host.Channels.WhatsApp;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.WhatsApp;

/// <summary>
/// Twilio's content templates: the 24-hour window (answers held, the template instead, released when the customer
/// writes) and the resolution notice with quick-reply buttons.
/// </summary>
[NonParallelizable]
public sealed class TwilioWindowTests : TwilioScenario
{
    private const string Customer = "+447700900555";
    private const string ContentSid = "HX00000000000000000000000000000001";

    private readonly ManualTime _clock = new(DateTimeOffset.UtcNow);

    private protected override TimeProvider? Clock => _clock;

    private protected override IEnumerable<KeyValuePair<string, string?>> Settings =>
        [new("SupportGateway:Channels:WhatsApp:Twilio:Templates:window", ContentSid), new("SupportGateway:Channels:WhatsApp:Twilio:Templates:resolution", ResolutionSid)];

    private const string ResolutionSid = "HX00000000000000000000000000000002";

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

    [Test]
    public async Task The_resolution_notice_goes_as_the_quick_reply_template_and_the_solved_buttons_payload_closes_the_ticket()
    {
        await SendAsync("SM0000000000000000000000000000w201", Customer, "Не открывается отчёт");
        var number = await ProcessedAsync("SM0000000000000000000000000000w201");
        var patch = await Agent.PatchAsJsonAsync($"/api/v1/tickets/{number}", new { status = "resolved", resolution = "solved" });
        Assert.That(patch.StatusCode, Is.EqualTo(System.Net.HttpStatusCode.OK), await patch.Content.ReadAsStringAsync());
        var notice = await SentAsync(Customer, m => m.GetValueOrDefault("ContentSid") == ResolutionSid);
        var variables = JsonSerializer.Deserialize<Dictionary<string, string>>(notice["ContentVariables"])!;
        Assert.That(variables["1"], Is.EqualTo(number));
        Assert.That(variables["2"], Does.Contain(number).And.Contain("решённое"));
        Assert.That(notice["Body"], Is.Empty, "the template carries the text");

        // The customer taps "Решено ✅": Twilio posts the button's payload (the template's id sg:c:{{1}}) and its text.
        await SendAsync("SM0000000000000000000000000000w202", Customer, "", f =>
        {
            f.Remove("Body");
            f["MessageType"] = "button";
            f["ButtonPayload"] = $"sg:c:{number}";
            f["ButtonText"] = "Решено ✅";
            f["OriginalRepliedMessageSid"] = notice["_sid"];
        });
        await Eventually.HoldsAsync(async () => (await TicketAsync(number)).GetProperty("ticket").GetProperty("status").GetString() == "closed");
        var audit = (await TicketAsync(number)).GetProperty("audit").EnumerateArray().Select(a => a.GetProperty("action").GetString()).ToList();
        Assert.That(audit, Does.Contain("customer_confirmed"));
        Assert.That(await DbProbe.ScalarAsync<long>(Gateway.Directory, "SELECT COUNT(*) FROM tickets"), Is.EqualTo(1));
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
