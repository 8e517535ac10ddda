using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using SupportGateway.Core.Outbox;
using SupportGateway.Core.Pipeline;
using SupportGateway.Core.Storage;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Core.Storage;

/// <summary>
/// The statements the single writer runs on every delivery must find their rows through an index: a statement that
/// scans a table grows with the history (every processed payload, every message ever) and slows every delivery with it.
/// The workload goes through the paths a delivery takes (stored pending then processed, follow-ups, direct ingest, the
/// outbox), then each statement the writer prepared is explained by SQLite.
/// </summary>
public sealed partial class QueryPlanTests
{
    [Test]
    public async Task Statements_on_the_delivery_path_use_indexes()
    {
        await using var core = await CoreHarness.StartAsync();
        var processor = core.Get<InboundProcessor>();
        var database = core.Get<Database>();
        for (var i = 0; i < 6; i++)
            await processor.StoreAsync(InboundJsonNormalizer.ToRaw(Messages.From($"customer-{i % 3}", $"Не работает печать, сообщение {i}")), CancellationToken.None);
        // The pending worker and /healthz read on their own connections; here they go through the writer so that
        // their statements are checked too.
        var store = core.Get<InboundStore>();
        IReadOnlyList<(long Id, RawInbound Raw)> pending;
        await using (var session = await database.BeginAsync(CancellationToken.None))
        {
            pending = await store.PendingAsync(session, 16, CancellationToken.None);
            Assert.That(await store.CountAsync(session, InboundStore.Dead, CancellationToken.None), Is.Zero);
            Assert.That(await store.ListAsync(session, InboundStore.Dead, 10, CancellationToken.None), Is.Empty);
        }
        Assert.That(pending, Has.Count.EqualTo(6));
        await processor.ProcessPendingAsync(pending, CancellationToken.None);
        await processor.IngestAsync(Messages.From("customer-4", "Cannot log in"), CancellationToken.None);
        var dispatcher = core.Get<OutboxDispatcher>();
        Assert.That(await dispatcher.DispatchDueAsync(new AcceptingSender(), dispatcher.BuildPipeline("api"), CancellationToken.None), Is.GreaterThan(0));
        Assert.That(await core.CountAsync("inbound WHERE state = 'pending'"), Is.Zero);

        var statements = database.WriterStatements.ToList();
        Assert.That(statements, Has.Count.GreaterThan(10), "the workload ran through the writer");
        await using var connection = new SqliteConnection(core.ConnectionString);
        await connection.OpenAsync();
        var scans = new List<string>();
        // An INSERT … VALUES reads nothing itself. Its plan lists the foreign-key look-ups into child tables that SQLite
        // runs only while a violation is outstanding (never, with immediate constraints), so it is left out.
        foreach (var sql in statements.Where(s => !InsertValues().IsMatch(s)))
        {
            await using var explain = connection.CreateCommand();
            explain.CommandText = "EXPLAIN QUERY PLAN " + sql;
            foreach (var name in Parameter().Matches(sql).Select(m => m.Value).Distinct())
                explain.Parameters.AddWithValue(name, DBNull.Value);
            await using var reader = await explain.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                // "SCAN t" reads every row of t; "SCAN t USING (COVERING) INDEX" every entry of an index. Both grow with the table.
                if (reader.GetString(3) is var detail && detail.StartsWith("SCAN ", StringComparison.Ordinal) && !detail.StartsWith("SCAN CONSTANT", StringComparison.Ordinal))
                    scans.Add($"{detail} :: {string.Join(' ', sql.Split((char[])[' ', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries))}");
            }
        }
        Assert.That(scans, Is.Empty);
    }

    [GeneratedRegex(@"^\s*INSERT\b(?:(?!SELECT).)*\bVALUES\b(?:(?!SELECT).)*$", RegexOptions.Singleline | RegexOptions.IgnoreCase)]
    private static partial Regex InsertValues();

    [GeneratedRegex(@"@\w+")]
    private static partial Regex Parameter();

    private sealed class AcceptingSender : IOutboundSender
    {
        public string Channel => "api";

        public Task<DeliveryReceipt> SendAsync(OutboundMessage message, CancellationToken cancellationToken) =>
            Task.FromResult(new DeliveryReceipt($"sent-{message.OutboxId}"));
    }
}
