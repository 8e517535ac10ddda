using System.Net.Http.Json;
using System.Text.Json;
using MimeKit;
using MimeKit.Text;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Email;

/// <summary>
/// A customer's mail full of script, through the real Postfix and Dovecot: what the agents get (the notification mail,
/// the HTML the agent API serves) carries none of it as anything but text.
/// </summary>
[NonParallelizable]
public sealed class HostileMailTests
{
    private string _support = "";
    private string _agentAddress = "";
    private GatewayFactory _gateway = null!;
    private HttpClient _agent = null!;

    [OneTimeSetUp]
    public Task Servers() => MailServers.EnsureStartedAsync();

    [SetUp]
    public void StartGateway()
    {
        var id = Guid.NewGuid().ToString("N")[..10];
        _support = $"support{id}@sg.test";
        _agentAddress = $"support{id}agent@sg.test"; // the test Postfix delivers to support<anything>@sg.test
        var settings = MailServers.MailboxSettings(_support);
        settings["SupportGateway:Channels:Email:AgentNotifications:To"] = _agentAddress;
        settings["SupportGateway:Channels:Email:AgentNotifications:Secret"] = "test-secret-that-signs-reply-tokens-0001";
        _gateway = new GatewayFactory(settings);
        _agent = _gateway.Agent(); // starts the gateway, and with it the mailbox reader
    }

    [TearDown]
    public void StopGateway()
    {
        _agent.Dispose();
        _gateway.Dispose();
    }

    [Test]
    public async Task Script_in_a_customers_mail_reaches_the_agents_notification_and_the_agent_api_only_as_text()
    {
        var marker = Guid.NewGuid().ToString("N");
        var body = new BodyBuilder
        {
            TextBody = $"{marker}\n{ActiveContent.All}",
            HtmlBody = $"<html><body><p>{marker}</p>{ActiveContent.All}</body></html>",
        };
        body.Attachments.Add("invoice.html", "<html><body onload=alert(1)><script>alert(2)</script></body></html>"u8.ToArray(), ContentType.Parse("text/html"));
        body.Attachments.Add("logo.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(3)\"/>"u8.ToArray(), ContentType.Parse("image/svg+xml"));
        var mail = new MimeMessage([new MailboxAddress("<img src=x onerror=alert(4)> Иван", "customer@sg.test")], [MailboxAddress.Parse(_support)],
            $"<script>alert(5)</script> {marker}", body.ToMessageBody());
        await MailServers.SubmitAsync("customer@sg.test", mail);

        var notification = await MimeMessage.LoadAsync(new MemoryStream(await MailServers.WaitForDeliveryAsync(_agentAddress, marker)));

        Assert.That(notification.HtmlBody, Is.Null, "the notification is plain text");
        // A mail client shows plain text as HTML it makes itself, escaping the text and linking URLs: MimeKit's converter does the same.
        var shown = new TextToHtml { OutputHtmlFragment = false }.Convert(notification.TextBody ?? "");
        Assert.That(ActiveContent.Find(shown), Is.Empty);
        Assert.That(notification.TextBody, Does.Contain("<script>alert('sg-xss-1')</script>"), "the customer's words are all there, as text");
        Assert.That(notification.Headers.Where(h => h.Field is "Bcc" or "Cc").ToList(), Is.Empty);
        var files = notification.Attachments.OfType<MimePart>().Select(p => (p.FileName, p.ContentType.MimeType, p.ContentDisposition?.Disposition)).ToList();
        Assert.That(files, Is.EquivalentTo(new[]
        {
            ("invoice.html", "application/octet-stream", "attachment"), ("logo.svg", "application/octet-stream", "attachment"),
        }), "pages and SVG travel as plain files, never as something a mail client renders");

        var agent = _agent;
        var number = System.Text.RegularExpressions.Regex.Match(notification.Subject ?? "", @"\[(SG-\d+)\]").Groups[1].Value;
        var message = (await agent.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{number}")).GetProperty("messages")[0];
        var html = message.GetProperty("html").GetString()!;
        Assert.That(html, Does.Contain(marker));
        Assert.That(ActiveContent.Find(html), Is.Empty, "the sanitised HTML an agent's screen may render");
    }

    [Test]
    public void Every_payload_alone_is_defused_by_the_sanitiser()
    {
        foreach (var payload in ActiveContent.Payloads)
        {
            var clean = SupportGateway.Mail.Mime.HtmlSanitizing.Sanitize($"<html><body><p>before</p>{payload}<p>after</p></body></html>") ?? "";
            Assert.That(ActiveContent.Find(clean), Is.Empty, payload);
        }
    }
}
