using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using SupportGateway.Core.Outbox;
using SupportGateway.Core.Pipeline;
using SupportGateway.Core.Storage;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Core.Outbox;

/// <summary>Dispatchers of several instances on one PostgreSQL database: claims, leases and a graceful stop.</summary>
public sealed class SharedOutboxTests
{
    private readonly ManualTime _time = new(new DateTimeOffset(2026, 11, 2, 9, 0, 0, TimeSpan.Zero));

    private Task<CoreHarness> InstanceAsync(TestDatabase database) => CoreHarness.StartOnAsync(database, s => s.AddSingleton<TimeProvider>(_time));

    private static async Task QueueAsync(CoreHarness core, int count, string marker)
    {
        var processor = core.Get<InboundProcessor>();
        for (var i = 0; i < count; i++)
            await processor.IngestAsync(Messages.From($"ext:{marker}-{i}", $"Request {i}"), CancellationToken.None);
    }

    private static async Task<IReadOnlyList<OutboxRow>> RowsAsync(CoreHarness core)
    {
        var db = await core.ReadAsync();
        await using var connection = db.Connection;
        return await db.ListAsync<OutboxRow>("SELECT id, state, attempts FROM outbox ORDER BY id", null, CancellationToken.None);
    }

    [Test]
    public async Task Two_dispatchers_on_one_database_never_send_a_row_twice()
    {
        await using var database = await TestDatabase.CreateAsync(StorageEngine.Postgres);
        await using var first = await InstanceAsync(database);
        await using var second = await InstanceAsync(database);
        const int Count = 120;
        await QueueAsync(first, Count, "twice");

        var sender = new RecordingSender();
        var sent = await Task.WhenAll(new[] { first, second }.Select(core => Task.Run(async () =>
        {
            var dispatcher = core.Get<OutboxDispatcher>();
            var pipeline = dispatcher.BuildPipeline("api");
            var handled = 0;
            while (sender.Distinct < Count)
                handled += await dispatcher.DispatchDueAsync(sender, pipeline, CancellationToken.None);
            return handled;
        })));

        Assert.That(sender.Sends.Values, Is.All.EqualTo(1), "no row was sent twice");
        Assert.That(sender.Sends, Has.Count.EqualTo(Count));
        Assert.That(sent.Sum(), Is.EqualTo(Count), "each row claimed by one dispatcher only");
        Assert.That((await RowsAsync(first)).Select(r => r.State), Is.All.EqualTo(OutboxStore.Sent));
    }

    [Test]
    public async Task Rows_claimed_by_an_instance_that_died_are_taken_over_when_the_lease_ends()
    {
        await using var database = await TestDatabase.CreateAsync(StorageEngine.Postgres);
        await using var dead = await InstanceAsync(database);
        await using var alive = await InstanceAsync(database);
        await QueueAsync(dead, 5, "lease");
        await using (var session = await dead.Get<Database>().BeginAsync(CancellationToken.None))
        {
            // Claimed, never marked: the instance died in the middle of its batch.
            var claimed = await dead.Get<OutboxStore>().ClaimAsync(session, "api", _time.GetUtcNow().ToUnixTimeMilliseconds(), 120_000, 50, CancellationToken.None);
            Assert.That(claimed, Has.Count.EqualTo(5));
            await session.CommitAsync(CancellationToken.None);
        }

        var sender = new RecordingSender();
        var dispatcher = alive.Get<OutboxDispatcher>();
        Assert.That(await dispatcher.DispatchDueAsync(sender, dispatcher.BuildPipeline("api"), CancellationToken.None), Is.Zero, "still leased");
        _time.Advance(TimeSpan.FromMinutes(2) + TimeSpan.FromSeconds(1));
        Assert.That(await dispatcher.DispatchDueAsync(sender, dispatcher.BuildPipeline("api"), CancellationToken.None), Is.EqualTo(5));

        Assert.That(sender.Sends, Has.Count.EqualTo(5));
        Assert.That(sender.Sends.Values, Is.All.EqualTo(1));
        Assert.That((await RowsAsync(alive)).Select(r => (r.State, r.Attempts)), Is.All.EqualTo((OutboxStore.Sent, 2)),
            "the lost claim counts as an attempt: its send may have gone out before the instance died");
    }

    [TestCase(StorageEngine.Sqlite)]
    [TestCase(StorageEngine.Postgres)]
    public async Task A_stopping_dispatcher_finishes_the_send_in_hand_and_hands_the_rest_back_as_pending(StorageEngine engine)
    {
        await using var database = await TestDatabase.CreateAsync(engine);
        await using var core = await InstanceAsync(database);
        await QueueAsync(core, 3, "stop");
        var sender = new RecordingSender { Gate = new TaskCompletionSource() };
        var dispatcher = core.Get<OutboxDispatcher>();
        using var stopping = new CancellationTokenSource();

        var dispatch = dispatcher.DispatchDueAsync(sender, dispatcher.BuildPipeline("api"), stopping.Token);
        await sender.Entered.Task;
        await stopping.CancelAsync();
        sender.Gate.SetResult();
        await dispatch;

        Assert.That(sender.Sends, Has.Count.EqualTo(1), "the send in hand finished, and no other began");
        var rows = await RowsAsync(core);
        Assert.That(rows.Select(r => (r.State, r.Attempts)), Is.EqualTo(new[] { (OutboxStore.Sent, 1), (OutboxStore.Pending, 0), (OutboxStore.Pending, 0) }),
            "the sent row is recorded; the others are pending again at once, attempts unchanged");

        var next = await CoreHarness.StartOnAsync(database);
        await using (next)
        {
            var other = next.Get<OutboxDispatcher>();
            var after = new RecordingSender();
            Assert.That(await other.DispatchDueAsync(after, other.BuildPipeline("api"), CancellationToken.None), Is.EqualTo(2),
                "another instance takes them without waiting for a lease");
        }
    }

    private sealed class RecordingSender : IOutboundSender
    {
        public ConcurrentDictionary<string, int> Sends { get; } = new(StringComparer.Ordinal);

        public int Distinct => Sends.Count;

        public TaskCompletionSource? Gate { get; init; }

        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Channel => "api";

        public async Task<DeliveryReceipt> SendAsync(OutboundMessage message, CancellationToken cancellationToken)
        {
            Entered.TrySetResult();
            if (Gate is not null)
                await Gate.Task;
            Sends.AddOrUpdate(message.IdempotencyKey, 1, (_, n) => n + 1);
            return new DeliveryReceipt(null);
        }
    }
}
