using System.Net.Http.Json;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.WhatsApp;

/// <summary>The 24-hour window through the Cloud API: answers held, the approved template instead, released when the customer writes.</summary>
[NonParallelizable]
public sealed class CloudWindowTests : CloudScenario
{
    private const string TemplateName = "support_answer_waiting";

    private readonly ManualTime _clock = new(DateTimeOffset.UtcNow);

    private protected override TimeProvider? Clock => _clock;

    private const string Group = "Y2FwaV9ncm91cDoxNzA1NTU1MDEzOToxMjAzNjM0MDQ2OTQyMzM4MjAZD";

    private protected override IEnumerable<KeyValuePair<string, string?>> Settings =>
    [
        new("SupportGateway:Channels:WhatsApp:Cloud:Templates:window", TemplateName),
        new("SupportGateway:Channels:WhatsApp:Groups:0:GroupId", Group),
        new("SupportGateway:Channels:WhatsApp:Groups:0:Organisation", "ACME-7"),
    ];

    [Test]
    public async Task An_answer_25_hours_after_the_customer_wrote_is_held_the_template_goes_out_and_their_next_message_releases_it()
    {
        await PostAsync(Delivery("message__text.json", "wamid.WIN10", text: "Касса не печатает"));
        var (_, number) = await AckAsync("wamid.WIN10");
        _clock.Advance(TimeSpan.FromHours(25));

        await Agent.PostAsJsonAsync($"/api/v1/tickets/{number}/replies", new { text = "Проверьте бумагу." });
        var template = (await SentAsync(m => m["type"]?.GetValue<string>() == "template"))["template"]!;
        Assert.That(template["name"]!.GetValue<string>(), Is.EqualTo(TemplateName));
        Assert.That(template["language"]!["code"]!.GetValue<string>(), 
            Is.EqualTo(await DbProbe.ScalarAsync<string>(Gateway.Directory, "SELECT language FROM tickets WHERE number = @number", new { number })));
        var parameters = template["components"]![0]!["parameters"]!.AsArray().Select(p => p!["text"]!.GetValue<string>());
        Assert.That(parameters, Is.EqualTo(new[] { number, "Проверьте бумагу." }));
        await AssertHeldAndToldAsync(number, "Проверьте бумагу.");

        await PostAsync(Delivery("message__text.json", "wamid.WIN11", text: "Я тут"));
        await SentAsync(m => Body(m) == "Проверьте бумагу.");
        await Task.Delay(500);
        Assert.That(Graph.Messages.Count(m => Body(m) == "Проверьте бумагу."), Is.EqualTo(1), "sent once");
    }

    [Test]
    public async Task A_131047_inside_what_we_believed_was_the_window_holds_the_answer_the_same_way()
    {
        await PostAsync(Delivery("message__text.json", "wamid.WIN20", text: "Не открывается отчёт"));
        var (_, number) = await AckAsync("wamid.WIN20");
        Graph.WindowClosed[Customer] = true;

        await Agent.PostAsJsonAsync($"/api/v1/tickets/{number}/replies", new { text = "Обновите приложение." });
        await SentAsync(m => m["type"]?.GetValue<string>() == "template");
        await AssertHeldAndToldAsync(number, "Обновите приложение.");
        Assert.That(await DbProbe.ScalarAsync<string>(Gateway.Directory, "SELECT last_error FROM outbox WHERE state = 'held'"), Does.Contain("131047"));

        Graph.WindowClosed.TryRemove(Customer, out _);
        await PostAsync(Delivery("message__text.json", "wamid.WIN21", text: "Обновил"));
        await SentAsync(m => Body(m) == "Обновите приложение.");
    }

    [Test]
    public async Task A_groups_window_is_the_whole_groups_and_any_member_writing_releases_what_was_held_for_it()
    {
        await PostAsync(GroupDelivery(Group, "wamid.WIN30", "79161110001", "Не работает сканер"));
        var (_, number) = await AckAsync("wamid.WIN30");
        _clock.Advance(TimeSpan.FromHours(25));

        await Agent.PostAsJsonAsync($"/api/v1/tickets/{number}/replies", new { text = "Перезапустите сканер." });
        var template = await SentAsync(m => m["type"]?.GetValue<string>() == "template");
        Assert.That((template["recipient_type"]!.GetValue<string>(), template["to"]!.GetValue<string>()), Is.EqualTo(("group", Group)));
        await AssertHeldAndToldAsync(number, "Перезапустите сканер.");

        // Another member writes about something else: the group's window is open again, and the answer goes to the group.
        await PostAsync(GroupDelivery(Group, "wamid.WIN31", "79161110002", "А у меня принтер"));
        var answer = await SentAsync(m => Body(m) == "Перезапустите сканер.");
        Assert.That((answer["recipient_type"]!.GetValue<string>(), answer["to"]!.GetValue<string>()), Is.EqualTo(("group", Group)));
    }

    private async Task AssertHeldAndToldAsync(string number, string answer)
    {
        await Eventually.HoldsAsync(async () => await DbProbe.ScalarAsync<long>(Gateway.Directory, "SELECT COUNT(*) FROM outbox WHERE channel = 'whatsapp' AND state = 'held'") == 1);
        Assert.That(Graph.Messages.Any(m => Body(m) == answer), Is.False, "no free text outside the window");
        Assert.That(Graph.Messages.Count(m => m["type"]?.GetValue<string>() == "template"), Is.EqualTo(1), "one template per held answer");
        var ticket = await TicketAsync(number);
        Assert.That(ticket.GetProperty("audit").EnumerateArray().Any(a => a.GetProperty("action").GetString() == "window_closed"), Is.True);
        var note = ticket.GetProperty("messages").EnumerateArray().Last(m => m.GetProperty("internal").GetBoolean());
        Assert.That(note.GetProperty("text").GetString(), Does.Contain("24 hours").And.Contain("went out"));
        Assert.That((await TeamNoticesAsync()).Count(n => n.Contains("24 hours", StringComparison.Ordinal)), Is.EqualTo(1), "the agents' mail");
    }
}
