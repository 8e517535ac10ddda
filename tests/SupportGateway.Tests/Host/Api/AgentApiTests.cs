using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Api;

[TestFixture(StorageEngine.Sqlite)]
[TestFixture(StorageEngine.Postgres)]
public sealed class AgentApiTests(StorageEngine engine)
{
    private TestDatabase? _database;
    private GatewayFactory _gateway = null!;
    private HttpClient _agent = null!;
    private string _number = "";

    [SetUp]
    public async Task SetUp()
    {
        _database = await TestDatabase.CreateAsync(engine);
        _gateway = new GatewayFactory(_database.Settings);
        _agent = _gateway.Agent();
        using var intake = _gateway.Intake();
        _number = await _gateway.FileRequestAsync(intake, "Почта не уходит");
    }

    [TearDown]
    public async Task TearDown()
    {
        _agent?.Dispose();
        _gateway?.Dispose();
        if (_database is not null)
            await _database.DisposeAsync();
        _database = null;
    }

    [TestCase(null)]
    [TestCase("Bearer nope-nope-nope")]
    [TestCase("Basic dGVzdA==")]
    public async Task Agent_api_needs_a_configured_key(string? authorization)
    {
        using var client = _gateway.CreateClient();
        if (authorization is not null)
            client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", authorization);
        var response = await client.GetAsync("/api/v1/tickets");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(response.Headers.WwwAuthenticate.ToString(), Is.EqualTo("Bearer"));
        Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("application/problem+json"));
    }

    [Test]
    public async Task Lists_and_filters_tickets()
    {
        using var intake = _gateway.Intake();
        await _gateway.FileRequestAsync(intake, "Printer jam");
        await _agent.PatchAsJsonAsync($"/api/v1/tickets/{_number}", new { status = "in_progress" });

        var all = await _agent.GetFromJsonAsync<JsonElement[]>("/api/v1/tickets");
        var inProgress = await _agent.GetFromJsonAsync<JsonElement[]>("/api/v1/tickets?status=in_progress");
        var found = await _agent.GetFromJsonAsync<JsonElement[]>("/api/v1/tickets?q=printer");
        var bad = await _agent.GetAsync("/api/v1/tickets?status=sleeping");

        Assert.That(all, Has.Length.EqualTo(2));
        Assert.That(inProgress!.Select(t => t.GetProperty("number").GetString()), Is.EqualTo(new[] { _number }));
        Assert.That(found!.Select(t => t.GetProperty("subject").GetString()), Is.EqualTo(new[] { "Printer jam" }));
        Assert.That(bad.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
    }

    [Test]
    public async Task Ticket_shows_messages_and_audit_trail()
    {
        await _agent.PostAsJsonAsync($"/api/v1/tickets/{_number}/replies", new { text = "Смотрим" });
        // A higher priority has a shorter target: the due time moves, and the audit says so.
        await _agent.PatchAsJsonAsync($"/api/v1/tickets/{_number}", new { priority = "high", assignee = GatewayFactory.AgentEmail });

        var ticket = await _agent.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{_number}");
        var audit = ticket.GetProperty("audit").EnumerateArray().Select(a => a.GetProperty("action").GetString()).ToList();
        Assert.That(audit, Is.EqualTo(new[] { "created", "message_added", "status_changed", "priority_changed", "assignee_changed", "sla_due_changed" }));
        Assert.That(ticket.GetProperty("ticket").GetProperty("assignee").GetString(), Is.EqualTo(GatewayFactory.AgentEmail));
        Assert.That(ticket.GetProperty("messages").EnumerateArray().Last().GetProperty("author").GetString(), Is.EqualTo("Anna"));
    }

    [Test]
    public async Task Patch_refuses_unknown_values_and_disallowed_moves_with_the_field_named()
    {
        var badValue = await _agent.PatchAsJsonAsync($"/api/v1/tickets/{_number}", new { priority = "asap" });
        var noResolution = await _agent.PatchAsJsonAsync($"/api/v1/tickets/{_number}", new { status = "resolved" });
        await _agent.PatchAsJsonAsync($"/api/v1/tickets/{_number}", new { status = "closed" });
        var badMove = await _agent.PatchAsJsonAsync($"/api/v1/tickets/{_number}", new { status = "clarification" });

        Assert.That(badValue.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That((await badValue.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString(), Is.EqualTo("priority"));
        Assert.That(noResolution.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That((await noResolution.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString(), Is.EqualTo("resolution"));
        Assert.That(badMove.StatusCode, Is.EqualTo(HttpStatusCode.Conflict));
        Assert.That(badMove.Content.Headers.ContentType!.MediaType, Is.EqualTo("application/problem+json"));
    }

    [Test]
    public async Task Reply_needs_text()
    {
        var response = await _agent.PostAsJsonAsync($"/api/v1/tickets/{_number}/replies", new { text = "  " });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString(), Is.EqualTo("text"));
    }

    [Test]
    public async Task Health_has_a_line_per_channel_and_openapi_describes_the_api()
    {
        using var client = _gateway.CreateClient();
        var health = await client.GetStringAsync("/healthz");
        var openApi = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");

        Assert.That(health, Does.Contain("webchat: up").And.Contain("api: up").And.Contain($"storage: up ({_database!.Provider})").And.Contain("outbox: "));
        var paths = openApi.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.That(paths, Is.SupersetOf(new[] { "/api/v1/requests", "/api/v1/requests/{ticketNumber}/messages", "/api/v1/tickets", "/api/v1/tickets/{number}" }));
    }

    [Test]
    public async Task Unknown_route_is_a_problem_too()
    {
        using var client = _gateway.CreateClient();
        var response = await client.GetAsync("/api/v1/nothing-here");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("application/problem+json"));
    }
}
