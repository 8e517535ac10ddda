using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SupportGateway.Core.Outbox;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.WhatsApp;

/// <summary>A gateway with Twilio's WhatsApp on, its REST API at a double; scenarios post signed webhooks and read what was sent.</summary>
public abstract class TwilioScenario : WhatsAppScenario
{
    /// <summary>The public URL of the corpus's webhooks: configured, so their own signatures hold.</summary>
    private protected const string WebhookUrl = "https://support.example.com/webhooks/twilio/whatsapp";
    private protected const string StatusUrl = "https://support.example.com/webhooks/twilio/whatsapp/status";
    private protected const string Sender = "whatsapp:+14155238886";
    private protected const string PublicBaseUrl = "https://support.example.com";

    private protected FakeTwilioApi Twilio = null!;

    /// <summary>Where status callbacks are configured to go; a corpus test sets the corpus's own URL.</summary>
    private protected virtual string StatusCallbackUrl => StatusUrl;

    /// <summary>Twilio calls the webhook from outside: a plain client, no agent key.</summary>
    private protected HttpClient Client => _client ??= Gateway.CreateClient();

    private HttpClient? _client;

    private protected override Dictionary<string, string?> StartProvider()
    {
        _client = null;
        Twilio = new FakeTwilioApi();
        return new()
        {
            ["SupportGateway:Channels:WhatsApp:Twilio:AccountSid"] = FakeTwilioApi.AccountSid,
            ["SupportGateway:Channels:WhatsApp:Twilio:AuthToken"] = FakeTwilioApi.AuthToken,
            ["SupportGateway:Channels:WhatsApp:Twilio:From"] = Sender,
            ["SupportGateway:Channels:WhatsApp:Twilio:WebhookUrl"] = WebhookUrl,
            ["SupportGateway:Channels:WhatsApp:PublicBaseUrl"] = PublicBaseUrl,
            ["SupportGateway:Channels:WhatsApp:Twilio:StatusCallbackUrl"] = StatusCallbackUrl,
            ["SupportGateway:Channels:WhatsApp:Twilio:ApiBaseUrl"] = Twilio.BaseUrl,
            ["SupportGateway:Outbox:FirstRetryDelay"] = "00:00:00.200",
        };
    }

    /// <summary>The double reaches the gateway's public URL through the gateway's own handler, as Twilio would through the proxy.</summary>
    [SetUp]
    public void ConnectMediaFetcher() => Twilio.MediaFetcher = Gateway.CreateClient();

    private protected override async ValueTask StopProviderAsync()
    {
        _client?.Dispose();
        await Twilio.DisposeAsync();
    }

    /// <summary>Posts fields as Twilio does: form-encoded, signed for <paramref name="signedUrl"/> unless a signature is given.</summary>
    private protected Task<HttpResponseMessage> PostAsync(Dictionary<string, string> fields, string? signature = null, string path = "/webhooks/whatsapp/twilio",
        string signedUrl = WebhookUrl)
    {
        var body = string.Join('&', fields.Select(f => $"{Uri.EscapeDataString(f.Key)}={Uri.EscapeDataString(f.Value)}"));
        return PostRawAsync(body, signature ?? FakeTwilioApi.Sign(signedUrl, fields), path);
    }

    private protected Task<HttpResponseMessage> PostRawAsync(string formBody, string? signature, string path = "/webhooks/whatsapp/twilio")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(formBody, Encoding.UTF8, "application/x-www-form-urlencoded") };
        if (signature is not null)
            request.Headers.Add("X-Twilio-Signature", signature);
        return Client.SendAsync(request);
    }

    /// <summary>A customer's message, posted and answered 200 with empty TwiML.</summary>
    private protected async Task SendAsync(string sid, string from, string text, Action<Dictionary<string, string>>? change = null)
    {
        var fields = FakeTwilioApi.Inbound(sid, from, text);
        change?.Invoke(fields);
        var response = await PostAsync(fields);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
    }

    /// <summary>The first message the double got for <paramref name="to"/> that matches.</summary>
    private protected async Task<Dictionary<string, string>> SentAsync(string to, Func<Dictionary<string, string>, bool>? match = null, int seconds = 15)
    {
        Dictionary<string, string>? found = null;
        await Eventually.HoldsAsync(() => Task.FromResult((found = Twilio.Messages.FirstOrDefault(m => m["To"] == "whatsapp:" + to && (match?.Invoke(m) ?? true))) is not null), seconds);
        return found!;
    }

    /// <summary>Waits for the inbound row of a MessageSid to be processed; its ticket's number.</summary>
    private protected async Task<string> ProcessedAsync(string sid)
    {
        await Eventually.HoldsAsync(async () => await DbProbe.ScalarAsync<long>(Gateway.Directory,
            "SELECT COUNT(*) FROM inbound WHERE external_id = @id AND state <> 'pending'", new { id = "tw:" + sid }) == 1);
        return await DbProbe.ScalarAsync<string>(Gateway.Directory,
            "SELECT t.number FROM inbound i JOIN tickets t ON t.id = i.ticket_id WHERE i.external_id = @id", new { id = "tw:" + sid }) ?? "";
    }

    private protected Task<JsonElement> TicketAsync(string number) => Agent.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{number}");

}
