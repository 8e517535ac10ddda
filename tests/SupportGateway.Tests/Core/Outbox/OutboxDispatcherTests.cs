using Microsoft.Extensions.DependencyInjection;
using SupportGateway.Core.Outbox;
using SupportGateway.Core.Pipeline;
using SupportGateway.Core.Storage;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Core.Outbox;

[TestFixture(StorageEngine.Sqlite)]
[TestFixture(StorageEngine.Postgres)]
public sealed class OutboxDispatcherTests(StorageEngine engine)
{
    // NUnit shares one fixture instance between tests: everything stateful is made in SetUp.
    private ManualTime _time = null!;
    private ScriptedSender _sender = null!;
    private CoreHarness _core = null!;
    private OutboxDispatcher _dispatcher = null!;
    private long _ticketId;

    [SetUp]
    public async Task SetUp()
    {
        _time = new ManualTime(new DateTimeOffset(2026, 11, 2, 9, 0, 0, TimeSpan.Zero));
        _sender = new ScriptedSender();
        _core = await CoreHarness.StartAsync(engine, s => s.AddSingleton<TimeProvider>(_time),
            new Dictionary<string, string?> { ["SupportGateway:Outbox:MaxAttempts"] = "3" });
        _dispatcher = _core.Get<OutboxDispatcher>();
        _ticketId = (await _core.Get<InboundProcessor>().IngestAsync(Messages.From("ext:1", "hello"), CancellationToken.None)).TicketId!.Value;
    }

    [TearDown]
    public async Task TearDown()
    {
        // Null when SetUp failed (no PostgreSQL cluster): its message is the one to read.
        if (_core is not null)
            await _core.DisposeAsync();
        _core = null!;
    }

    private Task<int> DispatchAsync() => _dispatcher.DispatchDueAsync(_sender, _dispatcher.BuildPipeline("api"), CancellationToken.None);

    private async Task<OutboxRow> RowAsync()
    {
        var db = await _core.ReadAsync();
        await using var connection = db.Connection;
        return (await _core.Get<OutboxStore>().ForTicketAsync(db, _ticketId, CancellationToken.None)).Single();
    }

    [Test]
    public async Task Due_row_is_delivered_once_and_keeps_the_channel_id()
    {
        _sender.Receipt = "wamid.1";
        Assert.That(await DispatchAsync(), Is.EqualTo(1));
        Assert.That(await DispatchAsync(), Is.Zero);

        var row = await RowAsync();
        Assert.That((row.State, row.Attempts, row.ExternalId), Is.EqualTo((OutboxStore.Sent, 1, "wamid.1")));
        Assert.That(_sender.Calls, Is.EqualTo(1));
        Assert.That(_sender.LastKey, Is.EqualTo($"sg-outbox-{row.Id}.{row.CreatedAt:x}"), "stable for the row, unlike any row of another database");
    }

    [Test]
    public async Task Failed_attempt_is_rescheduled_with_backoff_and_its_error()
    {
        _sender.FailWith = new HttpRequestException("connection reset");
        await DispatchAsync();

        var row = await RowAsync();
        Assert.That((row.State, row.Attempts, row.LastError), Is.EqualTo((OutboxStore.Pending, 1, "HttpRequestException: connection reset")));
        Assert.That(row.NextAttemptAt, Is.GreaterThan(_time.GetUtcNow().ToUnixTimeMilliseconds() + 3000));
        Assert.That(_sender.Calls, Is.EqualTo(3), "Polly retried the blip twice inside the attempt");
        Assert.That(await DispatchAsync(), Is.Zero, "not due yet");

        _sender.FailWith = null;
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.That(await DispatchAsync(), Is.EqualTo(1));
        Assert.That((await RowAsync()).State, Is.EqualTo(OutboxStore.Sent));
    }

    [Test]
    public async Task Row_is_marked_failed_after_the_configured_attempts()
    {
        _sender.FailWith = new TimeoutException("smtp timed out");
        for (var i = 0; i < 3; i++)
        {
            await DispatchAsync();
            _time.Advance(TimeSpan.FromHours(1));
        }

        var row = await RowAsync();
        Assert.That((row.State, row.Attempts), Is.EqualTo((OutboxStore.Failed, 3)));
        Assert.That(row.LastError, Does.Contain("smtp timed out"));
        Assert.That(await DispatchAsync(), Is.Zero, "a failed row is not retried");
    }

    [Test]
    public async Task Permanent_refusal_fails_at_once_without_retries()
    {
        _sender.FailWith = new PermanentDeliveryException("bot was blocked by the user");
        await DispatchAsync();
        Assert.That(((await RowAsync()).State, _sender.Calls), Is.EqualTo((OutboxStore.Failed, 1)));
    }

    [Test]
    public async Task Row_left_in_flight_by_a_crash_is_claimed_again_after_its_lease()
    {
        await using (var session = await _core.Get<Database>().BeginAsync(CancellationToken.None))
        {
            var claimed = await _core.Get<OutboxStore>().ClaimAsync(session, "api", _time.GetUtcNow().ToUnixTimeMilliseconds(), 120_000, 10, CancellationToken.None);
            Assert.That(claimed, Has.Count.EqualTo(1));
            await session.CommitAsync(CancellationToken.None);
        }
        Assert.That(await DispatchAsync(), Is.Zero, "still leased");
        _time.Advance(TimeSpan.FromMinutes(3));
        Assert.That(await DispatchAsync(), Is.EqualTo(1));
    }

    [Test]
    public void Backoff_doubles_and_is_capped()
    {
        var first = TimeSpan.FromSeconds(5);
        var max = TimeSpan.FromMinutes(30);
        Assert.That(OutboxDispatcher.Backoff(1, first, max).TotalSeconds, Is.InRange(4, 6));
        Assert.That(OutboxDispatcher.Backoff(4, first, max).TotalSeconds, Is.InRange(32, 48));
        Assert.That(OutboxDispatcher.Backoff(40, first, max), Is.LessThanOrEqualTo(max));
    }

    private sealed class ScriptedSender : IOutboundSender
    {
        public Exception? FailWith { get; set; }
        public string? Receipt { get; set; }
        public int Calls { get; private set; }
        public string? LastKey { get; private set; }

        public string Channel => "api";

        public Task<DeliveryReceipt> SendAsync(OutboundMessage message, CancellationToken cancellationToken)
        {
            Calls++;
            LastKey = message.IdempotencyKey;
            return FailWith is { } error ? Task.FromException<DeliveryReceipt>(error) : Task.FromResult(new DeliveryReceipt(Receipt));
        }
    }
}
