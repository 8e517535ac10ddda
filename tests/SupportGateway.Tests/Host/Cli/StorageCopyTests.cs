using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Microsoft.Data.Sqlite;
using Npgsql;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Cli;

/// <summary><c>storage copy</c> on the real process: an SQLite installation filled through the gateway, moved into PostgreSQL.</summary>
[NonParallelizable]
public sealed class StorageCopyTests
{
    private string _directory = "";

    /// <summary>A product that is down: its callbacks stay in the outbox, retried, beside the answers already pushed.</summary>
    private readonly Dictionary<string, string?> _callbacks = new()
    {
        ["SupportGateway:Intake:Callbacks:0:Url"] = $"http://127.0.0.1:{GatewayProcess.FreePort()}/hook",
        ["SupportGateway:Intake:Callbacks:0:Secret"] = new string('s', 32),
    };

    [SetUp]
    public void SetUp() => _directory = TempDirectory.Create();

    [TearDown]
    public void TearDown() => TempDirectory.Delete(_directory);

    [Test]
    public async Task A_copied_installation_serves_the_same_tickets_on_PostgreSQL_and_numbers_on_after_them()
    {
        await using var target = await TestDatabase.CreateAsync(StorageEngine.Postgres);
        var sqlite = $"Data Source={Path.Combine(_directory, "gateway.db")}";
        var (numbers, before) = await FillAsync(sqlite);
        var sourceStates = await CountAsync(sqlite, "SELECT COUNT(DISTINCT state) FROM outbox");
        Assert.That(sourceStates, Is.GreaterThanOrEqualTo(2), "the installation should hold outbox rows in several states");

        var env = GatewayProcess.Environment(_directory);
        var (exit, output) = await GatewayProcess.RunAsync(_directory, env, "storage", "copy", "--from", sqlite, "--to", target.ConnectionString);
        Assert.That(exit, Is.Zero, output);
        Assert.That(output, Does.Contain("every count matches"));
        foreach (var table in new[] { "tickets", "messages", "attachments", "audit", "outbox", "mail_cursors", "contacts", "inbound" })
        {
            var rows = await CountAsync(sqlite, $"SELECT COUNT(*) FROM {table}");
            Assert.That(output, Does.Match($@"(?m)^{table}\s+{rows}\s+{rows}\s*$"), output);
            Assert.That(output, Does.Contain($"{table}: {rows}/{rows}"), "progress per table");
        }

        var settings = target.Settings;
        foreach (var (key, value) in _callbacks)
            settings[key] = value;
        using (var gateway = new GatewayFactory(settings))
        {
            var agent = gateway.Agent();
            foreach (var number in numbers)
                Assert.That(Timeless(await agent.GetStringAsync($"/api/v1/tickets/{number}")), Is.EqualTo(Timeless(before[number])), number);
            var fresh = await gateway.FileRequestAsync(gateway.Intake(), "after the move");
            await using var pg = new NpgsqlConnection(target.ConnectionString);
            var copiedTop = await pg.ExecuteScalarAsync<long>("SELECT MAX(id) FROM tickets WHERE number <> @fresh", new { fresh });
            var freshId = await pg.ExecuteScalarAsync<long>("SELECT id FROM tickets WHERE number = @fresh", new { fresh });
            Assert.That(freshId, Is.GreaterThan(copiedTop));
            Assert.That(numbers, Does.Not.Contain(fresh));
            // Identities go on after the copied ids as well: the new ticket's message and audit rows were inserted.
            Assert.That(await pg.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM messages m JOIN tickets t ON t.id = m.ticket_id WHERE t.number = @fresh", new { fresh }),
                Is.GreaterThan(0));
        }

        var (again, refusal) = await GatewayProcess.RunAsync(_directory, env, "storage", "copy", "--from", sqlite, "--to", target.ConnectionString);
        Assert.That(again, Is.EqualTo(2), refusal);
        Assert.That(refusal, Does.Contain("error: the PostgreSQL database is not empty"));
    }

    /// <summary>Tickets on the intake API and web chat, with attachments, answers, status changes and a mailbox cursor.</summary>
    private async Task<(List<string> Numbers, Dictionary<string, string> Json)> FillAsync(string sqlite)
    {
        var numbers = new List<string>();
        var json = new Dictionary<string, string>(StringComparer.Ordinal);
        using var gateway = new GatewayFactory(new Dictionary<string, string?>(_callbacks) { ["SupportGateway:Storage:ConnectionString"] = sqlite });
        var intake = gateway.Intake();
        var agent = gateway.Agent();
        for (var i = 0; i < 3; i++)
        {
            var response = await intake.PostAsJsonAsync("/api/v1/requests", new
            {
                description = $"storage copy {i}: Не работает принтер",
                contact = new { email = $"copy{i}@example.ru" },
                attachments = new[] { new { fileName = $"screen{i}.png", contentType = "image/png", contentBase64 = Convert.ToBase64String(SampleFiles.Png(1500 + i)) } },
            });
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created));
            numbers.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ticketNumber").GetString()!);
        }
        var web = gateway.CreateClient();
        var form = new MultipartFormDataContent { { new StringContent("Ivan"), "name" }, { new StringContent("storage copy via web chat"), "description" } };
        var created = await web.PostAsync("/webchat/api/requests", form);
        Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created), await created.Content.ReadAsStringAsync());
        numbers.Add((await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("conversation").GetProperty("ticket").GetProperty("number").GetString()!);

        foreach (var number in numbers)
        {
            Assert.That((await agent.PostAsJsonAsync($"/api/v1/tickets/{number}/replies", new { text = $"Смотрим {number}" })).IsSuccessStatusCode);
            Assert.That((await agent.PatchAsJsonAsync($"/api/v1/tickets/{number}", new { priority = "high", assignee = GatewayFactory.AgentEmail })).IsSuccessStatusCode);
        }
        await Eventually.HoldsAsync(async () => await CountAsync(sqlite, "SELECT COUNT(*) FROM outbox WHERE state = 'sent'") > 0, 30, () => "no outbox row sent");
        await using (var db = new SqliteConnection(sqlite))
        {
            // What the mailbox reader writes after a fetched batch (its own tests run it against Dovecot).
            await db.ExecuteAsync("INSERT INTO mail_cursors (mailbox, uid_validity, last_uid, updated_at) VALUES ('support@example.ru/INBOX', 1700000000, 42, 1)");
        }
        foreach (var number in numbers)
            json[number] = await agent.GetStringAsync($"/api/v1/tickets/{number}");
        return (numbers, json);
    }

    /// <summary>The ticket JSON without the SLA clock's seconds, which go on between the two reads.</summary>
    private static string Timeless(string json) =>
        System.Text.RegularExpressions.Regex.Replace(json, @"""(businessSecondsElapsed|pausedSeconds)"":\d+", "\"$1\":0");

    private static async Task<long> CountAsync(string sqlite, string sql)
    {
        await using var db = new SqliteConnection(sqlite + ";Pooling=False");
        return await db.ExecuteScalarAsync<long>(sql);
    }
}
