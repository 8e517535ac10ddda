using Dapper;
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
/// outbox, the reads an answer's threading makes), then each statement the writer prepared or the workload ran is
/// explained by SQLite.
/// </summary>
public sealed partial class QueryPlanTests
{
    [Test]
    public async Task Statements_on_the_delivery_path_use_indexes()
    {
        await using var core = await CoreHarness.StartAsync();
        var observed = SqlScope.Observed.Value = new();
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
        await using (var reader = await database.OpenAsync(CancellationToken.None))
            await core.Get<OutboxStore>().ThreadIdsAsync(new SqlScope(reader), 1, "api", CancellationToken.None);

        var statements = database.WriterStatements.Union(observed.Keys).ToList();
        SqlScope.Observed.Value = null;
        Assert.That(await core.CountAsync("inbound WHERE state = 'pending'"), Is.Zero);
        Assert.That(statements, Has.Count.GreaterThan(10), "the workload ran through the writer");
        await using var connection = new SqliteConnection(core.ConnectionString);
        await connection.OpenAsync();
        var tables = (await connection.QueryAsync<string>("SELECT name FROM sqlite_master WHERE type = 'table'")).ToHashSet();
        // A partial index holds only the rows its condition selects (the unprocessed inbound rows), not the history.
        var partial = (await connection.QueryAsync<string>("SELECT name FROM sqlite_master WHERE type = 'index' AND sql LIKE '% WHERE %'")).ToHashSet();
        var scans = new List<string>();
        // An INSERT … VALUES reads nothing itself. Its plan lists the foreign-key look-ups into child tables that SQLite
        // runs only while a violation is outstanding (never, with immediate constraints), so it is left out.
        foreach (var sql in statements.Where(s => !InsertValues().IsMatch(s)))
        {
            await using var explain = connection.CreateCommand();
            // Dapper expands "IN @list" into a parameter per item when it runs; one stands for them here.
            explain.CommandText = "EXPLAIN QUERY PLAN " + ListParameter().Replace(sql, "IN ($1)");
            foreach (var name in Parameter().Matches(sql).Select(m => m.Value).Distinct())
                explain.Parameters.AddWithValue(name, DBNull.Value);
            await using var reader = await explain.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                // "SCAN t" reads every row of t; "SCAN t USING (COVERING) INDEX" every entry of an index. Both grow with the
                // table (a scan of a sub-query's rows does not). "SEARCH t USING INDEX i (channel=? AND state=?)" narrows by
                // columns of a handful of values only, so it reads a share of the whole history too.
                var detail = reader.GetString(3);
                if (Plan().Match(detail) is { Success: true } step && tables.Contains(step.Groups["table"].Value)
                    && (step.Groups["op"].Value == "SCAN" || CategoryOnly().IsMatch(detail) && !partial.Contains(step.Groups["index"].Value)))
                    scans.Add($"{detail} :: {string.Join(' ', sql.Split((char[])[' ', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries))}");
            }
        }
        Assert.That(scans, Is.Empty);
    }

    [GeneratedRegex(@"^\s*INSERT\b(?:(?!SELECT).)*\bVALUES\b(?:(?!SELECT).)*$", RegexOptions.Singleline | RegexOptions.IgnoreCase)]
    private static partial Regex InsertValues();

    [GeneratedRegex(@"^(?<op>SCAN|SEARCH) (?<table>\w+)(?: USING (?:COVERING )?INDEX (?<index>\w+))?")]
    private static partial Regex Plan();

    [GeneratedRegex(@"\((?:(?:channel|state|status|direction|author_kind|kind)=\? AND )*(?:channel|state|status|direction|author_kind|kind)=\?\)$")]
    private static partial Regex CategoryOnly();

    [GeneratedRegex(@"\bIN\s+(@\w+)", RegexOptions.IgnoreCase)]
    private static partial Regex ListParameter();

    [GeneratedRegex(@"@\w+")]
    private static partial Regex Parameter();

    private sealed class AcceptingSender : IOutboundSender
    {
        public string Channel => "api";

        public Task<DeliveryReceipt> SendAsync(OutboundMessage message, CancellationToken cancellationToken) =>
            Task.FromResult(new DeliveryReceipt($"sent-{message.OutboxId}"));
    }
}
