using System.Globalization;
using System.Text;
using MailKit;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Outbox;

/// <summary>
/// The real Postfix out of reach for 10 minutes and for 6 hours of simulated time: the mailbox's SMTP port is a relay
/// the test closes (connections refused) and opens again on the same port. The customer's mail is read back from the
/// real Dovecot: each message once, and in the order sent (each one's References carry the ones before it).
/// </summary>
[NonParallelizable]
public sealed class SmtpOutageTests
{
    [OneTimeSetUp]
    public Task Servers() => MailServers.EnsureStartedAsync();

    [TestCase(10)]
    [TestCase(360)]
    public async Task Mail_queued_while_smtp_is_unreachable_is_delivered_once_in_order_when_it_returns(int minutes)
    {
        var marker = Guid.NewGuid().ToString("N")[..10];
        var support = $"support{marker}@sg.test";
        var customer = $"supportcust{marker}@sg.test";
        var relay = new TcpRelay(MailServers.Host, MailServers.SmtpPort);
        var port = relay.Port;
        var time = new ManualTime(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
        var settings = MailServers.MailboxSettings(support);
        settings["SupportGateway:Channels:Email:Mailboxes:0:Smtp:Port"] = port.ToString(CultureInfo.InvariantCulture);
        settings["SupportGateway:Channels:Email:AgentNotifications:NotifyAssignee"] = "false";
        using var gateway = new GatewayFactory(settings, time: time);
        var agent = gateway.Agent();
        try
        {
            await relay.DisposeAsync();
            using (var imap = await MailServers.ImapAsync(support))
                await imap.Inbox.AppendAsync(Mail(customer, $"Касса не печатает {marker}"));
            var number = await Tickets.FindAsync(agent, marker);
            await OutageScript.ReplyAsync(agent, number, $"Ответ 1 {marker}");
            time.Advance(TimeSpan.FromSeconds(30));
            await OutageScript.ReplyAsync(agent, number, $"Ответ 2 {marker}");

            await OutboxClock.PassAsync(time, gateway.Directory, "email", TimeSpan.FromMinutes(minutes));
            Assert.That(await DbProbe.ScalarAsync<long>(gateway.Directory, "SELECT COUNT(*) FROM outbox WHERE channel = 'email' AND state = 'pending'"),
                Is.EqualTo(3), "all three still queued, none given up");
            Assert.That(await DbProbe.ScalarAsync<string>(gateway.Directory, "SELECT last_error FROM outbox WHERE channel = 'email' ORDER BY id LIMIT 1"),
                Does.StartWith("could not connect"));

            relay = new TcpRelay(MailServers.Host, MailServers.SmtpPort, port);
            await OutboxClock.UntilDeliveredAsync(time, gateway.Directory, "email");

            using var reader = await MailServers.ImapAsync(customer);
            await reader.Inbox.OpenAsync(FolderAccess.ReadOnly);
            List<MimeKit.MimeMessage> got = [];
            await Eventually.HoldsAsync(async () =>
            {
                got = [];
                foreach (var uid in await reader.Inbox.SearchAsync(MailKit.Search.SearchQuery.All))
                    got.Add(await reader.Inbox.GetMessageAsync(uid));
                return got.Count >= 3;
            }, 20, () => $"{got.Count} mails reached the customer");
            Assert.That(got, Has.Count.EqualTo(3), "each once");
            var ack = got.Single(m => (m.TextBody ?? "").Contains("Спасибо", StringComparison.Ordinal));
            var first = got.Single(m => (m.TextBody ?? "").Contains($"Ответ 1 {marker}", StringComparison.Ordinal));
            var second = got.Single(m => (m.TextBody ?? "").Contains($"Ответ 2 {marker}", StringComparison.Ordinal));
            Assert.That(ack.Subject, Does.Contain(number));
            Assert.That(first.References, Does.Contain(ack.MessageId), "the first answer was sent after the acknowledgement");
            Assert.That(second.References, Does.Contain(ack.MessageId).And.Contain(first.MessageId), "the second after both");
            Assert.That(second.InReplyTo, Is.EqualTo(first.MessageId));
        }
        finally
        {
            agent.Dispose();
            await relay.DisposeAsync();
        }
    }

    private static MimeKit.MimeMessage Mail(string from, string subject) => MimeKit.MimeMessage.Load(new MemoryStream(Encoding.UTF8.GetBytes(
        $"From: {from}\r\nTo: support@sg.test\r\nSubject: =?utf-8?B?{Convert.ToBase64String(Encoding.UTF8.GetBytes(subject))}?=\r\n" +
        $"Message-ID: <{Guid.NewGuid():N}@client.sg.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{subject}\r\n")));
}
