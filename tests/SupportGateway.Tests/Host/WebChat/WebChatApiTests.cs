using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.WebChat;

/// <summary>The widget's API without a browser: bad input and strangers.</summary>
public sealed class WebChatApiTests
{
    private GatewayFactory _gateway = null!;
    private HttpClient _client = null!;

    [SetUp]
    public void SetUp()
    {
        _gateway = new GatewayFactory(new Dictionary<string, string?> { ["SupportGateway:Channels:WebChat:MaxAttachmentBytes"] = "1000" });
        _client = _gateway.CreateClient();
    }

    [TearDown]
    public void TearDown()
    {
        _client.Dispose();
        _gateway.Dispose();
    }

    private static MultipartFormDataContent Form(string? description, byte[]? file = null)
    {
        // As a browser sends it: every field of the form, some of them empty or missing.
        var form = new MultipartFormDataContent { { new StringContent("Ivan"), "name" } };
        if (description is not null)
            form.Add(new StringContent(description), "description");
        if (file is not null)
            form.Add(new ByteArrayContent(file), "files", "screen.png");
        return form;
    }

    [Test]
    public async Task Oversized_file_is_413_and_writes_nothing()
    {
        var response = await _client.PostAsync("/webchat/api/requests", Form("printer", new byte[2000]));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge));
        Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("application/problem+json"));
        Assert.That((await DbProbe.CountsAsync(_gateway.Directory))["inbound"], Is.Zero);
    }

    [Test]
    public async Task Missing_description_names_the_field()
    {
        var response = await _client.PostAsync("/webchat/api/requests", Form(null));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString(), Is.EqualTo("description"));
    }

    [Test]
    public async Task A_new_visitor_gets_a_token_and_only_that_token_reaches_the_request()
    {
        var created = await _client.PostAsync("/webchat/api/requests", Form("Не работает печать", SampleFiles.OnePixelPng));
        Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        var token = body.GetProperty("token").GetString()!;
        var number = body.GetProperty("conversation").GetProperty("ticket").GetProperty("number").GetString()!;

        using var owner = _gateway.CreateClient();
        owner.DefaultRequestHeaders.Add("X-Visitor-Token", token);
        using var stranger = _gateway.CreateClient();
        stranger.DefaultRequestHeaders.Add("X-Visitor-Token", new string('z', 43));

        Assert.That((await owner.GetAsync($"/webchat/api/requests/{number}")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await stranger.GetAsync($"/webchat/api/requests/{number}")).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        var followUp = await stranger.PostAsync($"/webchat/api/requests/{number}/messages", Form(null));
        Assert.That(followUp.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "a stranger cannot post into it either");
        var attachmentId = body.GetProperty("conversation").GetProperty("messages")[0].GetProperty("attachments")[0].GetProperty("id").GetInt64();
        Assert.That((await stranger.GetAsync($"/webchat/api/attachments/{attachmentId}")).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(await (await owner.GetAsync($"/webchat/api/attachments/{attachmentId}")).Content.ReadAsByteArrayAsync(), Is.EqualTo(SampleFiles.OnePixelPng));
    }

    [Test]
    public async Task After_a_resolution_the_visitor_sees_the_notice_and_a_thank_you_closes_the_ticket_as_confirmed()
    {
        var created = await (await _client.PostAsync("/webchat/api/requests", Form("Не приходит письмо с паролем"))).Content.ReadFromJsonAsync<JsonElement>();
        var number = created.GetProperty("conversation").GetProperty("ticket").GetProperty("number").GetString()!;
        using var visitor = _gateway.CreateClient();
        visitor.DefaultRequestHeaders.Add("X-Visitor-Token", created.GetProperty("token").GetString());
        using var agent = _gateway.Agent();
        var resolved = await agent.PatchAsJsonAsync($"/api/v1/tickets/{number}", new { status = "resolved", resolution = "solved" });
        Assert.That(resolved.StatusCode, Is.EqualTo(HttpStatusCode.OK));

        var conversation = await visitor.GetFromJsonAsync<JsonElement>($"/webchat/api/requests/{number}");
        Assert.That(conversation.GetProperty("messages").EnumerateArray().Last().GetProperty("text").GetString(), Does.Contain("отмечено как решённое"));
        var thanks = new MultipartFormDataContent { { new StringContent("Спасибо, всё пришло!"), "text" } };
        Assert.That((await visitor.PostAsync($"/webchat/api/requests/{number}/messages", thanks)).IsSuccessStatusCode, Is.True);

        var ticket = await agent.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{number}");
        Assert.That(ticket.GetProperty("ticket").GetProperty("status").GetString(), Is.EqualTo("closed"));
        Assert.That(ticket.GetProperty("audit").EnumerateArray().Select(a => a.GetProperty("action").GetString()), Does.Contain("customer_confirmed"));
    }
}
