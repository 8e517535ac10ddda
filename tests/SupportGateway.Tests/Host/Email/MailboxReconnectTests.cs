using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MailKit;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Email;

/// <summary>The reader against the real Dovecot through a relay the test cuts: the session breaks, the reader reconnects, nothing is lost.</summary>
[NonParallelizable]
public sealed class MailboxReconnectTests
{
    [OneTimeSetUp]
    public Task Servers() => MailServers.EnsureStartedAsync();

    [Test]
    public async Task A_broken_connection_is_reopened_and_mail_that_arrived_meanwhile_is_read()
    {
        var user = "support" + Guid.NewGuid().ToString("N")[..10] + "@sg.test";
        await using var relay = new TcpRelay(MailServers.Host, MailServers.ImapPort);
        var settings = MailServers.MailboxSettings(user);
        settings["SupportGateway:Channels:Email:Mailboxes:0:Imap:Port"] = relay.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["SupportGateway:Channels:Email:AgentNotifications:NotifyAssignee"] = "false";
        using var gateway = new GatewayFactory(settings);
        var agent = gateway.Agent();
        using var imap = await MailServers.ImapAsync(user);

        await imap.Inbox.AppendAsync(Mail("before", "До обрыва"));
        await Eventually.HoldsAsync(async () => (await SubjectsAsync(agent)).Count == 1, 20, () => "the first mail became a ticket");

        relay.Cut();
        await imap.Inbox.AppendAsync(Mail("after", "После обрыва"));

        await Eventually.HoldsAsync(async () => (await SubjectsAsync(agent)).Count == 2, 30, () => $"the reader reconnected ({relay.Accepted} connections) and read the second mail");
        Assert.That(relay.Accepted, Is.GreaterThanOrEqualTo(2));
        Assert.That(await SubjectsAsync(agent), Is.EquivalentTo(new[] { "До обрыва", "После обрыва" }));
        Assert.That(await agent.GetStringAsync("/healthz"), Does.Contain("email:support: up"));
    }

    private static async Task<List<string?>> SubjectsAsync(HttpClient agent) =>
        [.. (await agent.GetFromJsonAsync<JsonElement>("/api/v1/tickets")).EnumerateArray().Select(t => t.GetProperty("subject").GetString())];

    private static MimeKit.MimeMessage Mail(string id, string subject) => MimeKit.MimeMessage.Load(new MemoryStream(Encoding.UTF8.GetBytes(
        $"From: customer@sg.test\r\nTo: support@sg.test\r\nSubject: =?utf-8?B?{Convert.ToBase64String(Encoding.UTF8.GetBytes(subject))}?=\r\n" +
        $"Message-ID: <{id}.{Guid.NewGuid():N}@client.sg.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{subject}\r\n")));
}
