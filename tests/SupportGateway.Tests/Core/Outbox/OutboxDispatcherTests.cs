using Microsoft.Extensions.DependencyInjection;
using SupportGateway.Core.Outbox;
using SupportGateway.Core.Pipeline;
using SupportGateway.Core.Storage;
using SupportGateway.Core.Tickets;
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
        // Six hours rather than the default two days: the same rule in fewer tries (each is real work for Polly).
        _core = await CoreHarness.StartAsync(engine, s => s.AddSingleton<TimeProvider>(_time).AddSingleton<IAgentNotifier, TeamNotifier>(),
            new Dictionary<string, string?> { ["SupportGateway:Outbox:GiveUpAfter"] = "06:00:00" });
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

    private long Now => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private async Task<IReadOnlyList<OutboxRow>> RowsAsync(string channel = "api")
    {
        var db = await _core.ReadAsync();
        await using var connection = db.Connection;
        return [.. (await _core.Get<OutboxStore>().ForTicketAsync(db, _ticketId, CancellationToken.None)).Where(r => r.Channel == channel)];
    }

    private async Task<OutboxRow> RowAsync() => (await RowsAsync()).Single();

    private async Task<TicketView> ViewAsync()
    {
        var db = await _core.ReadAsync();
        await using var connection = db.Connection;
        var ticket = (await _core.Get<TicketStore>().GetManyAsync(db, [_ticketId], CancellationToken.None)).Single();
        return (await _core.Get<TicketService>().GetViewAsync(ticket.Number, includeInternal: true, CancellationToken.None))!;
    }

    private async Task<string> NumberAsync() => (await ViewAsync()).Ticket.Number;

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
        Assert.That((row.State, row.Attempts, row.LastError), Is.EqualTo((OutboxStore.Pending, 1, "connection reset")));
        Assert.That(row.NextAttemptAt, Is.GreaterThan(_time.GetUtcNow().ToUnixTimeMilliseconds() + 3000));
        Assert.That(_sender.Calls, Is.EqualTo(3), "Polly retried the blip twice inside the attempt");
        Assert.That(await DispatchAsync(), Is.Zero, "not due yet");

        _sender.FailWith = null;
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.That(await DispatchAsync(), Is.EqualTo(1));
        Assert.That((await RowAsync()).State, Is.EqualTo(OutboxStore.Sent));
    }

    [Test]
    public async Task Delivery_is_retried_by_time_with_capped_backoff_and_given_up_at_the_deadline()
    {
        _sender.FailWith = new TimeoutException("smtp timed out");
        var queued = Now;
        var deadline = queued + (long)TimeSpan.FromHours(6).TotalMilliseconds;
        var gaps = new List<long>();
        while ((await RowAsync()).State == OutboxStore.Pending)
        {
            Assert.That(await DispatchAsync(), Is.EqualTo(1));
            var row = await RowAsync();
            if (row.State != OutboxStore.Pending)
                break;
            gaps.Add(row.NextAttemptAt - Now);
            Assert.That(row.NextAttemptAt, Is.LessThanOrEqualTo(deadline), "the last try is at the deadline, not after it");
            _time.Advance(TimeSpan.FromMilliseconds(row.NextAttemptAt - Now));
        }

        var failed = await RowAsync();
        Assert.That(failed.State, Is.EqualTo(OutboxStore.Failed));
        Assert.That(failed.FailedAt, Is.EqualTo(deadline), "given up on the try at the deadline");
        Assert.That(failed.LastError, Is.EqualTo("no answer within 30 s"), "in plain words");
        Assert.That(gaps[0], Is.InRange(4000, 6000), "the backoff starts at FirstRetryDelay");
        Assert.That(gaps.Max(), Is.LessThanOrEqualTo((long)TimeSpan.FromMinutes(30).TotalMilliseconds), "and is capped at MaxRetryDelay");
        Assert.That(failed.Attempts, Is.GreaterThan(15), "one try every 30 minutes once the backoff reached its cap, until the deadline");
        Assert.That(await DispatchAsync(), Is.Zero, "a failed row is not retried");
    }

    [Test]
    public async Task Given_up_delivery_shows_on_the_ticket_and_the_agents_are_told()
    {
        _sender.FailWith = new PermanentDeliveryException("ivan@example.ru: 550 5.1.1 mailbox unknown");
        await DispatchAsync();

        var view = await ViewAsync();
        var failed = view.FailedDeliveries!.Single();
        Assert.That((failed.Channel, failed.LastError, failed.FailedAt), Is.EqualTo(("api", "ivan@example.ru: 550 5.1.1 mailbox unknown", Now)));
        Assert.That(view.Audit.Select(a => a.Action), Does.Contain("delivery_failed"));
        var note = view.Messages.Last();
        Assert.That((note.Internal, note.AuthorKind), Is.EqualTo((true, "system")));
        Assert.That(note.Text, Does.Contain("550 5.1.1 mailbox unknown").And.Contain($"outbox retry {view.Ticket.Number}").And.Contain("«Thank you! Your request is registered as"));
        var mailed = await RowsAsync(TeamNotifier.ChannelName);
        Assert.That(mailed.Select(r => r.MessageId), Does.Contain(note.Id), "the note is queued to the agents' notifier");
    }

    [Test]
    public async Task Given_up_agents_notice_is_noted_on_the_ticket_without_a_notice_about_itself()
    {
        var team = new ScriptedSender(TeamNotifier.ChannelName) { FailWith = new PermanentDeliveryException("550 no such team address") };
        var before = (await RowsAsync(TeamNotifier.ChannelName)).Count;
        await _dispatcher.DispatchDueAsync(team, _dispatcher.BuildPipeline(TeamNotifier.ChannelName), CancellationToken.None);

        var view = await ViewAsync();
        Assert.That(view.FailedDeliveries!.Select(f => f.Channel), Is.EqualTo(new[] { TeamNotifier.ChannelName }));
        Assert.That(view.Messages.Last().Text, Does.Contain("550 no such team address"));
        Assert.That((await RowsAsync(TeamNotifier.ChannelName)).Count, Is.EqualTo(before), "no mail about the mail that cannot go");
    }

    [Test]
    public async Task Requeued_delivery_gets_a_new_period_and_is_sent()
    {
        _sender.FailWith = new PermanentDeliveryException("bot was blocked by the user");
        await DispatchAsync();
        _time.Advance(TimeSpan.FromDays(3));
        await using (var session = await _core.Get<Database>().BeginAsync(CancellationToken.None))
        {
            Assert.That(await _core.Get<OutboxStore>().RequeueFailedAsync(session, _ticketId, Now, CancellationToken.None), Is.EqualTo(1));
            await session.CommitAsync(CancellationToken.None);
        }
        var row = await RowAsync();
        Assert.That((row.State, row.QueuedAt, row.FailedAt), Is.EqualTo((OutboxStore.Pending, Now, (long?)null)));

        _sender.FailWith = new IOException("connection reset");
        await DispatchAsync();
        Assert.That((await RowAsync()).State, Is.EqualTo(OutboxStore.Pending), "retried, not given up: the period starts again");
        _sender.FailWith = null;
        _time.Advance(TimeSpan.FromMinutes(1));
        await DispatchAsync();
        Assert.That(((await RowAsync()).State, (await ViewAsync()).FailedDeliveries), Is.EqualTo((OutboxStore.Sent, Array.Empty<OutboxRow>())));
    }

    [Test]
    public async Task Throttled_send_waits_for_the_providers_retry_after()
    {
        _sender.FailWith = new DeliveryThrottledException("429 Too Many Requests", TimeSpan.FromMinutes(40));
        await DispatchAsync();

        var row = await RowAsync();
        Assert.That(_sender.Calls, Is.EqualTo(1), "not retried inside the attempt either");
        Assert.That((row.State, row.NextAttemptAt), Is.EqualTo((OutboxStore.Pending, Now + (long)TimeSpan.FromMinutes(40).TotalMilliseconds)),
            "Retry-After, though longer than MaxRetryDelay");
        _time.Advance(TimeSpan.FromMinutes(39));
        Assert.That(await DispatchAsync(), Is.Zero);
        _sender.FailWith = null;
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.That(await DispatchAsync(), Is.EqualTo(1));
    }

    [Test]
    public async Task Answers_wait_behind_an_earlier_message_of_the_ticket_that_waits_for_a_retry()
    {
        var number = await NumberAsync();
        var service = _core.Get<TicketService>();
        await service.ReplyAsync(number, "anna@support.example", "Anna", "first answer", false, [], CancellationToken.None);
        _sender.FailWith = new IOException("connection refused");
        _sender.FailOnly = "Thank you!";

        Assert.That(await DispatchAsync(), Is.EqualTo(2), "both claimed in one batch");
        Assert.That(_sender.Sent, Is.EqualTo(new[] { "ack", "ack", "ack" }), "tried three times (Polly), and the answer is not sent past it");
        Assert.That((await RowsAsync()).Select(r => (r.State, r.Attempts)), Is.EqualTo(new[] { (OutboxStore.Pending, 1), (OutboxStore.Pending, 0) }));

        // An answer written during the outage is due at once, the acknowledgement only after its backoff.
        _time.Advance(TimeSpan.FromSeconds(1));
        await service.ReplyAsync(number, "anna@support.example", "Anna", "second answer", false, [], CancellationToken.None);
        Assert.That(await DispatchAsync(), Is.Zero, "everything waits behind the acknowledgement");

        _sender.FailWith = null;
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.That(await DispatchAsync(), Is.EqualTo(3));
        Assert.That(_sender.Sent.Skip(3), Is.EqualTo(new[] { "ack", "first answer", "second answer" }), "once each, in the order written");
    }

    [Test]
    public async Task Row_left_in_flight_by_a_crash_is_claimed_again_after_its_lease()
    {
        await using (var session = await _core.Get<Database>().BeginAsync(CancellationToken.None))
        {
            var claimed = await _core.Get<OutboxStore>().ClaimAsync(session, "api", Now, 120_000, 10, CancellationToken.None);
            Assert.That(claimed, Has.Count.EqualTo(1));
            await session.CommitAsync(CancellationToken.None);
        }
        Assert.That(await DispatchAsync(), Is.Zero, "still leased");
        _time.Advance(TimeSpan.FromMinutes(3));
        Assert.That(await DispatchAsync(), Is.EqualTo(1));
    }

    [Test]
    public async Task A_send_that_loses_the_storage_counts_no_attempt_and_goes_out_once_the_storage_is_back()
    {
        var availability = _core.Get<StorageAvailability>();
        // What a sender that reads the storage (a file to attach, a signal to the other instances) meets when it goes away.
        _sender.FailWith = engine == StorageEngine.Sqlite
            ? new Microsoft.Data.Sqlite.SqliteException("database or disk is full", 13)
            : new Npgsql.NpgsqlException("Exception while reading from stream", new EndOfStreamException());
        Assert.That(await DispatchAsync(), Is.EqualTo(1));

        var row = await RowAsync();
        Assert.That((row.State, row.Attempts, row.LastError), Is.EqualTo((OutboxStore.Pending, 0, (string?)null)), "not the recipient's failure");
        Assert.That(row.NextAttemptAt, Is.LessThanOrEqualTo(Now), "due again at once, with no backoff");
        Assert.That(availability.IsAvailable, Is.False, "the outage is noticed");

        _sender.FailWith = null;
        availability.Recovered();
        Assert.That(await DispatchAsync(), Is.EqualTo(1));
        Assert.That((await RowAsync()).State, Is.EqualTo(OutboxStore.Sent));
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

    private sealed class ScriptedSender(string channel = "api") : IOutboundSender
    {
        public Exception? FailWith { get; set; }

        /// <summary>When set, only a message whose text starts so fails.</summary>
        public string? FailOnly { get; set; }

        public string? Receipt { get; set; }
        public int Calls { get; private set; }
        public string? LastKey { get; private set; }
        /// <summary>What was tried, in order: "ack" for the acknowledgement, else the text.</summary>
        public List<string> Sent { get; } = [];

        public string Channel => channel;

        public Task<DeliveryReceipt> SendAsync(OutboundMessage message, CancellationToken cancellationToken)
        {
            Calls++;
            LastKey = message.IdempotencyKey;
            Sent.Add(message.Message.Text.StartsWith("Thank you!", StringComparison.Ordinal) ? "ack" : message.Message.Text);
            return FailWith is { } error && (FailOnly is null || message.Message.Text.StartsWith(FailOnly, StringComparison.Ordinal))
                ? Task.FromException<DeliveryReceipt>(error) : Task.FromResult(new DeliveryReceipt(Receipt));
        }
    }
}
