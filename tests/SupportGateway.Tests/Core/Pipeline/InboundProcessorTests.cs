using Microsoft.Extensions.DependencyInjection;
using SupportGateway.Core.Pipeline;
using SupportGateway.Core.Tickets;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Core.Pipeline;

[TestFixture(StorageEngine.Sqlite)]
[TestFixture(StorageEngine.Postgres)]
public sealed class InboundProcessorTests(StorageEngine engine)
{
    private CoreHarness _core = null!;
    private InboundProcessor _processor = null!;

    [SetUp]
    public async Task SetUp()
    {
        _core = await CoreHarness.StartAsync(engine);
        _processor = _core.Get<InboundProcessor>();
    }

    [TearDown]
    public async Task TearDown()
    {
        // Null when SetUp failed (no PostgreSQL cluster): its message is the one to read.
        if (_core is not null)
            await _core.DisposeAsync();
        _core = null!;
    }

    [Test]
    public async Task New_message_opens_a_ticket_with_an_ack_in_the_outbox()
    {
        var result = await _processor.IngestAsync(Messages.From("ext:1", "Printer is on fire"), CancellationToken.None);

        Assert.That(result.Outcome, Is.EqualTo(IngestOutcome.Created));
        Assert.That(result.TicketNumber, Is.EqualTo("SG-10008"));
        var view = await _core.Get<TicketService>().GetViewAsync(result.TicketNumber!, true, CancellationToken.None);
        Assert.That(view!.Ticket.Subject, Is.EqualTo("Printer is on fire"));
        Assert.That(view.Messages.Select(m => (m.Direction, m.AuthorKind)), Is.EqualTo(new[] { ("in", "customer"), ("out", "system") }));
        Assert.That(view.Messages[1].Text, Does.Contain("SG-10008"));
        Assert.That(view.Audit.Select(a => a.Action), Is.EqualTo(new[] { "created" }));
        Assert.That(await _core.CountAsync("outbox"), Is.EqualTo(1));
    }

    [Test]
    public async Task Ack_is_russian_for_cyrillic_text_and_english_otherwise()
    {
        var ru = await _processor.IngestAsync(Messages.From("ext:ru", "Не работает 1С"), CancellationToken.None);
        var en = await _processor.IngestAsync(Messages.From("ext:en", "Cannot log in"), CancellationToken.None);
        var service = _core.Get<TicketService>();
        var ruAck = (await service.GetViewAsync(ru.TicketNumber!, true, CancellationToken.None))!.Messages[1].Text;
        var enAck = (await service.GetViewAsync(en.TicketNumber!, true, CancellationToken.None))!.Messages[1].Text;
        Assert.That(ruAck, Does.StartWith("Спасибо"));
        Assert.That(enAck, Does.StartWith("Thank you"));
    }

    [Test]
    public async Task A_batch_is_processed_in_its_order_and_a_duplicate_inside_it_is_one_message()
    {
        var first = Messages.From("ext:b1", "Первая заявка");
        var batch = new[] { first, Messages.From("ext:b2", "Second request"), first }.Select(InboundJsonNormalizer.ToRaw).ToList();

        var results = await _processor.IngestManyAsync(batch, CancellationToken.None);

        Assert.That(results.Select(r => r.Outcome).ToList(), Is.EqualTo(new[] { IngestOutcome.Created, IngestOutcome.Created, IngestOutcome.Duplicate }));
        Assert.That(string.CompareOrdinal(results[0].TicketNumber, results[1].TicketNumber), Is.LessThan(0), "numbered in the order given");
        Assert.That(results[2].TicketNumber, Is.EqualTo(results[0].TicketNumber));
        Assert.That(await _core.CountAsync("messages WHERE direction = 'in'"), Is.EqualTo(2));
    }

    [Test]
    public async Task Same_external_id_twice_is_one_message()
    {
        var message = Messages.From("ext:1", "hello");
        var first = await _processor.IngestAsync(message, CancellationToken.None);
        var second = await _processor.IngestAsync(message, CancellationToken.None);

        Assert.That(second.Outcome, Is.EqualTo(IngestOutcome.Duplicate));
        Assert.That(second.TicketNumber, Is.EqualTo(first.TicketNumber));
        Assert.That(await _core.CountAsync("messages"), Is.EqualTo(2), "one customer message and one ack");
    }

    [Test]
    public async Task Explicit_number_from_a_participant_appends_to_that_ticket()
    {
        var first = await _processor.IngestAsync(Messages.From("ext:1", "first problem"), CancellationToken.None);
        var followUp = await _processor.IngestAsync(Messages.From("ext:1", $"about {first.TicketNumber}: still broken"), CancellationToken.None);

        Assert.That(followUp.Outcome, Is.EqualTo(IngestOutcome.Appended));
        Assert.That(followUp.TicketNumber, Is.EqualTo(first.TicketNumber));
    }

    [Test]
    public async Task Follow_up_from_stranger_opens_new_ticket_and_notes_why()
    {
        var first = await _processor.IngestAsync(Messages.From("ext:owner", "my problem"), CancellationToken.None);
        var stranger = await _processor.IngestAsync(Messages.From("ext:stranger", $"[{first.TicketNumber}] let me in"), CancellationToken.None);

        Assert.That(stranger.Outcome, Is.EqualTo(IngestOutcome.Created));
        Assert.That(stranger.TicketNumber, Is.Not.EqualTo(first.TicketNumber));
        var view = await _core.Get<TicketService>().GetViewAsync(stranger.TicketNumber!, true, CancellationToken.None);
        Assert.That(view!.Audit.Single(a => a.Action == "routing").NewValue, Does.Contain(first.TicketNumber));
    }

    [Test]
    public async Task Wrong_check_digit_is_not_a_follow_up()
    {
        var first = await _processor.IngestAsync(Messages.From("ext:1", "problem"), CancellationToken.None);
        var typo = first.TicketNumber![..^1] + (char)('0' + (first.TicketNumber[^1] - '0' + 1) % 10);
        var next = await _processor.IngestAsync(Messages.From("ext:1", $"{typo} again"), CancellationToken.None);
        Assert.That(next.Outcome, Is.EqualTo(IngestOutcome.Created));
    }

    [Test]
    public async Task Reply_reference_to_one_of_our_messages_threads_without_a_number()
    {
        var first = await _processor.IngestAsync(Messages.From("tg:7", "first", channel: "telegram"), CancellationToken.None);
        var firstExternalId = (await _core.Get<TicketService>().GetViewAsync(first.TicketNumber!, true, CancellationToken.None))!.Messages[0].ExternalId!;
        var reply = await _processor.IngestAsync(
            Messages.From("tg:7", "more details", channel: "telegram", hints: new ThreadHints { ReplyTo = [firstExternalId] }), CancellationToken.None);
        Assert.That(reply.TicketNumber, Is.EqualTo(first.TicketNumber));
    }

    [Test]
    public async Task Conversation_continues_its_active_ticket_until_the_sender_starts_a_new_one()
    {
        var hints = new ThreadHints { ConversationKey = "chat-1" };
        var first = await _processor.IngestAsync(Messages.From("tg:7", "first", "telegram", hints), CancellationToken.None);
        var second = await _processor.IngestAsync(Messages.From("tg:7", "second", "telegram", hints), CancellationToken.None);
        var fresh = await _processor.IngestAsync(Messages.From("tg:7", "another problem", "telegram", hints with { StartNew = true }), CancellationToken.None);
        var afterFresh = await _processor.IngestAsync(Messages.From("tg:7", "about the other one", "telegram", hints), CancellationToken.None);

        Assert.That(second.TicketNumber, Is.EqualTo(first.TicketNumber));
        Assert.That(fresh.TicketNumber, Is.Not.EqualTo(first.TicketNumber));
        Assert.That(afterFresh.TicketNumber, Is.EqualTo(fresh.TicketNumber));
    }

    [Test]
    public async Task Customer_answer_during_clarification_moves_ticket_back_in_progress()
    {
        var first = await _processor.IngestAsync(Messages.From("ext:1", "problem"), CancellationToken.None);
        await _core.Get<TicketService>().UpdateAsync(first.TicketNumber!, "agent:a@x", new TicketChanges(Status: TicketStatus.Clarification), CancellationToken.None);
        await _processor.IngestAsync(Messages.From("ext:1", $"{first.TicketNumber} here is the log"), CancellationToken.None);

        var view = await _core.Get<TicketService>().GetViewAsync(first.TicketNumber!, true, CancellationToken.None);
        Assert.That(view!.Ticket.StatusValue, Is.EqualTo(TicketStatus.InProgress));
        Assert.That(view.Audit.Last(a => a.Action == "status_changed").Actor, Does.StartWith("customer:"));
    }

    [Test]
    public async Task Failing_filter_parks_the_payload_and_replay_processes_it_once_fixed()
    {
        var breaker = new BreakingFilter { Broken = true };
        await using var core = await CoreHarness.StartAsync(engine, s => s.AddSingleton<IInboundFilter>(breaker));
        var processor = core.Get<InboundProcessor>();

        var parked = await processor.IngestAsync(Messages.From("ext:1", "hello"), CancellationToken.None);
        Assert.That(parked.Outcome, Is.EqualTo(IngestOutcome.Parked));
        Assert.That(parked.Error, Does.Contain("boom"));
        Assert.That(await core.CountAsync("tickets"), Is.Zero, "nothing half-written");
        Assert.That(await core.CountAsync("contacts"), Is.Zero, "the sender filter's work is rolled back too");
        Assert.That(await core.CountAsync("inbound"), Is.EqualTo(1), "the payload is kept");

        breaker.Broken = false;
        var replayed = await processor.ReplayAsync(parked.InboundId, CancellationToken.None);
        Assert.That(replayed!.Outcome, Is.EqualTo(IngestOutcome.Created));
        Assert.That(await processor.ReplayAsync(parked.InboundId, CancellationToken.None), Is.Null, "a processed payload is not replayed twice");
        Assert.That(await core.CountAsync("tickets"), Is.EqualTo(1));
    }

    [Test]
    public async Task Unknown_payload_format_is_parked_not_lost()
    {
        var result = await _processor.IngestAsync(new RawInbound("email", "<x@y>", "rfc822", "Subject: hi\r\n\r\nbody"u8.ToArray()), CancellationToken.None);
        Assert.That(result.Outcome, Is.EqualTo(IngestOutcome.Parked));
        Assert.That(result.Error, Does.Contain("rfc822"));
    }

    [Test]
    public async Task Concurrent_ingest_gives_distinct_numbers()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 100).Select(i =>
            Task.Run(() => _processor.IngestAsync(Messages.From($"ext:{i}", $"problem {i}"), CancellationToken.None))));
        Assert.That(results.Select(r => r.TicketNumber).Distinct().Count(), Is.EqualTo(100));
    }

    private sealed class BreakingFilter : IInboundFilter
    {
        public bool Broken { get; set; }

        public int Order => 550;

        public ValueTask RunAsync(InboundContext context, CancellationToken cancellationToken) =>
            Broken ? throw new InvalidOperationException("boom") : ValueTask.CompletedTask;
    }

    [Test]
    public async Task Auto_replies_and_bounces_are_recorded_on_the_ticket_they_name_and_open_nothing()
    {
        var opened = await _processor.IngestAsync(Messages.From("ivan@example.ru", "Printer is broken", channel: "email") with { ExternalId = "first@example.ru" },
            CancellationToken.None);
        var outOfOffice = Messages.From("ivan@example.ru", "I am on leave", channel: "email", hints: new ThreadHints { ReplyTo = ["first@example.ru"] })
            with { IsAutoSubmitted = true };
        var bounce = Messages.From("mailer-daemon@example.ru", "Mailbox full", channel: "email", hints: new ThreadHints { ReplyTo = ["first@example.ru"] })
            with { IsBounce = true };
        var stray = Messages.From("robot@example.ru", "Thank you for your mail", channel: "email") with { IsAutoSubmitted = true };

        Assert.That((await _processor.IngestAsync(outOfOffice, CancellationToken.None)).Outcome, Is.EqualTo(IngestOutcome.Appended));
        Assert.That((await _processor.IngestAsync(bounce, CancellationToken.None)).Outcome, Is.EqualTo(IngestOutcome.Appended));
        var dropped = await _processor.IngestAsync(stray, CancellationToken.None);
        Assert.That((dropped.Outcome, dropped.Error), Is.EqualTo((IngestOutcome.Dropped, "an automatic reply about no known ticket")));

        var view = await _core.Get<TicketService>().GetViewAsync(opened.TicketNumber!, true, CancellationToken.None);
        Assert.That(view!.Ticket.Status, Is.EqualTo("new"), "automatic mail changes nothing");
        Assert.That(view.Messages.Select(m => (m.AuthorKind, m.Internal)), Is.EqualTo(new[]
        {
            ("customer", false), ("system", false), ("auto_reply", true), ("delivery_failure", true),
        }));
        Assert.That(view.Audit.Select(a => a.Action), Is.EqualTo(new[] { "created", "auto_reply_received", "delivery_failed" }));
        Assert.That(await _core.CountAsync("tickets"), Is.EqualTo(1));
        Assert.That(await _core.CountAsync("outbox"), Is.EqualTo(1), "only the first message was acknowledged");
    }

    [Test]
    public async Task Notices_to_a_customer_do_not_count_against_the_acknowledgement_cap()
    {
        var service = _core.Get<TicketService>();
        for (var i = 0; i < 4; i++)
        {
            var opened = await _processor.IngestAsync(Messages.From("busy-user", $"Request {i}"), CancellationToken.None);
            var (participation, _) = await service.CloseByCustomerAsync(opened.TicketNumber!, "api", "busy-user", CancellationToken.None);
            Assert.That(participation, Is.EqualTo(Participation.Participant));
        }
        await _processor.IngestAsync(Messages.From("busy-user", "Request 4"), CancellationToken.None);

        var db = await _core.ReadAsync();
        await using var connection = db.Connection;
        var automatic = await db.ScalarAsync<long>(
            "SELECT COUNT(*) FROM outbox o JOIN messages m ON m.id = o.message_id WHERE o.recipient = 'busy-user' AND m.author_kind = 'system'",
            null, CancellationToken.None);
        Assert.That(automatic, Is.EqualTo(9), "five acknowledgements and four closure notices");
        Assert.That(await db.ScalarAsync<long>("SELECT COUNT(*) FROM audit WHERE action = 'acknowledgement_suppressed'", null, CancellationToken.None),
            Is.Zero, "the fifth request is the fifth acknowledgement");
    }

    [Test]
    public async Task Acknowledgements_to_one_address_are_capped_per_window_on_every_channel()
    {
        for (var i = 0; i < 7; i++)
            await _processor.IngestAsync(Messages.From("loop@example.ru", $"Request {i}", channel: "email"), CancellationToken.None);
        for (var i = 0; i < 7; i++)
            await _processor.IngestAsync(Messages.From("api-user", $"Request {i}"), CancellationToken.None);
        for (var i = 0; i < 2; i++)
            await _processor.IngestAsync(Messages.From("other-api-user", $"Request {i}"), CancellationToken.None);

        var db = await _core.ReadAsync();
        await using var connection = db.Connection;
        Assert.That(await _core.CountAsync("tickets"), Is.EqualTo(16), "every request is a ticket; only its acknowledgement is held back");
        var acks = await db.ListAsync<(string, string, long)>(
            "SELECT channel, recipient, COUNT(*) FROM outbox GROUP BY channel, recipient ORDER BY channel, recipient", null, CancellationToken.None);
        Assert.That(acks, Is.EqualTo(new[] { ("api", "api-user", 5L), ("api", "other-api-user", 2L), ("email", "loop@example.ru", 5L) }),
            "the default cap is 5 per address per hour, the same on every channel");
        var suppressed = await db.ScalarAsync<long>("SELECT COUNT(*) FROM audit WHERE action = 'acknowledgement_suppressed'", null, CancellationToken.None);
        Assert.That(suppressed, Is.EqualTo(4));
    }
}
