using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.Data.Sqlite;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.WhatsApp;

/// <summary>Every pywa webhook in the corpus through the real endpoint: accepted, stored, and normalised or recorded.</summary>
[NonParallelizable]
public sealed class CloudCorpusTests : CloudScenario
{
    [Test]
    public async Task Every_corpus_delivery_is_accepted_and_each_message_is_processed_without_a_dead_letter()
    {
        var files = Directory.EnumerateFiles(Corpus.Path("whatsapp", "meta-cloud-api", "pywa"), "*.json").Order(StringComparer.Ordinal).ToList();
        Assert.That(files, Has.Count.EqualTo(42));
        var score = new Score("pywa deliveries accepted (200)");
        foreach (var file in files)
        {
            // Upstream reuses a handful of wamids across examples; each file gets its own so none is taken for a retry.
            var body = JsonNode.Parse(File.ReadAllText(file))!;
            var name = Path.GetFileNameWithoutExtension(file);
            var value = body["entry"]![0]!["changes"]![0]!["value"]!;
            foreach (var item in (value["messages"] ?? value["statuses"])?.AsArray() ?? [])
                item!["id"] = $"wamid.corpus.{name}";
            var response = await PostAsync(body);
            score.Check(response.StatusCode == HttpStatusCode.OK, $"{name}: {(int)response.StatusCode}");
        }
        score.Report();
        Assert.That(score.Agreed, Is.EqualTo(files.Count));
        await Eventually.HoldsAsync(async () => await PendingAsync() == 0, seconds: 30);

        await using var db = new SqliteConnection($"Data Source={Path.Combine(Gateway.Directory, "gateway.db")};Mode=ReadOnly;Pooling=False");
        var rows = (await db.QueryAsync<(string ExternalId, string State, long? MessageId, string? Error)>(
            "SELECT external_id, state, message_id, last_error FROM inbound ORDER BY external_id")).ToList();
        foreach (var row in rows)
            TestContext.Out.WriteLine($"  {row.ExternalId}: {row.State}{(row.MessageId is null ? " (recorded, no message)" : " → message")}{(row.Error is null ? "" : " " + row.Error)}");
        var messages = rows.Count(r => r.MessageId is not null);
        var tickets = await db.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM tickets");
        var statuses = rows.Count(r => r.ExternalId.Contains("message_status", StringComparison.Ordinal));
        TestContext.Out.WriteLine($"{rows.Count} rows from {files.Count} deliveries: {messages} messages in {tickets} tickets, {statuses} statuses, " +
            $"{rows.Count - messages - statuses} recorded without a message (reactions, deletions, system notices); dead letters: {rows.Count(r => r.State == "dead")}");
        Assert.That(rows.Where(r => r.State == "dead"), Is.Empty);
        Assert.That(statuses, Is.EqualTo(7));
        // The three message echoes are the business's own messages from the WhatsApp Business app: not stored in this slice.
        Assert.That(rows, Has.Count.EqualTo(files.Count - 3));
        Assert.That(messages, Is.GreaterThanOrEqualTo(25));
        // Every message reads as something: its text, its caption or what it carries; never an empty line.
        var texts = (await db.QueryAsync<string>("SELECT text FROM messages WHERE direction = 'in'")).ToList();
        Assert.That(texts, Has.Count.EqualTo(messages));
        Assert.That(texts, Has.None.Empty);
        Assert.That(texts, Has.Some.EqualTo("[location 37.4611978, -122.2164385: Facebook HQ, 1 Hacker Way, Menlo Park, CA 94025]")
            .And.Some.EqualTo("[voice message]\n[voice-1234567890987654321.ogg: could not be downloaded from WhatsApp yet; it is fetched again later]")
            .And.Some.StartsWith("[contact Chandler Bing: +1 555-555-5555]"));
    }
}
