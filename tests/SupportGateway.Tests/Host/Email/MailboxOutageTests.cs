using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MailKit;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Email;

/// <summary>
/// The real Dovecot out of reach for a while: the mailbox's IMAP port is a relay the test closes (connections cut,
/// then refused) and opens again on the same port. Mail that arrived meanwhile is read when it returns; none is lost,
/// none makes a second ticket.
/// </summary>
[NonParallelizable]
public sealed class MailboxOutageTests
{
    [OneTimeSetUp]
    public Task Servers() => MailServers.EnsureStartedAsync();

    [Test]
    public async Task Mail_that_arrived_while_imap_was_unreachable_is_read_once_when_it_returns()
    {
        var marker = Guid.NewGuid().ToString("N")[..10];
        var user = $"support{marker}@sg.test";
        var relay = new TcpRelay(MailServers.Host, MailServers.ImapPort);
        var port = relay.Port;
        var settings = MailServers.MailboxSettings(user);
        settings["SupportGateway:Channels:Email:Mailboxes:0:Imap:Port"] = port.ToString(CultureInfo.InvariantCulture);
        settings["SupportGateway:Channels:Email:AgentNotifications:NotifyAssignee"] = "false";
        using var gateway = new GatewayFactory(settings);
        var agent = gateway.Agent();
        try
        {
            using var imap = await MailServers.ImapAsync(user);
            await imap.Inbox.AppendAsync(Mail($"До сбоя {marker}"));
            await Eventually.HoldsAsync(async () => (await SubjectsAsync(agent)).Count == 1, 20, () => "the first mail became a ticket");

            await relay.DisposeAsync();
            await Eventually.HoldsAsync(async () => (await HealthAsync(agent)).Contains("email:support: down", StringComparison.Ordinal), 30,
                () => "the reader noticed the server is gone");
            await imap.Inbox.AppendAsync(Mail($"Во время сбоя 1 {marker}"));
            await imap.Inbox.AppendAsync(Mail($"Во время сбоя 2 {marker}"));
            await Task.Delay(TimeSpan.FromSeconds(2)); // a reconnect attempt or two against the closed port

            relay = new TcpRelay(MailServers.Host, MailServers.ImapPort, port);
            await Eventually.HoldsAsync(async () => (await SubjectsAsync(agent)).Count >= 3, 60, () => "the mail of the outage was read");
            await Eventually.HoldsAsync(async () => (await HealthAsync(agent)).Contains("email:support: up", StringComparison.Ordinal), 30);
            await imap.Inbox.AppendAsync(Mail($"После сбоя {marker}"));
            await Eventually.HoldsAsync(async () => (await SubjectsAsync(agent)).Count >= 4, 30, () => "the mailbox is read again as usual");

            Assert.That(await SubjectsAsync(agent), Is.EquivalentTo(new[]
            {
                $"До сбоя {marker}", $"Во время сбоя 1 {marker}", $"Во время сбоя 2 {marker}", $"После сбоя {marker}",
            }), "each mail is one ticket: none lost, none twice");
        }
        finally
        {
            agent.Dispose();
            await relay.DisposeAsync();
        }
    }

    /// <summary>The health page, also while it says 503 (a channel down).</summary>
    private static async Task<string> HealthAsync(HttpClient client) => await (await client.GetAsync("/healthz")).Content.ReadAsStringAsync();

    private static async Task<List<string?>> SubjectsAsync(HttpClient agent) =>
        [.. (await agent.GetFromJsonAsync<JsonElement>("/api/v1/tickets")).EnumerateArray().Select(t => t.GetProperty("subject").GetString())];

    private static MimeKit.MimeMessage Mail(string subject) => MimeKit.MimeMessage.Load(new MemoryStream(Encoding.UTF8.GetBytes(
        $"From: customer@sg.test\r\nTo: support@sg.test\r\nSubject: =?utf-8?B?{Convert.ToBase64String(Encoding.UTF8.GetBytes(subject))}?=\r\n" +
        $"Message-ID: <{Guid.NewGuid():N}@client.sg.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{subject}\r\n")));
}
