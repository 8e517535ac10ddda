using NodaTime;
using SupportGateway.Core.Sla;
using SupportGateway.Core.Tickets;
using static SupportGateway.Tests.Core.Sla.TestCalendars;

namespace SupportGateway.Tests.Core.Sla;

// All on ru-5day-2026 (Mon-Fri 09:00-18:00 Moscow) in the ordinary weeks of March 2026: Mon 16 to Fri 20 Mar,
// the weekend 21-22 Mar, Mon 23 Mar.
public sealed class SlaClockTests
{
    private static readonly BusinessCalendar Office = File("ru-5day-2026");

    private static readonly Duration Eight = Duration.FromHours(8);

    private static StatusChange[] History(params (string At, TicketStatus Status)[] changes) =>
        [.. changes.Select(c => new StatusChange(At(c.At), c.Status))];

    private static SlaReading Read(StatusChange[] history, Duration target, string now) => SlaClock.Read(history, Office, target, At(now));

    [Test]
    public void Clarification_is_left_out_and_paused_counts_real_time()
    {
        var history = History(("2026-03-16T10:00+03:00", TicketStatus.New), ("2026-03-16T11:00+03:00", TicketStatus.InProgress),
            ("2026-03-16T12:00+03:00", TicketStatus.Clarification), ("2026-03-16T15:30+03:00", TicketStatus.InProgress));
        var reading = Read(history, Eight, "2026-03-17T10:00+03:00");
        // Running 10:00-12:00 = 2 h, 15:30-18:00 = 2 h 30 min, Tue 09:00-10:00 = 1 h; paused 12:00-15:30.
        Assert.That(reading.State, Is.EqualTo(ClockState.Running));
        Assert.That(reading.BusinessElapsed, Is.EqualTo(Duration.FromMinutes(330)));
        Assert.That(reading.Paused, Is.EqualTo(Duration.FromMinutes(210)));
        // 2 h 30 min left from Tue 10:00.
        Assert.That(Office.Local(reading.DueAt), Is.EqualTo("2026-03-17T12:30:00+03:00"));
        Assert.That(reading.Breached, Is.False);
    }

    [Test]
    public void Overnight_clarification_pauses_for_every_real_second()
    {
        // Paused Mon 17:00 to Tue 10:00: 17 real hours, of which only 2 were open.
        var history = History(("2026-03-16T09:00+03:00", TicketStatus.New), ("2026-03-16T17:00+03:00", TicketStatus.Clarification),
            ("2026-03-17T10:00+03:00", TicketStatus.InProgress));
        var reading = Read(history, Eight, "2026-03-17T10:00+03:00");
        Assert.That(reading.Paused, Is.EqualTo(Duration.FromHours(17)));
        Assert.That(reading.BusinessElapsed, Is.EqualTo(Duration.FromHours(8)));
        Assert.That(reading.Breached, Is.False, "8 h of an 8 h target is met, not breached");
    }

    [Test]
    public void Resolution_awaiting_confirmation_pauses_the_clock()
    {
        var history = History(("2026-03-16T09:00+03:00", TicketStatus.New), ("2026-03-16T13:00+03:00", TicketStatus.Resolved));
        var reading = Read(history, Eight, "2026-03-18T12:00+03:00");
        // 4 h used Mon 09:00-13:00; paused Mon 13:00 to Wed 12:00 = 47 h; 4 h left from Wed 12:00 = 16:00.
        Assert.That(reading.State, Is.EqualTo(ClockState.Paused));
        Assert.That(reading.BusinessElapsed, Is.EqualTo(Duration.FromHours(4)));
        Assert.That(reading.Paused, Is.EqualTo(Duration.FromHours(47)));
        Assert.That(Office.Local(reading.DueAt), Is.EqualTo("2026-03-18T16:00:00+03:00"));
        Assert.That(reading.When(Eight), Is.Null, "no instant while paused short of the target");
        Assert.That(Office.Local(reading.When(Duration.FromHours(2))), Is.EqualTo("2026-03-16T11:00:00+03:00"), "a share already passed");
    }

    [Test]
    public void Due_moves_forward_while_paused()
    {
        var history = History(("2026-03-16T09:00+03:00", TicketStatus.New), ("2026-03-16T13:00+03:00", TicketStatus.Clarification));
        // 4 h left: from Mon 14:00 due Mon 18:00; from Tue 10:00 due Tue 14:00; from Sat 21 Mar due Mon 23 Mar 13:00.
        Assert.That(Office.Local(Read(history, Eight, "2026-03-16T14:00+03:00").DueAt), Is.EqualTo("2026-03-16T18:00:00+03:00"));
        Assert.That(Office.Local(Read(history, Eight, "2026-03-17T10:00+03:00").DueAt), Is.EqualTo("2026-03-17T14:00:00+03:00"));
        Assert.That(Office.Local(Read(history, Eight, "2026-03-21T12:00+03:00").DueAt), Is.EqualTo("2026-03-23T13:00:00+03:00"));
    }

    [Test]
    public void Objection_to_a_resolution_resumes_the_clock()
    {
        var history = History(("2026-03-16T09:00+03:00", TicketStatus.New), ("2026-03-16T13:00+03:00", TicketStatus.Resolved),
            ("2026-03-17T10:00+03:00", TicketStatus.InProgress));
        var reading = Read(history, Eight, "2026-03-17T12:00+03:00");
        // Mon 09:00-13:00 = 4 h, Tue 10:00-12:00 = 2 h; paused Mon 13:00 to Tue 10:00 = 21 h; 2 h left: Tue 14:00.
        Assert.That(reading.State, Is.EqualTo(ClockState.Running));
        Assert.That(reading.BusinessElapsed, Is.EqualTo(Duration.FromHours(6)));
        Assert.That(reading.Paused, Is.EqualTo(Duration.FromHours(21)));
        Assert.That(Office.Local(reading.DueAt), Is.EqualTo("2026-03-17T14:00:00+03:00"));
    }

    [Test]
    public void Closed_ticket_stops_and_a_reopened_one_runs_again()
    {
        var closed = History(("2026-03-16T09:00+03:00", TicketStatus.New), ("2026-03-16T12:00+03:00", TicketStatus.Resolved),
            ("2026-03-16T15:00+03:00", TicketStatus.Closed));
        var stopped = Read(closed, Eight, "2026-03-18T11:00+03:00");
        Assert.That(stopped.State, Is.EqualTo(ClockState.Stopped));
        Assert.That(stopped.BusinessElapsed, Is.EqualTo(Duration.FromHours(3)));
        Assert.That(stopped.Paused, Is.EqualTo(Duration.FromHours(3)), "closed time is not paused time");
        Assert.That(stopped.DueAt, Is.Null, "a closed ticket that met its target has no due");

        StatusChange[] reopened = [.. closed, new StatusChange(At("2026-03-18T09:00+03:00"), TicketStatus.InProgress)];
        var running = Read(reopened, Eight, "2026-03-18T11:00+03:00");
        // Mon 09:00-12:00 = 3 h, Wed 09:00-11:00 = 2 h; 3 h left from Wed 11:00 = 14:00.
        Assert.That(running.State, Is.EqualTo(ClockState.Running));
        Assert.That(running.BusinessElapsed, Is.EqualTo(Duration.FromHours(5)));
        Assert.That(running.Paused, Is.EqualTo(Duration.FromHours(3)));
        Assert.That(Office.Local(running.DueAt), Is.EqualTo("2026-03-18T14:00:00+03:00"));
    }

    [Test]
    public void Closed_after_the_target_keeps_the_due_it_missed()
    {
        var history = History(("2026-03-16T09:00+03:00", TicketStatus.New), ("2026-03-16T12:00+03:00", TicketStatus.Closed));
        var reading = Read(history, Duration.FromHours(2), "2026-03-20T12:00+03:00");
        Assert.That(reading.Breached, Is.True);
        Assert.That(Office.Local(reading.DueAt), Is.EqualTo("2026-03-16T11:00:00+03:00"));
    }

    [TestCase(48, "2026-03-23T12:00:00+03:00", false)] // Mon-Fri 45 h, Mon 23 Mar 09:00 + 3 h
    [TestCase(12, "2026-03-17T12:00:00+03:00", false)] // Mon 9 h, Tue 09:00 + 3 h
    [TestCase(8, "2026-03-16T17:00:00+03:00", true)] // already passed when the priority rose
    public void New_target_over_the_same_history_counts_from_registration(int hours, string due, bool breached)
    {
        var history = History(("2026-03-16T09:00+03:00", TicketStatus.New), ("2026-03-16T09:30+03:00", TicketStatus.InProgress));
        var reading = Read(history, Duration.FromHours(hours), "2026-03-17T10:00+03:00");
        Assert.That(reading.BusinessElapsed, Is.EqualTo(Duration.FromHours(10)));
        Assert.That(Office.Local(reading.DueAt), Is.EqualTo(due));
        Assert.That(reading.Breached, Is.EqualTo(breached));
    }

    [Test]
    public void Met_at_exactly_the_target_and_breached_a_second_later()
    {
        var history = History(("2026-03-16T09:00+03:00", TicketStatus.New));
        var atTarget = Read(history, Eight, "2026-03-16T17:00+03:00");
        Assert.That(atTarget.BusinessElapsed, Is.EqualTo(Eight));
        Assert.That(atTarget.Breached, Is.False);
        Assert.That(atTarget.DueAt, Is.EqualTo(atTarget.Now));
        var after = SlaClock.Read(history, Office, Eight, At("2026-03-16T17:00+03:00") + Duration.FromSeconds(1));
        Assert.That(after.Breached, Is.True);
        Assert.That(after.DueAt, Is.EqualTo(atTarget.Now));
    }

    [Test]
    public void Breach_at_closing_is_not_met_by_the_evening()
    {
        // Registered Mon 10:00, 8 h target: due Mon 18:00 (closing). At Mon 20:00 still 8 h used: met.
        var history = History(("2026-03-16T10:00+03:00", TicketStatus.New));
        var evening = Read(history, Eight, "2026-03-16T20:00+03:00");
        Assert.That(Office.Local(evening.DueAt), Is.EqualTo("2026-03-16T18:00:00+03:00"));
        Assert.That(evening.Breached, Is.False);
        Assert.That(Read(history, Eight, "2026-03-17T09:00:01+03:00").Breached, Is.True);
    }

    [TestCase("2026-03-16T09:00+03:00", "2026-03-16T15:00:00+03:00")] // 09:00 + 6 h
    [TestCase("2026-03-16T16:00+03:00", "2026-03-17T13:00:00+03:00")] // Mon 16:00-18:00 = 2 h, Tue 09:00 + 4 h
    [TestCase("2026-03-20T17:00+03:00", "2026-03-23T14:00:00+03:00")] // Fri 1 h, Mon 23 Mar 09:00 + 5 h
    public void Warning_at_three_quarters_of_the_target(string registered, string warnAt)
    {
        var history = History((registered, TicketStatus.New));
        var reading = SlaClock.Read(history, Office, Eight, At(registered));
        Assert.That(Office.Local(reading.When(Eight * 0.75)), Is.EqualTo(warnAt));
    }

    [Test]
    public void Explain_cuts_the_life_into_contiguous_segments()
    {
        var history = History(("2026-03-16T17:00+03:00", TicketStatus.New), ("2026-03-17T10:00+03:00", TicketStatus.Clarification),
            ("2026-03-17T11:00+03:00", TicketStatus.InProgress), ("2026-03-17T12:00+03:00", TicketStatus.Resolved),
            ("2026-03-17T14:00+03:00", TicketStatus.Closed), ("2026-03-18T08:00+03:00", TicketStatus.InProgress));
        var now = At("2026-03-18T10:00+03:00");
        var segments = SlaClock.Explain(history, Office, now);
        Assert.That(segments.Select(s => $"{Office.Local(s.Start)[5..16]} {Office.Local(s.End)[5..16]} {s.Kind}"), Is.EqualTo(new[]
        {
            "03-16T17:00 03-16T18:00 Running",
            "03-16T18:00 03-17T09:00 OutsideHours",
            "03-17T09:00 03-17T10:00 Running",
            "03-17T10:00 03-17T11:00 Paused",
            "03-17T11:00 03-17T12:00 Running",
            "03-17T12:00 03-17T14:00 Paused",
            "03-17T14:00 03-18T08:00 Stopped",
            "03-18T08:00 03-18T09:00 OutsideHours",
            "03-18T09:00 03-18T10:00 Running",
        }));
        Assert.That(segments[0].Start, Is.EqualTo(history[0].At));
        Assert.That(segments[^1].End, Is.EqualTo(now));
        Assert.That(segments.Zip(segments.Skip(1)).All(p => p.First.End == p.Second.Start), Is.True);
        // The running segments add up to the reading's business time, the paused ones to its paused time.
        var reading = SlaClock.Read(history, Office, Eight, now);
        Assert.That(Sum(segments, SegmentKind.Running), Is.EqualTo(reading.BusinessElapsed).And.EqualTo(Duration.FromHours(4)));
        Assert.That(Sum(segments, SegmentKind.Paused), Is.EqualTo(reading.Paused).And.EqualTo(Duration.FromHours(3)));
    }

    [Test]
    public void Explain_over_a_weekend_of_running_time()
    {
        var history = History(("2026-03-20T16:00+03:00", TicketStatus.New));
        var segments = SlaClock.Explain(history, Office, At("2026-03-23T10:00+03:00"));
        Assert.That(segments.Select(s => s.Kind), Is.EqualTo(new[] { SegmentKind.Running, SegmentKind.OutsideHours, SegmentKind.Running }));
        Assert.That(Office.Local(segments[1].End), Is.EqualTo("2026-03-23T09:00:00+03:00"));
    }

    [Test]
    public void Changes_after_now_are_not_read()
    {
        var history = History(("2026-03-16T09:00+03:00", TicketStatus.New), ("2026-03-16T12:00+03:00", TicketStatus.Closed));
        var reading = Read(history, Eight, "2026-03-16T11:00+03:00");
        Assert.That(reading.BusinessElapsed, Is.EqualTo(Duration.FromHours(2)));
        Assert.That(Office.Local(reading.DueAt), Is.EqualTo("2026-03-16T17:00:00+03:00"));
    }

    private static Duration Sum(IEnumerable<ClockSegment> segments, SegmentKind kind) =>
        segments.Where(s => s.Kind == kind).Aggregate(Duration.Zero, (total, s) => total + (s.End - s.Start));
}
