using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Api;

/// <summary>The agent API shows people, not ids: authors, audit actors and the requester's account number.</summary>
public sealed class PeopleTests
{
    private GatewayFactory _gateway = null!;
    private HttpClient _agent = null!;

    [SetUp]
    public void SetUp()
    {
        _gateway = new GatewayFactory();
        _agent = _gateway.Agent();
    }

    [TearDown]
    public void TearDown()
    {
        _agent.Dispose();
        _gateway.Dispose();
    }

    [Test]
    public async Task Intake_contact_keeps_its_account_number_and_the_audit_names_people()
    {
        using var intake = _gateway.Intake();
        var created = await intake.PostAsJsonAsync("/api/v1/requests", new
        {
            description = "Отчёт не выгружается",
            contact = new { name = "Иван Петров", email = "ivan@example.ru", accountNumber = "ACME-42" },
        });
        var number = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ticketNumber").GetString()!;
        await intake.PostAsJsonAsync($"/api/v1/requests/{number}/messages", new { text = "Всё ещё", contact = new { email = "ivan@example.ru" } });
        await _agent.PostAsJsonAsync($"/api/v1/tickets/{number}/replies", new { text = "Смотрим" });

        var ticket = await _agent.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{number}");

        Assert.That(ticket.GetProperty("requester").GetProperty("accountNumber").GetString(), Is.EqualTo("ACME-42"));
        var messages = ticket.GetProperty("messages").EnumerateArray().Where(m => m.GetProperty("authorKind").GetString() == "customer").ToList();
        Assert.That(messages.Select(m => m.GetProperty("author").GetString()), Is.EqualTo(new[] { "Иван Петров", "Иван Петров" }),
            "a follow-up without a name is signed with the name given before");
        var audit = ticket.GetProperty("audit").EnumerateArray().ToList();
        Assert.That(audit.First(a => a.GetProperty("action").GetString() == "created").GetProperty("by").GetString(), Is.EqualTo("Иван Петров"));
        Assert.That(audit.First(a => a.GetProperty("action").GetString() == "created").GetProperty("actor").GetString(), Does.StartWith("customer:"));
        Assert.That(audit.Last(a => a.GetProperty("action").GetString() == "message_added").GetProperty("by").GetString(), Is.EqualTo("Anna"));
    }

    [Test]
    public async Task A_web_chat_follow_up_is_authored_by_the_name_the_visitor_gave()
    {
        using var visitor = _gateway.CreateClient();
        var created = await visitor.PostAsync("/webchat/api/requests",
            new MultipartFormDataContent { { new StringContent("Марина"), "name" }, { new StringContent("Не печатает"), "description" } });
        Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        var number = body.GetProperty("conversation").GetProperty("ticket").GetProperty("number").GetString()!;
        visitor.DefaultRequestHeaders.Add("X-Visitor-Token", body.GetProperty("token").GetString());

        var followUp = await visitor.PostAsync($"/webchat/api/requests/{number}/messages",
            new MultipartFormDataContent { { new StringContent("Всё ещё не печатает"), "text" } });
        Assert.That(followUp.StatusCode, Is.EqualTo(HttpStatusCode.Created));

        var ticket = await _agent.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{number}");
        var authors = ticket.GetProperty("messages").EnumerateArray().Where(m => m.GetProperty("authorKind").GetString() == "customer")
            .Select(m => m.GetProperty("author").GetString()).ToList();
        Assert.That(authors, Is.EqualTo(new[] { "Марина", "Марина" }));
        Assert.That(ticket.GetProperty("audit").EnumerateArray().Select(a => a.GetProperty("by").GetString()), Has.None.StartsWith("v:").And.None.StartsWith("customer:"));
    }
}
