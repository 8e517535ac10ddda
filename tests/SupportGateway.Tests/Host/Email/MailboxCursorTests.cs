using System.Text;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Search;
using MimeKit;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Email;

/// <summary>The reader's cursor against a real Dovecot: a folder recreated under the same name gets a new UIDVALIDITY.</summary>
[NonParallelizable]
public sealed class MailboxCursorTests
{
    [OneTimeSetUp]
    public Task Servers() => MailServers.EnsureStartedAsync();

    [Test]
    public async Task A_new_uidvalidity_makes_the_folder_read_again_and_message_ids_keep_tickets_single()
    {
        var user = "support" + Guid.NewGuid().ToString("N")[..10] + "@sg.test";
        var database = Path.Combine(TempDirectory.Create(), "gateway.db");
        var imap = await MailServers.ImapAsync(user);
        var work = await MailServers.FolderAsync(imap, "Work");
        await work.AppendAsync(Mail("a", "Первое обращение"));

        using (var first = Gateway(user, database))
        {
            _ = first.Agent();
            await SeenAsync(work, expected: 1);
        }
        var before = work.UidValidity;

        await work.CloseAsync();
        await work.DeleteAsync();
        imap.Dispose();
        // A new session: the first one's folder cache still knows the deleted folder.
        imap = await MailServers.ImapAsync(user);
        work = await MailServers.FolderAsync(imap, "Work");
        await work.AppendAsync(Mail("a", "Первое обращение"));
        await work.AppendAsync(Mail("b", "Второе обращение"));
        await work.OpenAsync(FolderAccess.ReadOnly);
        Assert.That(work.UidValidity, Is.Not.EqualTo(before));

        using var second = Gateway(user, database);
        var agent = second.Agent();
        // UID 1 is read again (it is the same mail, so it dedupes) and UID 2 opens the second ticket.
        await SeenAsync(work, expected: 2);
        var tickets = await System.Net.Http.Json.HttpClientJsonExtensions.GetFromJsonAsync<System.Text.Json.JsonElement>(agent, "/api/v1/tickets");
        Assert.That(tickets.EnumerateArray().Select(t => t.GetProperty("subject").GetString()), Is.EquivalentTo(new[] { "Первое обращение", "Второе обращение" }));
        imap.Dispose();
    }

    [Test]
    public async Task A_server_without_idle_is_polled()
    {
        var user = "support" + Guid.NewGuid().ToString("N")[..10] + "@sg.test";
        using var imap = await MailServers.ImapAsync(user);
        var work = await MailServers.FolderAsync(imap, "Work");
        var settings = MailServers.MailboxSettings(user, folder: "Work");
        settings["SupportGateway:Channels:Email:Mailboxes:0:Imap:IgnoredCapabilities:0"] = "IDLE";
        settings["SupportGateway:Channels:Email:PollInterval"] = "00:00:00.300";
        settings["SupportGateway:Channels:Email:AgentNotifications:NotifyAssignee"] = "false";
        using var gateway = new GatewayFactory(settings);
        var agent = gateway.Agent();
        await Task.Delay(500);

        // Arrives after the first look: only polling can find it.
        await work.AppendAsync(Mail("poll", "Опрос без IDLE"));
        await SeenAsync(work, expected: 1);
        Assert.That(await agent.GetStringAsync("/healthz"), Does.Contain("email:support: up").And.Contain("polled every 0.3 s"));
    }

    private static GatewayFactory Gateway(string user, string database)
    {
        var settings = MailServers.MailboxSettings(user, folder: "Work");
        settings["SupportGateway:Storage:ConnectionString"] = $"Data Source={database}";
        settings["SupportGateway:Channels:Email:AgentNotifications:NotifyAssignee"] = "false";
        return new GatewayFactory(settings);
    }

    private static MimeMessage Mail(string id, string subject) => MimeMessage.Load(new MemoryStream(Encoding.UTF8.GetBytes(
        $"From: customer@sg.test\r\nTo: support@sg.test\r\nSubject: =?utf-8?B?{Convert.ToBase64String(Encoding.UTF8.GetBytes(subject))}?=\r\n" +
        $"Message-ID: <{id}-cursor@client.sg.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{subject}\r\n")));

    /// <summary>Handled mail is marked \Seen when there is no processed folder.</summary>
    private static Task SeenAsync(IMailFolder work, int expected) => Eventually.HoldsAsync(async () =>
    {
        await work.OpenAsync(FolderAccess.ReadOnly);
        return (await work.SearchAsync(SearchQuery.Seen)).Count >= expected;
    }, 20, () => $"fewer than {expected} messages were handled");
}
