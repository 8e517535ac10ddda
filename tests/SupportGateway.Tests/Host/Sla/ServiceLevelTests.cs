using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SupportGateway.Core.Sla;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Sla;

/// <summary>
/// Service levels through the agent API, with the clock moved by hand: the ticket's <c>sla</c>, the lists by
/// urgency, the pause while waiting for the customer, and auto-close.
/// </summary>
[TestFixture(StorageEngine.Sqlite)]
[TestFixture(StorageEngine.Postgres)]
public sealed class ServiceLevelTests(StorageEngine engine)
{
    // Wednesday 2 December 2026, 09:00 in Moscow.
    private static readonly DateTimeOffset Opening = new(2026, 12, 2, 9, 0, 0, TimeSpan.FromHours(3));

    private ManualTime _time = null!;
    private GatewayFactory _gateway = null!;
    private HttpClient _agent = null!;
    private HttpClient _intake = null!;

    private TestDatabase? _database;

    [SetUp]
    public async Task SetUp()
    {
        _time = new ManualTime(Opening);
        _database = await TestDatabase.CreateAsync(engine);
        var settings = OfficeHours();
        foreach (var (key, value) in _database.Settings)
            settings[key] = value;
        _gateway = new GatewayFactory(settings, time: _time);
        _agent = _gateway.Agent();
        _intake = _gateway.Intake();
    }

    [TearDown]
    public async Task TearDown()
    {
        _agent?.Dispose();
        _intake?.Dispose();
        _gateway?.Dispose();
        if (_database is not null)
            await _database.DisposeAsync();
        _database = null;
    }

    /// <summary>Every day 09:00–18:00 in Moscow, medium 9 business hours (one working day), emergency 1, warning at 75 %.</summary>
    internal static Dictionary<string, string?> OfficeHours(Dictionary<string, string?>? more = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["SupportGateway:Sla:CalendarDirectory"] = "",
            ["SupportGateway:Sla:Calendars:0:Name"] = "office",
            ["SupportGateway:Sla:Calendars:0:TimeZone"] = "Europe/Moscow",
            ["SupportGateway:Sla:Policies:0:Name"] = "contract",
            ["SupportGateway:Sla:Policies:0:Calendar"] = "office",
            ["SupportGateway:Sla:Policies:0:Resolution:medium"] = "9",
            ["SupportGateway:Sla:Policies:0:Resolution:emergency"] = "1",
            ["SupportGateway:Sla:DefaultPolicy"] = "contract",
        };
        foreach (var day in new[] { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" })
            settings[$"SupportGateway:Sla:Calendars:0:Hours:{day}:0"] = "09:00-18:00";
        foreach (var (key, value) in more ?? [])
            settings[key] = value;
        return settings;
    }

    private async Task<JsonElement> SlaAsync(string number) =>
        (await _agent.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{number}")).GetProperty("ticket").GetProperty("sla");

    private Task PatchAsync(string number, object body) =>
        _agent.PatchAsJsonAsync($"/api/v1/tickets/{number}", body).ContinueWith(t => Assert.That(t.Result.StatusCode, Is.EqualTo(HttpStatusCode.OK)));

    [Test]
    public async Task A_ticket_carries_its_clock_and_the_pause_for_clarification_moves_the_due_time()
    {
        var number = await _gateway.FileRequestAsync(_intake);
        var sla = await SlaAsync(number);
        Assert.That(sla.GetProperty("policy").GetString(), Is.EqualTo("contract"));
        Assert.That(sla.GetProperty("calendar").GetString(), Is.EqualTo("office"));
        Assert.That(sla.GetProperty("targetHours").GetDouble(), Is.EqualTo(9));
        Assert.That(sla.GetProperty("state").GetString(), Is.EqualTo("running"));
        // Nine business hours from 09:00 is 18:00 the same day: due at closing time, not the next morning.
        Assert.That(sla.GetProperty("dueAt").GetDateTimeOffset(), Is.EqualTo(Opening.AddHours(9)));
        Assert.That(sla.GetProperty("dueAt").GetString(), Does.EndWith("+03:00"));

        _time.Advance(TimeSpan.FromHours(2));
        await PatchAsync(number, new { status = "clarification" });
        _time.Advance(TimeSpan.FromHours(3));
        sla = await SlaAsync(number);
        Assert.That(sla.GetProperty("state").GetString(), Is.EqualTo("paused"));
        Assert.That(sla.GetProperty("businessSecondsElapsed").GetInt64(), Is.EqualTo(2 * 3600));
        Assert.That(sla.GetProperty("pausedSeconds").GetInt64(), Is.EqualTo(3 * 3600));
        // While paused, the due time is "if the clock ran from now": 14:00 + 7 h = 18:00 + 3 h next morning = 12:00.
        Assert.That(sla.GetProperty("dueAt").GetDateTimeOffset(), Is.EqualTo(Opening.AddDays(1).AddHours(3)));

        // The customer answers: the clock runs again.
        await _intake.PostAsJsonAsync($"/api/v1/requests/{number}/messages", new { text = "Вот логи", contact = new { email = "ivan@example.ru" } });
        sla = await SlaAsync(number);
        Assert.That(sla.GetProperty("state").GetString(), Is.EqualTo("running"));
        Assert.That(sla.GetProperty("dueAt").GetDateTimeOffset(), Is.EqualTo(Opening.AddDays(1).AddHours(3)));

        // A priority change recomputes from registration with the new target; the audit says so.
        await PatchAsync(number, new { priority = "emergency" });
        sla = await SlaAsync(number);
        Assert.That(sla.GetProperty("targetHours").GetDouble(), Is.EqualTo(1));
        Assert.That(sla.GetProperty("breached").GetBoolean(), Is.True, "2 business hours used against a 1-hour target");
        var audit = (await _agent.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{number}")).GetProperty("audit").EnumerateArray()
            .Select(a => a.GetProperty("action").GetString()).ToList();
        Assert.That(audit, Does.Contain("sla_due_changed"));
    }

    [Test]
    public async Task Lists_by_urgency_show_breached_and_at_risk_tickets_soonest_first()
    {
        var late = await _gateway.FileRequestAsync(_intake, "Сервер недоступен");
        await PatchAsync(late, new { priority = "emergency" });
        _time.Advance(TimeSpan.FromHours(1));
        var fresh = await _gateway.FileRequestAsync(_intake, "Вопрос по отчёту");
        _time.Advance(TimeSpan.FromHours(6) + TimeSpan.FromMinutes(50));
        var third = await _gateway.FileRequestAsync(_intake, "Ещё вопрос");
        // Now 16:50: the emergency is breached (1 h target, 7 h 50 min used); the medium one filed at 10:00 has used
        // 6 h 50 min of 9 h (past the 75 % warning at 16:45); the newest has just started.
        async Task<List<string>> Numbers(string query) =>
            [.. (await _agent.GetFromJsonAsync<JsonElement>("/api/v1/tickets" + query)).EnumerateArray().Select(t => t.GetProperty("number").GetString()!)];

        Assert.That(await Numbers("?sla=breached"), Is.EqualTo(new[] { late }));
        Assert.That(await Numbers("?sla=at_risk"), Is.EqualTo(new[] { fresh }));
        Assert.That(await Numbers("?sort=due"), Is.EqualTo(new[] { late, fresh, third }));
        var bad = await _agent.GetAsync("/api/v1/tickets?sla=late");
        Assert.That(bad.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That((await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString(), Is.EqualTo("sla"));
    }

    [Test]
    public async Task A_resolved_ticket_the_customer_leaves_unanswered_closes_after_three_days_once()
    {
        var number = await _gateway.FileRequestAsync(_intake);
        await PatchAsync(number, new { status = "resolved", resolution = "solved" });
        var scheduler = _gateway.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<SlaScheduler>().Single();

        _time.Advance(TimeSpan.FromDays(3) - TimeSpan.FromMinutes(1));
        Assert.That(await scheduler.RunDueAsync(CancellationToken.None), Is.Zero, "not yet: three calendar days");
        _time.Advance(TimeSpan.FromMinutes(2));
        await scheduler.RunDueAsync(CancellationToken.None);
        await scheduler.RunDueAsync(CancellationToken.None);

        var ticket = await _agent.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{number}");
        Assert.That(ticket.GetProperty("ticket").GetProperty("status").GetString(), Is.EqualTo("closed"));
        var audit = ticket.GetProperty("audit").EnumerateArray().ToList();
        Assert.That(audit.Count(a => a.GetProperty("action").GetString() == "auto_closed"), Is.EqualTo(1));
        Assert.That(audit.Single(a => a.GetProperty("action").GetString() == "auto_closed").GetProperty("actor").GetString(), Is.EqualTo("system"));
        // The customer is told on their channel (the product reads it through the intake API).
        var request = await _intake.GetFromJsonAsync<JsonElement>($"/api/v1/requests/{number}");
        Assert.That(request.GetProperty("messages").EnumerateArray().Last().GetProperty("text").GetString(), Does.Contain(number).And.Contain("closed"));
    }

    [Test]
    public async Task A_customer_who_writes_after_the_resolution_restarts_the_wait_for_confirmation()
    {
        var number = await _gateway.FileRequestAsync(_intake);
        await PatchAsync(number, new { status = "resolved", resolution = "solved" });
        _time.Advance(TimeSpan.FromDays(2));
        await _intake.PostAsJsonAsync($"/api/v1/requests/{number}/messages", new { text = "Проверю завтра", contact = new { email = "ivan@example.ru" } });
        _time.Advance(TimeSpan.FromDays(2));
        var scheduler = _gateway.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<SlaScheduler>().Single();
        await scheduler.RunDueAsync(CancellationToken.None);
        var ticket = await _agent.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{number}");
        Assert.That(ticket.GetProperty("ticket").GetProperty("status").GetString(), Is.EqualTo("resolved"), "three days count from the customer's last word");
    }

    [Test]
    public async Task The_customer_closes_a_request_through_the_intake_api_and_strangers_cannot()
    {
        var number = await _gateway.FileRequestAsync(_intake);
        var stranger = await _intake.PostAsJsonAsync($"/api/v1/requests/{number}/close", new { contact = new { email = "mallory@example.ru" } });
        Assert.That(stranger.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        var missing = await _intake.PostAsJsonAsync($"/api/v1/requests/{number}/close", new { });
        Assert.That(missing.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));

        var closed = await _intake.PostAsJsonAsync($"/api/v1/requests/{number}/close", new { contact = new { email = "ivan@example.ru" } });
        Assert.That(closed.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var ticket = await _agent.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{number}");
        Assert.That(ticket.GetProperty("ticket").GetProperty("status").GetString(), Is.EqualTo("closed"));
        Assert.That(ticket.GetProperty("ticket").GetProperty("sla").GetProperty("state").GetString(), Is.EqualTo("stopped"));
        Assert.That(ticket.GetProperty("audit").EnumerateArray().Select(a => a.GetProperty("action").GetString()), Does.Contain("customer_closed"));
        Assert.That(ticket.GetProperty("messages").EnumerateArray().Last().GetProperty("text").GetString(), Does.Contain("закрыто").Or.Contain("closed"));
    }
}

/// <summary>The customer's own close and a declined request, on the channels without a browser.</summary>
public sealed class CustomerCloseTests
{
    [Test]
    public async Task The_customer_closes_a_request_from_the_web_chat_and_a_stranger_cannot()
    {
        using var gateway = new GatewayFactory();
        using var visitor = gateway.CreateClient();
        var form = new MultipartFormDataContent { { new StringContent("Ivan"), "name" }, { new StringContent("Printer is broken"), "description" } };
        var created = await (await visitor.PostAsync("/webchat/api/requests", form)).Content.ReadFromJsonAsync<JsonElement>();
        var number = created.GetProperty("conversation").GetProperty("ticket").GetProperty("number").GetString()!;
        using var stranger = gateway.CreateClient();
        stranger.DefaultRequestHeaders.Add("X-Visitor-Token", new string('z', 43));
        Assert.That((await stranger.PostAsync($"/webchat/api/requests/{number}/close", null)).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));

        visitor.DefaultRequestHeaders.Add("X-Visitor-Token", created.GetProperty("token").GetString());
        var closed = await visitor.PostAsync($"/webchat/api/requests/{number}/close", null);
        Assert.That(closed.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var conversation = await visitor.GetFromJsonAsync<JsonElement>($"/webchat/api/requests/{number}");
        Assert.That(conversation.GetProperty("ticket").GetProperty("status").GetString(), Is.EqualTo("closed"));
        Assert.That(conversation.GetProperty("messages").EnumerateArray().Last().GetProperty("text").GetString(), Does.Contain("is closed"));
        // Closing twice changes nothing and tells nobody twice.
        await visitor.PostAsync($"/webchat/api/requests/{number}/close", null);
        var again = await visitor.GetFromJsonAsync<JsonElement>($"/webchat/api/requests/{number}");
        Assert.That(again.GetProperty("messages").GetArrayLength(), Is.EqualTo(conversation.GetProperty("messages").GetArrayLength()));
    }

    [TestCase("#close\r\n\r\n> earlier text", true)]
    [TestCase("  #ЗАКРЫТЬ  \nбольше не нужно", true)]
    [TestCase("Please #close it later", false)]
    [TestCase("Не закрывайте, проблема осталась", false)]
    public void A_mail_whose_first_line_is_close_closes_the_request(string text, bool closes) =>
        Assert.That(SupportGateway.Host.Channels.Email.EmailNormalizer.ClosesRequest(text), Is.EqualTo(closes));

    [Test]
    public void Closing_by_the_customer_closes_from_any_open_status_and_leaves_a_closed_one_alone()
    {
        foreach (var status in new[] { global::SupportGateway.Core.Tickets.TicketStatus.New, global::SupportGateway.Core.Tickets.TicketStatus.InProgress, global::SupportGateway.Core.Tickets.TicketStatus.Clarification, global::SupportGateway.Core.Tickets.TicketStatus.Resolved })
            Assert.That(global::SupportGateway.Core.Tickets.TicketWorkflow.AfterCustomerFollowUp(status, global::SupportGateway.Core.Tickets.CustomerVerdict.Closes), Is.EqualTo(global::SupportGateway.Core.Tickets.TicketStatus.Closed), status.ToString());
        Assert.That(global::SupportGateway.Core.Tickets.TicketWorkflow.AfterCustomerFollowUp(global::SupportGateway.Core.Tickets.TicketStatus.Closed, global::SupportGateway.Core.Tickets.CustomerVerdict.Closes), Is.Null);
    }

    [Test]
    public async Task A_declined_request_is_resolved_with_an_answer_saying_so()
    {
        using var gateway = new GatewayFactory();
        using var intake = gateway.Intake();
        using var agent = gateway.Agent();
        var number = await gateway.FileRequestAsync(intake, "Please add a dark theme");
        var response = await agent.PatchAsJsonAsync($"/api/v1/tickets/{number}", new { status = "resolved", resolution = "declined" });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var request = await intake.GetFromJsonAsync<JsonElement>($"/api/v1/requests/{number}");
        Assert.That(request.GetProperty("resolution").GetString(), Is.EqualTo("declined"));
        Assert.That(request.GetProperty("messages").EnumerateArray().Last().GetProperty("text").GetString(), Does.Contain("will not be carried out"));
    }
}

/// <summary>Auto-close with the real clock: the scheduler wakes at the due instant, not on a coarse poll.</summary>
public sealed class AutoCloseRealTimeTests
{
    [Test]
    public async Task With_auto_close_set_to_seconds_a_resolved_ticket_closes_by_itself_once()
    {
        using var gateway = new GatewayFactory(new Dictionary<string, string?> { ["SupportGateway:Sla:AutoCloseAfter"] = "00:00:02" });
        using var agent = gateway.Agent();
        using var intake = gateway.Intake();
        var number = await gateway.FileRequestAsync(intake);
        var resolved = await agent.PatchAsJsonAsync($"/api/v1/tickets/{number}", new { status = "resolved", resolution = "solved" });
        Assert.That(resolved.StatusCode, Is.EqualTo(HttpStatusCode.OK));

        var deadline = DateTime.UtcNow.AddSeconds(15);
        JsonElement ticket;
        do
        {
            await Task.Delay(200);
            ticket = await agent.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{number}");
        }
        while (ticket.GetProperty("ticket").GetProperty("status").GetString() != "closed" && DateTime.UtcNow < deadline);

        Assert.That(ticket.GetProperty("ticket").GetProperty("status").GetString(), Is.EqualTo("closed"));
        var closedAfter = ticket.GetProperty("ticket").GetProperty("closedAt").GetDateTimeOffset() - ticket.GetProperty("ticket").GetProperty("resolvedAt").GetDateTimeOffset();
        Assert.That(closedAfter, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(2)).And.LessThan(TimeSpan.FromSeconds(10)));
        await Task.Delay(2500);
        ticket = await agent.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{number}");
        Assert.That(ticket.GetProperty("audit").EnumerateArray().Count(a => a.GetProperty("action").GetString() == "auto_closed"), Is.EqualTo(1));
    }
}
