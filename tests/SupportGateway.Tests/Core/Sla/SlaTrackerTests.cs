using NodaTime;
using SupportGateway.Core.Sla;
using SupportGateway.Core.Tickets;
using static SupportGateway.Tests.Core.Sla.TestCalendars;

namespace SupportGateway.Tests.Core.Sla;

// The office policy: ru-5day-2026, the regulation's targets (emergency 12 h, medium 48 h), a warning at 0.75.
// Registration Mon 16 Mar 2026 15:00 Moscow; Mon 16:00-18:00 ... each later weekday 9 h.
public sealed class SlaTrackerTests
{
    private const string Registered = "2026-03-16T15:00+03:00";

    private readonly SlaTracker _tracker;
    private readonly SlaPolicy _policy;

    public SlaTrackerTests()
    {
        var options = ShippedOptions();
        options.Policies = [new SlaPolicyOptions { Name = "office", Calendar = "ru-5day-2026", Warn = [0.75] }];
        options.DefaultPolicy = "office";
        var errors = new List<string>();
        var catalog = new SlaCatalog(options, [], errors);
        Assert.That(errors, Is.Empty);
        _tracker = new SlaTracker(catalog, new SlaSignal());
        _policy = catalog.Default;
    }

    private static BusinessCalendar Office => File("ru-5day-2026");

    private SlaPlan Plan(string priority, string now, IReadOnlySet<string>? done = null, string? lastCustomer = null,
        (string At, TicketStatus Status)[]? changes = null)
    {
        StatusChange[] history = [new(At(Registered), TicketStatus.New), .. (changes ?? []).Select(c => new StatusChange(At(c.At), c.Status))];
        var status = history[^1].Status;
        var ticket = new TicketRow
        {
            Priority = priority,
            Status = WireName.Of(status),
            CreatedAt = At(Registered).ToUnixTimeMilliseconds(),
            ResolvedAt = status == TicketStatus.Resolved ? history[^1].At.ToUnixTimeMilliseconds() : null,
        };
        var reading = SlaClock.Read(history, _policy.Calendar, _policy.TargetFor(priority), At(now));
        return _tracker.Plan(_policy, ticket, reading, done ?? new HashSet<string>(), lastCustomer is null ? null : At(lastCustomer));
    }

    private static string[] Describe(SlaPlan plan) =>
        [.. plan.Events.Select(e => $"{e.Name} {Office.Local(e.At)} acts {Office.Local(e.ActAt)}")];

    [Test]
    public void Medium_breach_at_closing_acts_at_the_next_opening()
    {
        // 48 h: Mon 15:00-18:00 = 3 h, Tue-Fri 36 h, Mon 23 Mar 9 h: used up at Mon 23 Mar 18:00, told Tue 24 Mar 09:00.
        // 36 h warning: Mon 3 h, Tue-Thu 27 h, Fri 20 Mar 09:00 + 6 h = 15:00, inside hours.
        var plan = Plan("medium", Registered);
        Assert.That(Describe(plan), Is.EqualTo(new[]
        {
            "warn:0.75 2026-03-20T15:00:00+03:00 acts 2026-03-20T15:00:00+03:00",
            "breach 2026-03-23T18:00:00+03:00 acts 2026-03-24T09:00:00+03:00",
        }));
        Assert.That(Office.Local(plan.DueAt), Is.EqualTo("2026-03-23T18:00:00+03:00"));
        Assert.That(Office.Local(plan.WarnAt), Is.EqualTo("2026-03-20T15:00:00+03:00"));
        Assert.That(Office.Local(plan.NextAt), Is.EqualTo("2026-03-20T15:00:00+03:00"));
    }

    [Test]
    public void Emergency_breach_acts_at_once_even_after_hours()
    {
        // 12 h: Mon 15:00-18:00 = 3 h, Tue 09:00-18:00 = 9 h: due Tue 17 Mar 18:00, acted on then.
        // 9 h warning: Mon 3 h, Tue 09:00 + 6 h = 15:00.
        var plan = Plan("emergency", Registered);
        Assert.That(Describe(plan), Is.EqualTo(new[]
        {
            "warn:0.75 2026-03-17T15:00:00+03:00 acts 2026-03-17T15:00:00+03:00",
            "breach 2026-03-17T18:00:00+03:00 acts 2026-03-17T18:00:00+03:00",
        }));
    }

    [Test]
    public void Events_already_done_are_not_planned_again()
    {
        var plan = Plan("medium", "2026-03-20T16:00+03:00", new HashSet<string> { SlaTracker.WarningEvent(0.75) });
        Assert.That(plan.Events.Select(e => e.Name), Is.EqualTo(new[] { SlaTracker.BreachEvent }));
        Assert.That(Office.Local(plan.NextAt), Is.EqualTo("2026-03-24T09:00:00+03:00"));
        var nothing = Plan("medium", "2026-03-24T10:00+03:00", new HashSet<string> { "warn:0.75", SlaTracker.BreachEvent });
        Assert.That(nothing.Events, Is.Empty);
        Assert.That(nothing.NextAt, Is.Null);
        Assert.That(Office.Local(nothing.DueAt), Is.EqualTo("2026-03-23T18:00:00+03:00"), "the due stays stored after the breach");
    }

    [Test]
    public void Resolved_ticket_plans_its_auto_close_three_days_on()
    {
        // Resolved Tue 17 Mar 10:00 after 4 h of 48: paused, so only the auto-close is planned, 72 calendar hours later.
        var plan = Plan("medium", "2026-03-17T11:00+03:00", changes: [("2026-03-17T10:00+03:00", TicketStatus.Resolved)]);
        Assert.That(Describe(plan), Is.EqualTo(new[] { "auto_close 2026-03-20T10:00:00+03:00 acts 2026-03-20T10:00:00+03:00" }));
        Assert.That(plan.DueAt, Is.Null);
        Assert.That(plan.Events[0].Kind, Is.EqualTo(SlaEventKind.AutoClose));
    }

    [Test]
    public void Customer_message_after_the_resolution_restarts_the_auto_close_wait()
    {
        var plan = Plan("medium", "2026-03-18T13:00+03:00", lastCustomer: "2026-03-18T12:30+03:00",
            changes: [("2026-03-17T10:00+03:00", TicketStatus.Resolved)]);
        Assert.That(Describe(plan), Is.EqualTo(new[] { "auto_close 2026-03-21T12:30:00+03:00 acts 2026-03-21T12:30:00+03:00" }));
        // A message from before the resolution does not move it.
        var earlier = Plan("medium", "2026-03-18T13:00+03:00", lastCustomer: "2026-03-17T09:30+03:00",
            changes: [("2026-03-17T10:00+03:00", TicketStatus.Resolved)]);
        Assert.That(Office.Local(earlier.Events[0].At), Is.EqualTo("2026-03-20T10:00:00+03:00"));
    }

    [Test]
    public void Resolved_after_the_breach_still_plans_the_breach_notice()
    {
        // Emergency due Tue 17 Mar 18:00; resolved Wed 10:00 after 13 h: the breach passed while running.
        var plan = Plan("emergency", "2026-03-18T11:00+03:00", new HashSet<string> { "warn:0.75" },
            changes: [("2026-03-18T10:00+03:00", TicketStatus.Resolved)]);
        Assert.That(Describe(plan), Is.EqualTo(new[]
        {
            "breach 2026-03-17T18:00:00+03:00 acts 2026-03-17T18:00:00+03:00",
            "auto_close 2026-03-21T10:00:00+03:00 acts 2026-03-21T10:00:00+03:00",
        }));
    }

    [Test]
    public void Closed_ticket_plans_nothing()
    {
        var plan = Plan("medium", "2026-03-18T11:00+03:00", changes: [("2026-03-17T10:00+03:00", TicketStatus.Closed)]);
        Assert.That(plan.Events, Is.Empty);
        Assert.That(plan.NextAt, Is.Null);
        Assert.That(plan.DueAt, Is.Null);
    }

    [Test]
    public void New_ticket_starts_with_its_policy_and_schedule()
    {
        var ticket = _tracker.Start(new TicketRow { Priority = "medium", CreatedAt = At(Registered).ToUnixTimeMilliseconds() }, null);
        Assert.That(ticket.SlaPolicy, Is.EqualTo("office"));
        Assert.That(Office.Local(Instant.FromUnixTimeMilliseconds(ticket.SlaDueAt!.Value)), Is.EqualTo("2026-03-23T18:00:00+03:00"));
        Assert.That(Office.Local(Instant.FromUnixTimeMilliseconds(ticket.SlaNextAt!.Value)), Is.EqualTo("2026-03-20T15:00:00+03:00"));
    }
}
