using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using SupportGateway.Core.Tickets;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Api;

/// <summary>Search folds case for every alphabet (and ё as е) the same way for stored subjects and queries.</summary>
public sealed class SearchTests
{
    [TestCase("Отчёт не выгружается", "отчет не выгружается")]
    [TestCase("ОТЧЁТ", "отчет")]
    [TestCase("Оте\u0308ц", "отец")]
    [TestCase("Straße ÄRGER", "straße ärger")]
    [TestCase("ΣΟΦΊΑ", "σοφία")]
    public void Fold_is_the_same_for_every_alphabet(string text, string folded) =>
        Assert.That(TextFold.Fold(text), Is.EqualTo(folded));

    [Test]
    public void Like_wildcards_in_a_query_are_literal() =>
        Assert.That(TextFold.ContainsPattern("100%_a\\b"), Is.EqualTo("%100\\%\\_a\\\\b%"));

    private static async Task<string[]> SubjectsAsync(HttpClient agent, string q) =>
        [.. (await agent.GetFromJsonAsync<JsonElement[]>($"/api/v1/tickets?q={Uri.EscapeDataString(q)}"))!.Select(t => t.GetProperty("subject").GetString()!)];

    [TestCase(StorageEngine.Sqlite)]
    [TestCase(StorageEngine.Postgres)]
    public async Task Cyrillic_queries_find_subjects_whatever_their_case_and_yo(StorageEngine engine)
    {
        await using var database = await TestDatabase.CreateAsync(engine);
        using var gateway = new GatewayFactory(database.Settings);
        using var intake = gateway.Intake();
        using var agent = gateway.Agent();
        await gateway.FileRequestAsync(intake, "Отчёт не выгружается");
        await gateway.FileRequestAsync(intake, "Printer jam");
        await gateway.FileRequestAsync(intake, "Скидка 100% не применилась");

        foreach (var q in new[] { "Отчёт", "отчет", "ОТЧЕТ", "выгружа" })
            Assert.That(await SubjectsAsync(agent, q), Is.EqualTo(new[] { "Отчёт не выгружается" }), q);
        Assert.That(await SubjectsAsync(agent, "PRINTER"), Is.EqualTo(new[] { "Printer jam" }));
        Assert.That(await SubjectsAsync(agent, "0%"), Is.EqualTo(new[] { "Скидка 100% не применилась" }), "a % in the query is a character");
    }

    [Test]
    public async Task Tickets_stored_before_the_folded_column_are_found_after_the_upgrade()
    {
        var directory = TempDirectory.Create();
        var settings = new Dictionary<string, string?> { ["SupportGateway:Storage:ConnectionString"] = $"Data Source={Path.Combine(directory, "old.db")}" };
        try
        {
            using (var gateway = new GatewayFactory(settings))
            using (var intake = gateway.Intake())
                await gateway.FileRequestAsync(intake, "Отчёт не выгружается");
            // As a database from before migration 10 has it: no folded subject.
            await using (var connection = new SqliteConnection($"Data Source={Path.Combine(directory, "old.db")};Pooling=False"))
            {
                await connection.OpenAsync();
                await using var command = connection.CreateCommand();
                command.CommandText = "UPDATE tickets SET subject_folded = NULL";
                Assert.That(await command.ExecuteNonQueryAsync(), Is.EqualTo(1));
            }

            using var restarted = new GatewayFactory(settings);
            using var agent = restarted.Agent();
            Assert.That(await SubjectsAsync(agent, "отчет"), Is.EqualTo(new[] { "Отчёт не выгружается" }));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            TempDirectory.Delete(directory);
        }
    }
}
