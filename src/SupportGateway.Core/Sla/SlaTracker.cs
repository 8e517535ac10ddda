using NodaTime;
using SupportGateway.Core.Storage;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Core.Sla;

public enum SlaEventKind { Warning, Breach, AutoClose }

/// <summary>Something the scheduler does for a ticket once: <see cref="ActAt"/> is when it may (warnings wait for open hours).</summary>
public readonly record struct SlaEvent(string Name, SlaEventKind Kind, Instant At, Instant ActAt, double Share);

/// <summary>What a ticket's clock shows, with its policy: what the agent API and <c>sla explain</c> print.</summary>
public sealed record SlaSnapshot(SlaPolicy Policy, Duration Target, SlaReading Reading, IReadOnlyList<StatusChange> History,
    Instant? FirstResponseDueAt);

/// <summary>
/// Keeps the stored SLA columns of a ticket (due, first warning, next scheduler instant) in step with its status
/// history, inside the transaction that changes it. The clock itself is <see cref="SlaClock"/>.
/// </summary>
public sealed class SlaTracker(SlaCatalog catalog, SlaSignal signal)
{
    public const string BreachEvent = "breach";
    public const string AutoCloseEvent = "auto_close";

    /// <summary>Keeps each IN list well below SQLite's and PostgreSQL's parameter limits.</summary>
    private const int IdsPerQuery = 500;

    public SlaCatalog Catalog => catalog;

    public static string WarningEvent(double share) => FormattableString.Invariant($"warn:{share:0.###}");

    /// <summary>A ticket about to be inserted: its policy and first schedule, computed without a query.</summary>
    public TicketRow Start(TicketRow ticket, string? organisationAccount)
    {
        var policy = catalog.PolicyForOrganisation(organisationAccount);
        var created = Instant.FromUnixTimeMilliseconds(ticket.CreatedAt);
        var reading = SlaClock.Read([new StatusChange(created, TicketStatus.New)], policy.Calendar, policy.TargetFor(ticket.Priority), created);
        return Apply(ticket with { SlaPolicy = policy.Name }, Plan(policy, ticket, reading, new HashSet<string>(), null));
    }

    public async Task<IReadOnlyList<StatusChange>> HistoryAsync(SqlScope db, TicketRow ticket, CancellationToken cancellationToken)
    {
        var changes = await db.ListAsync<AuditRow>(
            "SELECT at, new_value FROM audit WHERE ticket_id = @id AND action = 'status_changed' ORDER BY id", new { id = ticket.Id }, cancellationToken);
        return [new StatusChange(Instant.FromUnixTimeMilliseconds(ticket.CreatedAt), TicketStatus.New),
            .. changes.Select(c => new StatusChange(Instant.FromUnixTimeMilliseconds(c.At), WireName.Parse<TicketStatus>(c.NewValue!)))];
    }

    /// <summary>
    /// The status histories of many tickets, one query per <see cref="IdsPerQuery"/> ids, shaped as
    /// <see cref="HistoryAsync"/> shapes one (for lists and the report, on a reading connection).
    /// </summary>
    public static async Task<Dictionary<long, List<StatusChange>>> HistoriesAsync(SqlScope db, IReadOnlyList<TicketRow> tickets,
        CancellationToken cancellationToken)
    {
        var histories = tickets.ToDictionary(t => t.Id,
            t => new List<StatusChange> { new(Instant.FromUnixTimeMilliseconds(t.CreatedAt), TicketStatus.New) });
        foreach (var chunk in tickets.Select(t => t.Id).Chunk(IdsPerQuery))
        {
            var changes = await db.ListAsync<(long TicketId, long At, string NewValue)>("""
                SELECT ticket_id, at, new_value FROM audit WHERE action = 'status_changed' AND ticket_id IN @ids ORDER BY ticket_id, id
                """, new { ids = chunk }, cancellationToken);
            foreach (var change in changes)
                histories[change.TicketId].Add(new StatusChange(Instant.FromUnixTimeMilliseconds(change.At), WireName.Parse<TicketStatus>(change.NewValue)));
        }
        return histories;
    }

    public async Task<SlaSnapshot> ReadAsync(SqlScope db, TicketRow ticket, Instant now, CancellationToken cancellationToken) =>
        Snapshot(ticket, await HistoryAsync(db, ticket, cancellationToken), await FirstAnswerAsync(db, ticket, cancellationToken), now);

    /// <summary>The clocks of a list of tickets: their histories in one query, not one each.</summary>
    public async Task<IReadOnlyList<SlaSnapshot>> ReadManyAsync(SqlScope db, IReadOnlyList<TicketRow> tickets, Instant now, CancellationToken cancellationToken)
    {
        var histories = await HistoriesAsync(db, tickets, cancellationToken);
        var snapshots = new List<SlaSnapshot>(tickets.Count);
        foreach (var ticket in tickets)
            snapshots.Add(Snapshot(ticket, histories[ticket.Id], await FirstAnswerAsync(db, ticket, cancellationToken), now));
        return snapshots;
    }

    /// <summary>When an agent first answered the customer; read only for a policy with first-response targets.</summary>
    private async Task<Instant?> FirstAnswerAsync(SqlScope db, TicketRow ticket, CancellationToken cancellationToken)
    {
        if (catalog.Policy(ticket.SlaPolicy).FirstResponse is null)
            return null;
        var at = await db.ScalarAsync<long?>("""
            SELECT MIN(created_at) FROM messages WHERE ticket_id = @id AND author_kind = 'agent' AND internal = @no
            """, new { id = ticket.Id, no = false }, cancellationToken);
        return at is { } v ? Instant.FromUnixTimeMilliseconds(v) : null;
    }

    private SlaSnapshot Snapshot(TicketRow ticket, IReadOnlyList<StatusChange> history, Instant? answeredAt, Instant now)
    {
        var policy = catalog.Policy(ticket.SlaPolicy);
        var target = policy.TargetFor(ticket.Priority);
        Instant? firstResponseDue = null;
        if (policy.FirstResponse is { } first)
        {
            // The first-response clock is the same clock, stopped at the first answer.
            var stopped = answeredAt is { } at && at < now
                ? [.. history.Where(h => h.At < at), new StatusChange(at, TicketStatus.Closed)]
                : history;
            var reading = SlaClock.Read(stopped, policy.Calendar, first[WireName.Parse<TicketPriority>(ticket.Priority)], now);
            firstResponseDue = reading.DueAt ?? reading.When(reading.Target);
        }
        return new SlaSnapshot(policy, target, SlaClock.Read(history, policy.Calendar, target, now), history, firstResponseDue);
    }

    /// <summary>Recomputes and stores the ticket's SLA columns after a change of status or priority; returns the due instants before and after.</summary>
    public async Task<(long? Before, long? After)> RecomputeAsync(SqlScope db, TicketRow ticket, long now, CancellationToken cancellationToken)
    {
        var plan = await PlanAsync(db, ticket, Instant.FromUnixTimeMilliseconds(now), cancellationToken);
        return (ticket.SlaDueAt, await StoreAsync(db, ticket, plan.Plan, cancellationToken));
    }

    /// <summary>Stores a plan already computed (the scheduler's, less what it just did); returns the stored due instant.</summary>
    public async Task<long?> StoreAsync(SqlScope db, TicketRow ticket, SlaPlan plan, CancellationToken cancellationToken)
    {
        var updated = Apply(ticket, plan);
        await db.WriteAsync("""
            UPDATE tickets SET sla_due_at = @SlaDueAt, sla_warn_at = @SlaWarnAt, sla_next_at = @SlaNextAt WHERE id = @Id
            """, updated, cancellationToken);
        if (updated.SlaNextAt != ticket.SlaNextAt)
            signal.Notify();
        return updated.SlaDueAt;
    }

    /// <summary>The events of a ticket not done yet, read from the database.</summary>
    public async Task<(SlaSnapshot Snapshot, SlaPlan Plan)> PlanAsync(SqlScope db, TicketRow ticket, Instant now, CancellationToken cancellationToken)
    {
        var snapshot = await ReadAsync(db, ticket, now, cancellationToken);
        // Rows, not scalars: the writer's prepared-statement cache maps rows.
        var done = (await db.ListAsync<SlaEventRow>("SELECT event FROM sla_events WHERE ticket_id = @id", new { id = ticket.Id }, cancellationToken))
            .Select(e => e.Event).ToHashSet();
        Instant? lastCustomer = null;
        if (ticket.StatusValue == TicketStatus.Resolved)
        {
            var at = await db.ScalarAsync<long?>("SELECT MAX(created_at) FROM messages WHERE ticket_id = @id AND author_kind = 'customer'",
                new { id = ticket.Id }, cancellationToken);
            lastCustomer = at is { } v ? Instant.FromUnixTimeMilliseconds(v) : null;
        }
        return (snapshot, Plan(snapshot.Policy, ticket, snapshot.Reading, done, lastCustomer));
    }

    /// <summary>
    /// What is left to do, and when: a warning per threshold and the breach notice, each at the earliest open hour of
    /// the calendar after the clock passed it (an emergency's breach at once), and the auto-close of a resolved ticket
    /// the customer left unanswered.
    /// </summary>
    public SlaPlan Plan(SlaPolicy policy, TicketRow ticket, SlaReading reading, IReadOnlySet<string> done, Instant? lastCustomerAt)
    {
        var events = new List<SlaEvent>();
        if (reading.State != ClockState.Stopped)
        {
            foreach (var share in policy.Warn)
            {
                var name = WarningEvent(share);
                if (!done.Contains(name) && reading.When(reading.Target * share) is { } at)
                    events.Add(new SlaEvent(name, SlaEventKind.Warning, at, policy.Calendar.NextOpenAt(at), share));
            }
            if (!done.Contains(BreachEvent) && reading.When(reading.Target) is { } due)
            {
                var now = ticket.Priority == WireName.Of(TicketPriority.Emergency);
                events.Add(new SlaEvent(BreachEvent, SlaEventKind.Breach, due, now ? due : policy.Calendar.NextOpenAt(due), 1));
            }
        }
        if (ticket.StatusValue == TicketStatus.Resolved && ticket.ResolvedAt is { } resolved && !done.Contains(AutoCloseEvent))
        {
            var from = Instant.Max(Instant.FromUnixTimeMilliseconds(resolved), lastCustomerAt ?? Instant.MinValue);
            var at = from + Duration.FromTimeSpan(catalog.AutoCloseAfter);
            events.Add(new SlaEvent(AutoCloseEvent, SlaEventKind.AutoClose, at, at, 0));
        }
        var warnAt = policy.Warn.Count > 0 ? reading.When(reading.Target * policy.Warn[0]) : null;
        return new SlaPlan(reading.When(reading.Target), warnAt, events.Count == 0 ? null : events.Min(e => e.ActAt), events);
    }

    private static TicketRow Apply(TicketRow ticket, SlaPlan plan) => ticket with
    {
        SlaDueAt = plan.DueAt?.ToUnixTimeMilliseconds(),
        SlaWarnAt = plan.WarnAt?.ToUnixTimeMilliseconds(),
        SlaNextAt = plan.NextAt?.ToUnixTimeMilliseconds(),
    };
}

internal sealed record SlaEventRow
{
    public string Event { get; init; } = "";
}

/// <summary>The stored schedule of a ticket and the events it is made of.</summary>
public sealed record SlaPlan(Instant? DueAt, Instant? WarnAt, Instant? NextAt, IReadOnlyList<SlaEvent> Events)
{
    /// <summary>The same schedule once the named events are done: the clock is unchanged, only the next instant moves.</summary>
    public SlaPlan Without(IReadOnlyCollection<string> done)
    {
        var left = Events.Where(e => !done.Contains(e.Name)).ToList();
        return this with { Events = left, NextAt = left.Count == 0 ? null : left.Min(e => e.ActAt) };
    }
}

/// <summary>Wakes the scheduler when a ticket's next instant may have moved earlier.</summary>
public sealed class SlaSignal
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Notify()
    {
        try
        {
            if (_signal.CurrentCount == 0)
                _signal.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled.
        }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _signal.WaitAsync(timeout, cancellationToken);
}
