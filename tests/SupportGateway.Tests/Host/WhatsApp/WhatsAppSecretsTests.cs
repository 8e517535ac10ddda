using System.Net;
using System.Security.Cryptography;
using System.Text;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.WhatsApp;

/// <summary>
/// The gateway process at its most verbose (Trace) with both providers on: webhooks in, acknowledgements out to the
/// doubles. Nothing it writes may contain the Twilio auth token, the Cloud API access token or the app secret,
/// nor the basic-auth credentials Twilio's calls carry.
/// </summary>
[NonParallelizable]
public sealed class WhatsAppSecretsTests
{
    private const string AuthToken = "twilio-auth-9f1c2e7a4b";
    private const string AppSecret = "meta-app-secret-5d8e3b0c1a";
    private const string WebhookUrl = "https://support.example/webhooks/whatsapp/twilio";

    [Test]
    public async Task The_gateway_never_logs_the_auth_token_access_token_or_app_secret_even_at_trace()
    {
        await using var twilio = new FakeTwilioApi(AuthToken);
        await using var graph = new FakeGraphApi();
        var directory = TempDirectory.Create();
        var port = GatewayProcess.FreePort();
        var env = GatewayProcess.Environment(directory, port);
        env["Logging__LogLevel__Default"] = "Trace";
        // appsettings.json quiets these categories by name; a name beats Default, so each is raised too.
        env["Logging__LogLevel__Microsoft.AspNetCore"] = "Trace";
        env["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Trace";
        env["SupportGateway__Channels__WhatsApp__Twilio__AccountSid"] = FakeTwilioApi.AccountSid;
        env["SupportGateway__Channels__WhatsApp__Twilio__AuthToken"] = AuthToken;
        env["SupportGateway__Channels__WhatsApp__Twilio__From"] = "whatsapp:+14155238886";
        env["SupportGateway__Channels__WhatsApp__Twilio__WebhookUrl"] = WebhookUrl;
        env["SupportGateway__Channels__WhatsApp__PublicBaseUrl"] = "https://support.example.com";
        env["SupportGateway__Channels__WhatsApp__Twilio__ApiBaseUrl"] = twilio.BaseUrl;
        env["SupportGateway__Channels__WhatsApp__Cloud__PhoneNumberId"] = FakeGraphApi.PhoneNumberId;
        env["SupportGateway__Channels__WhatsApp__Cloud__AccessToken"] = FakeGraphApi.Token;
        env["SupportGateway__Channels__WhatsApp__Cloud__AppSecret"] = AppSecret;
        env["SupportGateway__Channels__WhatsApp__Cloud__VerifyToken"] = "verify-token-of-our-choosing";
        env["SupportGateway__Channels__WhatsApp__Cloud__ApiBaseUrl"] = graph.BaseUrl;
        env["SupportGateway__Channels__WhatsApp__Cloud__ApiVersion"] = FakeGraphApi.Version;
        var baseAddress = new Uri($"http://127.0.0.1:{port}");

        string output;
        using (var gateway = GatewayProcess.Start(directory, env))
        {
            await gateway.WaitHealthyAsync(baseAddress, TimeSpan.FromSeconds(60));
            using var client = new HttpClient { BaseAddress = baseAddress };
            for (var i = 1; i <= 3; i++)
            {
                var fields = FakeTwilioApi.Inbound($"SM{i:x32}", $"+7916000000{i}", $"Нет доступа к кабинету {i}");
                using var twilioAnswer = await client.SendAsync(FakeTwilioApi.WebhookRequest(WebhookUrl, fields, AuthToken));
                using var cloudAnswer = await client.SendAsync(CloudDelivery($"wamid.SECRETS{i}", $"7926000000{i}"));
                Assert.That((twilioAnswer.StatusCode, cloudAnswer.StatusCode), Is.EqualTo((HttpStatusCode.OK, HttpStatusCode.OK)));
            }
            // A wrong signature is refused: the refusal must not print what it compared against either.
            using var forged = await client.SendAsync(FakeTwilioApi.WebhookRequest(WebhookUrl, FakeTwilioApi.Inbound("SMforged", "+79160000009", "x"), "wrong"));
            Assert.That(forged.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while ((twilio.Messages.Count < 3 || graph.Messages.Count < 3) && DateTime.UtcNow < deadline)
                await Task.Delay(50);
            Assert.That((twilio.Messages.Count, graph.Messages.Count), Is.EqualTo((3, 3)), "the acknowledgements went out through both providers");
            output = gateway.Output;
        }

        Assert.That(output, Does.Contain("trce: Microsoft.AspNetCore"), "the gateway logged at its most verbose, the framework's categories too");
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{FakeTwilioApi.AccountSid}:{AuthToken}"));
        foreach (var secret in new[] { AuthToken, FakeGraphApi.Token, AppSecret, basic })
            Assert.That(output, Does.Not.Contain(secret), $"the gateway's output holds a secret ({secret[..6]}…)");
        TestContext.Out.WriteLine($"{output.Split('\n').Length} lines of output, none with a secret");
    }

    /// <summary>One text message as Meta delivers it (the pywa fixture), signed with the app secret over its bytes.</summary>
    private static HttpRequestMessage CloudDelivery(string wamid, string from)
    {
        var body = File.ReadAllText(Corpus.Path("whatsapp", "meta-cloud-api", "pywa", "message__text.json"))
            .Replace("1122334455667", FakeGraphApi.PhoneNumberId, StringComparison.Ordinal)
            .Replace("wamid.xyzxyz", wamid, StringComparison.Ordinal)
            .Replace("972987654321", from, StringComparison.Ordinal);
        var bytes = Encoding.UTF8.GetBytes(body);
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/whatsapp/cloud") { Content = content };
        request.Headers.Add("X-Hub-Signature-256",
            "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(AppSecret), bytes)));
        return request;
    }
}
