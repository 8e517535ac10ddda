using System.Text;
using MailKit;
using MailKit.Search;
using Microsoft.Data.Sqlite;
using MimeKit;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Storage;

/// <summary>
/// The mailbox reader against the real Dovecot while another connection holds <c>BEGIN EXCLUSIVE</c> on the gateway's
/// database: the mail that arrives meanwhile stays unseen on the server, no ticket is half made, and it is read
/// once the lock is released.
/// </summary>
[NonParallelizable]
public sealed class MailboxOutageTests
{
    [OneTimeSetUp]
    public Task Servers() => MailServers.EnsureStartedAsync();

    [Test]
    public async Task Mail_arriving_while_the_database_is_locked_stays_unseen_on_the_server_and_is_read_when_released()
    {
        var user = "support" + Guid.NewGuid().ToString("N")[..10] + "@sg.test";
        var directory = TempDirectory.Create();
        var file = Path.Combine(directory, "gateway.db");
        using var imap = await MailServers.ImapAsync(user);
        var work = await MailServers.FolderAsync(imap, "Work");
        var settings = MailServers.MailboxSettings(user, folder: "Work");
        settings["SupportGateway:Storage:ConnectionString"] = $"Data Source={file};Default Timeout=1";
        settings["SupportGateway:Storage:ProbeFirstDelay"] = "00:00:00.200";
        settings["SupportGateway:Storage:ProbeMaxDelay"] = "00:00:01";
        settings["SupportGateway:Channels:Email:AgentNotifications:NotifyAssignee"] = "false";
        settings["SupportGateway:Channels:Email:MaxReconnectDelay"] = "00:00:01";
        try
        {
            using var gateway = new GatewayFactory(settings);
            using var agent = gateway.Agent();
            await work.AppendAsync(Mail("before", "До блокировки"));
            await SeenAsync(work, 1);

            await using (var other = new SqliteConnection($"Data Source={file};Pooling=False"))
            {
                await other.OpenAsync();
                await ExecuteAsync(other, "BEGIN EXCLUSIVE");
                await work.AppendAsync(Mail("during", "Во время блокировки"));
                await Eventually.HoldsAsync(async () => (await Health(agent)).Contains("storage: unavailable (sqlite: database locked", StringComparison.Ordinal), 20,
                    () => "the reader's commit met the lock");
                await Eventually.HoldsAsync(async () => (await Health(agent)).Contains("waiting for the storage; mail stays on the server", StringComparison.Ordinal), 20,
                    () => "the mailbox waits for the storage");
                await work.OpenAsync(FolderAccess.ReadOnly);
                Assert.That((await work.SearchAsync(SearchQuery.Seen)).Count, Is.EqualTo(1), "the mail of the outage is not marked seen");
                Assert.That(await DbProbe.ScalarAsync<long>(directory, "SELECT COUNT(*) FROM tickets"), Is.EqualTo(1), "nor half stored");
                await ExecuteAsync(other, "COMMIT");
            }

            await SeenAsync(work, 2);
            await Eventually.HoldsAsync(async () => await DbProbe.ScalarAsync<long>(directory, "SELECT COUNT(*) FROM tickets") == 2, 20);
            Assert.That(await DbProbe.ScalarAsync<long>(directory, "SELECT COUNT(*) FROM inbound WHERE channel = 'email'"), Is.EqualTo(2), "each mail once");
            Assert.That(await Health(agent), Does.Contain("storage: up").And.Contain("email:support: up"));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            TempDirectory.Delete(directory);
        }
    }

    private static async Task<string> Health(HttpClient client)
    {
        using var response = await client.GetAsync("/healthz");
        return await response.Content.ReadAsStringAsync();
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    private static MimeMessage Mail(string id, string subject) => MimeMessage.Load(new MemoryStream(Encoding.UTF8.GetBytes(
        $"From: customer@sg.test\r\nTo: support@sg.test\r\nSubject: =?utf-8?B?{Convert.ToBase64String(Encoding.UTF8.GetBytes(subject))}?=\r\n" +
        $"Message-ID: <{id}-{Guid.NewGuid():N}@client.sg.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{subject}\r\n")));

    private static Task SeenAsync(IMailFolder folder, int expected) => Eventually.HoldsAsync(async () =>
    {
        await folder.OpenAsync(FolderAccess.ReadOnly);
        return (await folder.SearchAsync(SearchQuery.Seen)).Count >= expected;
    }, 30, () => $"fewer than {expected} messages were handled");
}
