using System.Diagnostics;
using SupportGateway.Core.Pipeline;
using SupportGateway.Core.Storage;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Core.Storage;

/// <summary>
/// Writes whose answer nobody reads (<see cref="SqlScope.WriteAsync"/>): on PostgreSQL they travel with the session's next
/// statement; on SQLite they run at once. Either way the session reads what it wrote, keeps the order, and a failing
/// write fails the work of its savepoint.
/// </summary>
[TestFixture(StorageEngine.Sqlite)]
[TestFixture(StorageEngine.Postgres)]
public sealed class DeferredWriteTests(StorageEngine engine)
{
    private const string Insert = "INSERT INTO deferred_probe (id, note) VALUES (@id, @note)";

    [Test]
    public async Task The_next_statement_sees_held_writes_in_order_and_the_commit_keeps_them()
    {
        await using var core = await StartAsync();
        var database = core.Get<Database>();
        await using (var session = await database.BeginAsync(CancellationToken.None))
        {
            SqlScope db = session;
            await db.WriteAsync(Insert, new { id = 1L, note = "first" }, CancellationToken.None);
            await db.WriteAsync("UPDATE deferred_probe SET note = @note WHERE id = @id", new { id = 1L, note = "changed" }, CancellationToken.None);
            await db.WriteAsync(Insert, new { id = 2L, note = (string?)null }, CancellationToken.None);
            Assert.That(await db.ListAsync<string>("SELECT COALESCE(note, '-') FROM deferred_probe ORDER BY id", null, CancellationToken.None),
                Is.EqualTo(new[] { "changed", "-" }), "the read travels after the writes held before it, which ran in their order");
            await db.WriteAsync(Insert, new { id = 3L, note = "last" }, CancellationToken.None);
            await session.CommitAsync(CancellationToken.None);
        }
        Assert.That(await core.CountAsync("deferred_probe"), Is.EqualTo(3), "the commit sends what is still held");
    }

    [Test]
    public async Task A_failing_held_write_fails_its_savepoints_work_and_the_transaction_goes_on()
    {
        await using var core = await StartAsync();
        await using (var session = await core.Get<Database>().BeginAsync(CancellationToken.None))
        {
            SqlScope db = session;
            await db.WriteAsync(Insert, new { id = 1L, note = "before" }, CancellationToken.None);
            await session.SaveAsync("probe", CancellationToken.None);
            await Assert.CatchAsync(async () =>
            {
                await db.WriteAsync(Insert, new { id = 2L, note = "inside" }, CancellationToken.None);
                await db.WriteAsync(Insert, new { id = 2L, note = "the same key again" }, CancellationToken.None);
                await session.ReleaseAsync("probe", CancellationToken.None);
            }, "the duplicate key fails within the savepoint's work, at the latest when it is released");
            await session.RollbackToAsync("probe", CancellationToken.None);
            await db.WriteAsync(Insert, new { id = 3L, note = "after" }, CancellationToken.None);
            await session.CommitAsync(CancellationToken.None);
        }
        var db2 = await core.ReadAsync();
        await using (db2.Connection)
        {
            Assert.That(await db2.ListAsync<long>("SELECT id FROM deferred_probe ORDER BY id", null, CancellationToken.None), Is.EqualTo(new[] { 1L, 3L }),
                "the write before the savepoint and the one after the rollback are kept, the savepoint's work is not");
        }
    }

    [Test]
    public async Task A_savepoint_rolled_back_before_anything_was_sent_keeps_what_was_held_before_it()
    {
        await using var core = await StartAsync();
        await using (var session = await core.Get<Database>().BeginAsync(CancellationToken.None))
        {
            SqlScope db = session;
            await db.WriteAsync(Insert, new { id = 5L, note = "before" }, CancellationToken.None);
            await session.SaveAsync("probe", CancellationToken.None);
            await db.WriteAsync(Insert, new { id = 6L, note = "inside" }, CancellationToken.None);
            await session.RollbackToAsync("probe", CancellationToken.None);
            await session.CommitAsync(CancellationToken.None);
        }
        var read = await core.ReadAsync();
        await using (read.Connection)
            Assert.That(await read.ListAsync<long>("SELECT id FROM deferred_probe ORDER BY id", null, CancellationToken.None), Is.EqualTo(new[] { 5L }));
    }

    [Test]
    public async Task A_session_disposed_without_commit_writes_nothing()
    {
        await using var core = await StartAsync();
        await using (var session = await core.Get<Database>().BeginAsync(CancellationToken.None))
            await ((SqlScope)session).WriteAsync(Insert, new { id = 7L, note = "dropped" }, CancellationToken.None);
        Assert.That(await core.CountAsync("deferred_probe"), Is.EqualTo(0));
    }

    private Task<CoreHarness> StartAsync() => StartWithProbeAsync(engine);

    private static async Task<CoreHarness> StartWithProbeAsync(StorageEngine engine)
    {
        var core = await CoreHarness.StartAsync(engine);
        await using var session = await core.Get<Database>().BeginAsync(CancellationToken.None);
        await ((SqlScope)session).ExecuteAsync("CREATE TABLE deferred_probe (id BIGINT PRIMARY KEY, note TEXT)", null, CancellationToken.None);
        await session.CommitAsync(CancellationToken.None);
        return core;
    }
}

/// <summary>What the held writes are for: an ingest on PostgreSQL in fewer round trips than statements.</summary>
public sealed class PostgresRoundTripTests
{
    [Test]
    public async Task A_new_request_on_PostgreSQL_sends_its_writes_with_its_reads()
    {
        await using var core = await CoreHarness.StartAsync(StorageEngine.Postgres);
        var processor = core.Get<InboundProcessor>();
        await processor.IngestAsync(Messages.From("ext:warm", "Warm-up"), CancellationToken.None);

        var roundTrips = new AsyncLocal<List<string>?>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (roundTrips.Value is { } list)
                    list.Add(activity.GetTagItem("db.query.text") as string ?? "?");
            },
        };
        ActivitySource.AddActivityListener(listener);
        roundTrips.Value = [];
        var result = await processor.IngestAsync(Messages.From("ext:counted", "Counted"), CancellationToken.None);
        var sent = roundTrips.Value;
        roundTrips.Value = null;

        Assert.That(result.Outcome, Is.EqualTo(IngestOutcome.Created));
        // Sent one by one, its 17 statements (savepoint and release included) were 17 round trips. The ten left are the
        // statements whose answers the ingest reads: the inbound row's id, the two duplicate checks, the contact (looked
        // up, then created), the number, the two messages' ids, the acknowledgement cap, and the release that ends it.
        // The commit is not traced.
        Assert.That(sent, Has.Count.LessThanOrEqualTo(10), string.Join(Environment.NewLine + "--" + Environment.NewLine, sent));
        Assert.That(sent.Count(s => s.Contains("INSERT INTO audit", StringComparison.Ordinal) && s.Contains(';')), Is.EqualTo(1),
            "the audit entry, which nobody reads back, went with another statement");
    }
}
