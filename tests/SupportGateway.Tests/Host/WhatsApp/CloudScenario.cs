using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using SupportGateway.Core.Outbox;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.WhatsApp;

/// <summary>The gateway with the Cloud API on, against <see cref="FakeGraphApi"/>; webhooks are signed here as Meta signs them.</summary>
public abstract class CloudScenario : WhatsAppScenario
{
    private protected const string AppSecret = "test-app-secret-never-logged";
    private protected const string VerifyToken = "test-verify-token-0001";
    private protected const string Customer = "79161234567";

    private protected FakeGraphApi Graph = null!;

    /// <summary>Meta calls the webhook from outside: a plain client, no agent key.</summary>
    private protected HttpClient Meta => _meta ??= Gateway.CreateClient();

    private HttpClient? _meta;

    private protected override Dictionary<string, string?> StartProvider()
    {
        _meta = null;
        Graph = new FakeGraphApi { Webhook = PostAsync };
        return new()
        {
            ["SupportGateway:Channels:WhatsApp:Cloud:PhoneNumberId"] = FakeGraphApi.PhoneNumberId,
            ["SupportGateway:Channels:WhatsApp:Cloud:AccessToken"] = FakeGraphApi.Token,
            ["SupportGateway:Channels:WhatsApp:Cloud:AppSecret"] = AppSecret,
            ["SupportGateway:Channels:WhatsApp:Cloud:VerifyToken"] = VerifyToken,
            ["SupportGateway:Channels:WhatsApp:Cloud:ApiBaseUrl"] = Graph.BaseUrl,
            ["SupportGateway:Channels:WhatsApp:Cloud:ApiVersion"] = FakeGraphApi.Version,
        };
    }

    private protected override async ValueTask StopProviderAsync()
    {
        _meta?.Dispose();
        await Graph.DisposeAsync();
    }

    /// <summary>POSTs a body to the webhook as Meta does: the signature over exactly these bytes (or the one given).</summary>
    private protected async Task<HttpResponseMessage> PostAsync(byte[] body, string? signature = null)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/whatsapp/cloud") { Content = content };
        request.Headers.Add("X-Hub-Signature-256", signature ?? Sign(body));
        return await Meta.SendAsync(request);
    }

    private protected Task<HttpResponseMessage> PostAsync(JsonNode body) => PostAsync(Encoding.UTF8.GetBytes(body.ToJsonString()));

    private protected static string Sign(byte[] body) => "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(AppSecret), body));

    /// <summary>A corpus delivery (pywa) with its first message's id, sender and text replaced for a scenario.</summary>
    private protected static JsonObject Delivery(string fixture, string wamid, string from = Customer, string? text = null, string? replyTo = null)
    {
        var body = (JsonObject)JsonNode.Parse(File.ReadAllText(Corpus.Path("whatsapp", "meta-cloud-api", "pywa", fixture)))!;
        var value = body["entry"]![0]!["changes"]![0]!["value"]!;
        value["metadata"]!["phone_number_id"] = FakeGraphApi.PhoneNumberId;
        value["contacts"]![0]!["wa_id"] = from;
        value["contacts"]![0]!["profile"]!["name"] = "Иван Петров";
        var message = value["messages"]![0]!;
        message["id"] = wamid;
        message["from"] = from;
        if (text is not null)
            message["text"]!["body"] = text;
        if (replyTo is not null)
            message["context"] = new JsonObject { ["from"] = "15550783881", ["id"] = replyTo };
        return body;
    }

    /// <summary>A member's message in a Cloud API group: Meta's message with <c>group_id</c>, from the member who wrote it.</summary>
    private protected static JsonObject GroupDelivery(string groupId, string wamid, string from, string text, string? replyTo = null)
    {
        var body = Delivery("message__text.json", wamid, from, text, replyTo);
        body["entry"]![0]!["changes"]![0]!["value"]!["messages"]![0]!["group_id"] = groupId;
        return body;
    }

    /// <summary>A status event for one of our messages.</summary>
    private protected static JsonObject Status(string wamid, string status, string to = Customer)
    {
        var body = (JsonObject)JsonNode.Parse(File.ReadAllText(Corpus.Path("whatsapp", "meta-cloud-api", "pywa", $"message_status__{(status == "failed" ? "failed" : "delivered")}.json")))!;
        var item = body["entry"]![0]!["changes"]![0]!["value"]!["statuses"]![0]!;
        item["id"] = wamid;
        item["status"] = status;
        item["recipient_id"] = to;
        return body;
    }

    private protected async Task<JsonObject> SentAsync(Func<JsonObject, bool> match, int seconds = 15)
    {
        JsonObject? found = null;
        await Eventually.HoldsAsync(() => Task.FromResult((found = Graph.Messages.LastOrDefault(match)) is not null), seconds,
            () => "sent: " + string.Join(" | ", Graph.Messages.Select(m => m.ToJsonString())));
        return found!;
    }

    private protected static string Body(JsonObject sent) =>
        (sent["text"]?["body"] ?? sent["interactive"]?["body"]?["text"])?.GetValue<string>() ?? "";

    /// <summary>The acknowledgement answering <paramref name="wamid"/>, and the ticket number in it.</summary>
    private protected async Task<(JsonObject Ack, string Number)> AckAsync(string wamid, int seconds = 15)
    {
        var ack = await SentAsync(m => m["context"]?["message_id"]?.GetValue<string>() == wamid && Regex.IsMatch(Body(m), @"SG-\d+"), seconds);
        return (ack, Regex.Match(Body(ack), @"SG-\d+").Value);
    }

    private protected Task<JsonElement> TicketAsync(string number) => Agent.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{number}");

    private protected async Task<string> StatusOfAsync(string number) => (await TicketAsync(number)).GetProperty("ticket").GetProperty("status").GetString()!;

    private protected async Task<List<JsonElement>> InboundOfAsync(string number) =>
        [.. (await TicketAsync(number)).GetProperty("messages").EnumerateArray().Where(m => m.GetProperty("direction").GetString() == "in")];

    private protected Task<long> PendingAsync() => DbProbe.ScalarAsync<long>(Gateway.Directory, "SELECT COUNT(*) FROM inbound WHERE state = 'pending'");

}
