using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using SupportGateway.Core.Tickets;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Api;

/// <summary>Every mistake a caller can make gets a problem that says what was wrong, and changes nothing.</summary>
public sealed class BadInputTests
{
    private GatewayFactory _gateway = null!;
    private HttpClient _agent = null!;
    private HttpClient _intake = null!;
    private HttpClient _visitor = null!;
    private string _number = "";

    [SetUp]
    public async Task SetUp()
    {
        _gateway = new GatewayFactory();
        _agent = _gateway.Agent();
        _intake = _gateway.Intake();
        _visitor = _gateway.CreateClient();
        _visitor.DefaultRequestHeaders.Add("X-Visitor-Token", new string('v', 43));
        _number = await _gateway.FileRequestAsync(_intake, "Почта не уходит");
    }

    [TearDown]
    public void TearDown()
    {
        _agent.Dispose();
        _intake.Dispose();
        _visitor.Dispose();
        _gateway.Dispose();
    }

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    [Test]
    public async Task Truncated_json_names_the_line_and_position()
    {
        var response = await _intake.PostAsync("/api/v1/requests", Json("{\n  \"description\": \"Printer\",\n  \"contact\": {\"email\": \"ivan@example.ru\""));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("application/problem+json"));
        var detail = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString();
        Assert.That(detail, Does.StartWith("The body is not valid JSON (line 3, position "));
        Assert.That(detail, Does.Not.Contain("depth"));
    }

    [Test]
    public async Task A_value_of_the_wrong_type_still_names_its_field()
    {
        var response = await _intake.PostAsync("/api/v1/requests", Json("""{"description": 42}"""));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString(), Is.EqualTo("description"));
    }

    /// <summary>Every route with a ticket number: method, path with {0} for the number, and what it sends.</summary>
    private IEnumerable<(HttpClient Client, HttpMethod Method, string Path, HttpContent? Body)> NumberRoutes(string number)
    {
        var contact = new { email = "ivan@example.ru" };
        yield return (_agent, HttpMethod.Get, $"/api/v1/tickets/{number}", null);
        yield return (_agent, HttpMethod.Patch, $"/api/v1/tickets/{number}", JsonContent.Create(new { priority = "high" }));
        yield return (_agent, HttpMethod.Post, $"/api/v1/tickets/{number}/replies", JsonContent.Create(new { text = "Смотрим" }));
        yield return (_agent, HttpMethod.Get, $"/api/v1/tickets/{number}/attachments/1", null);
        yield return (_intake, HttpMethod.Get, $"/api/v1/requests/{number}", null);
        yield return (_intake, HttpMethod.Post, $"/api/v1/requests/{number}/messages", JsonContent.Create(new { text = "ещё", contact }));
        yield return (_intake, HttpMethod.Post, $"/api/v1/requests/{number}/close", JsonContent.Create(new { contact }));
        yield return (_visitor, HttpMethod.Get, $"/webchat/api/requests/{number}", null);
        yield return (_visitor, HttpMethod.Post, $"/webchat/api/requests/{number}/messages",
            new MultipartFormDataContent { { new StringContent("ещё"), "description" } });
        yield return (_visitor, HttpMethod.Post, $"/webchat/api/requests/{number}/close", null);
    }

    [Test]
    public async Task A_malformed_ticket_number_is_400_and_an_unknown_one_404_on_every_route()
    {
        var lastDigit = _number[^1] - '0';
        var wrongCheckDigit = _number[..^1] + (char)('0' + (lastDigit + 1) % 10);
        var unknown = new TicketNumberFormat().Render(987654);
        foreach (var (number, expected) in new[] { ("not-a-ticket", HttpStatusCode.BadRequest), (wrongCheckDigit, HttpStatusCode.BadRequest), (unknown, HttpStatusCode.NotFound) })
        {
            foreach (var (client, method, path, body) in NumberRoutes(number))
            {
                var response = await client.SendAsync(new HttpRequestMessage(method, path) { Content = body });
                Assert.That(response.StatusCode, Is.EqualTo(expected), $"{method} {path}");
                Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"), $"{method} {path}");
                if (expected == HttpStatusCode.BadRequest)
                    Assert.That((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), Does.Contain("is not a ticket number"));
            }
        }
    }

    [Test]
    public async Task Assignee_must_be_a_configured_agent()
    {
        var stranger = await _agent.PatchAsJsonAsync($"/api/v1/tickets/{_number}", new { assignee = "boris@nowhere.example" });
        var agent = await _agent.PatchAsJsonAsync($"/api/v1/tickets/{_number}", new { assignee = GatewayFactory.AgentEmail.ToUpperInvariant() });
        var cleared = await _agent.PatchAsJsonAsync($"/api/v1/tickets/{_number}", new { assignee = "" });

        Assert.That(stranger.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        var problem = await stranger.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That(problem.GetProperty("field").GetString(), Is.EqualTo("assignee"));
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain(GatewayFactory.AgentEmail));
        Assert.That(agent.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await agent.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("assignee").GetString(), Is.EqualTo(GatewayFactory.AgentEmail),
            "stored as configured, so notifications find the agent");
        Assert.That((await cleared.Content.ReadFromJsonAsync<JsonElement>()).TryGetProperty("assignee", out var none) ? none.ValueKind : JsonValueKind.Null,
            Is.EqualTo(JsonValueKind.Null));
    }

    [Test]
    public async Task An_empty_patch_is_400_and_changes_nothing()
    {
        var before = await _agent.GetStringAsync($"/api/v1/tickets/{_number}");
        var empty = await _agent.PatchAsync($"/api/v1/tickets/{_number}", Json("{}"));
        var nulls = await _agent.PatchAsync($"/api/v1/tickets/{_number}", Json("""{"status": null, "assignee": null}"""));
        var after = await _agent.GetStringAsync($"/api/v1/tickets/{_number}");

        Assert.That(empty.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That((await empty.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), Does.StartWith("Nothing to change"));
        Assert.That(nulls.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(after, Is.EqualTo(before));
    }
}
