using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MailKit;
using MimeKit;
using Npgsql;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Email;

/// <summary>
/// Two gateway instances on one PostgreSQL database reading one real Dovecot mailbox: one reads it at a time, and
/// when that one stops (gracefully, or its connection dies as a killed machine's does) the other takes the mailbox
/// within 10 s (issue 15), and mail keeps flowing with no ticket doubled.
/// </summary>
[NonParallelizable]
public sealed class SharedMailboxTests
{
    private const string Work = "work mailbox:support/INBOX";

    [OneTimeSetUp]
    public Task Servers() => MailServers.EnsureStartedAsync();

    [TestCase(false, TestName = "A_stopped_holder_hands_the_mailbox_to_the_other_instance_within_10_s")]
    [TestCase(true, TestName = "A_killed_holder_loses_the_mailbox_to_the_other_instance_within_10_s")]
    public async Task The_mailbox_moves_and_mail_keeps_flowing_once(bool kill)
    {
        var user = "support" + Guid.NewGuid().ToString("N")[..10] + "@sg.test";
        await using var database = await TestDatabase.CreateAsync(StorageEngine.Postgres);
        using var imap = await MailServers.ImapAsync(user);
        var cluster = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        // Each instance reaches PostgreSQL through its own relay: closing one is that instance's death on the network.
        await using var relayA = new TcpRelay(cluster.Host!, cluster.Port);
        await using var relayB = new TcpRelay(cluster.Host!, cluster.Port);
        var a = Gateway(user, database, relayA.Port);
        var b = Gateway(user, database, relayB.Port);
        try
        {
            var (agentA, agentB) = (a.Agent(), b.Agent());
            await Eventually.HoldsAsync(async () => (await HoldsAsync(agentA) ? 1 : 0) + (await HoldsAsync(agentB) ? 1 : 0) == 1, 10,
                () => "not exactly one instance read the mailbox");
            var aHolds = await HoldsAsync(agentA);
            var (holder, holderRelay, other, agent) = aHolds ? (a, relayA, b, agentB) : (b, relayB, a, agentA);
            // The other instance asks for the lock once its reader has started, which on a loaded machine is a moment later.
            var health = "";
            await Eventually.HoldsAsync(async () => (health = await agent.GetStringAsync("/healthz")).Contains(Work + ": waiting", StringComparison.Ordinal), 10,
                () => $"the other instance does not wait for the mailbox: {health}");

            var marker = Guid.NewGuid().ToString("N")[..8];
            await imap.Inbox.AppendAsync(Mail($"before-{marker}", $"Before {marker}"));
            await Eventually.HoldsAsync(async () => (await SubjectsAsync(agent)).Count == 1, 15, () => "the holder did not read the first mail");

            if (kill)
                await holderRelay.DisposeAsync();
            else
                holder.Dispose();
            await Eventually.HoldsAsync(() => HoldsAsync(agent), 10, () => "the other instance did not take the mailbox within 10 s");

            await imap.Inbox.AppendAsync(Mail($"after-{marker}", $"After {marker}"));
            await Eventually.HoldsAsync(async () => (await SubjectsAsync(agent)).Count >= 2, 15, () => "the new holder did not read the second mail");
            Assert.That(await SubjectsAsync(agent), Is.EquivalentTo(new[] { $"Before {marker}", $"After {marker}" }), "each mail is one ticket");
        }
        finally
        {
            a.Dispose();
            b.Dispose();
        }
    }

    private static async Task<bool> HoldsAsync(HttpClient agent)
    {
        using var response = await agent.GetAsync("/healthz");
        return (await response.Content.ReadAsStringAsync()).Contains(Work + ": held here", StringComparison.Ordinal);
    }

    private static async Task<List<string>> SubjectsAsync(HttpClient agent)
    {
        var tickets = await agent.GetFromJsonAsync<JsonElement>("/api/v1/tickets");
        return [.. tickets.EnumerateArray().Select(t => t.GetProperty("subject").GetString()!)];
    }

    private static GatewayFactory Gateway(string user, TestDatabase database, int port)
    {
        var settings = MailServers.MailboxSettings(user);
        settings["SupportGateway:Storage:Provider"] = "postgresql";
        settings["SupportGateway:Storage:ConnectionString"] =
            new NpgsqlConnectionStringBuilder(database.ConnectionString) { Host = "127.0.0.1", Port = port }.ConnectionString;
        settings["SupportGateway:Channels:Email:AgentNotifications:NotifyAssignee"] = "false";
        return new GatewayFactory(settings);
    }

    private static MimeMessage Mail(string id, string subject) => MimeMessage.Load(new MemoryStream(Encoding.UTF8.GetBytes(
        $"From: customer@sg.test\r\nTo: support@sg.test\r\nSubject: {subject}\r\n" +
        $"Message-ID: <{id}-shared@client.sg.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{subject}\r\n")));
}
