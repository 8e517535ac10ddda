using NodaTime;
using SupportGateway.Core.Storage;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Core.Sla;

/// <summary>One closed ticket as the report measures it: business time (paused time excluded) and the verdict.</summary>
public sealed record ClosedTicket(string Number, TicketPriority Priority, Instant ClosedAt, Duration ToResolution, Duration ToClosure,
    Duration Target, bool Met);

/// <summary>Median and 90th percentile of business hours; null when there is nothing to measure.</summary>
public readonly record struct HoursSummary(double? Median, double? P90);

/// <summary>A row of the table: one priority, or the total when <see cref="Priority"/> is null.</summary>
public sealed record SlaReportLine(TicketPriority? Priority, int Closed, int Met, double? ShareMet, HoursSummary ToResolution, HoursSummary ToClosure);

public sealed record BreachedTicket(string Number, TicketPriority Priority, double HoursUsed, double TargetHours);

public sealed record WeekShare(TicketPriority Priority, int Closed, double? ShareMet);

/// <summary>One ISO week (from its Monday, in the report's time zone) of the chart.</summary>
public sealed record SlaWeek(LocalDate Monday, IReadOnlyList<WeekShare> Priorities);

public sealed record SlaReportResult(SlaReportRequest Request, IReadOnlyList<SlaReportLine> Lines, IReadOnlyList<BreachedTicket> Breached,
    IReadOnlyList<SlaWeek> Weeks);

/// <summary>
/// The SLA report of tickets closed in [From, To): per priority and in total, how many met their target and how long
/// they took in business time, the breached ones, and the share met per week. The figures come from the same clock
/// the scheduler runs on (<see cref="SlaClock"/>), read at the closure.
/// </summary>
public sealed class SlaReport(SlaCatalog catalog)
{
    public static readonly IReadOnlyList<TicketPriority> Priorities =
        [TicketPriority.Emergency, TicketPriority.High, TicketPriority.Medium, TicketPriority.Low];

    private const string TicketColumns = "t.id, t.number, t.priority, t.created_at, t.closed_at, t.sla_policy";

    // closed_at is set only while a ticket is closed (a reopening clears it), so it alone says "closed in the period".
    private const string ClosedSql = $"""
        SELECT {TicketColumns} FROM tickets t
        WHERE t.closed_at >= @from AND t.closed_at < @to
        ORDER BY t.closed_at, t.id
        """;

    private const string ClosedForOrganisationSql = $"""
        SELECT {TicketColumns} FROM tickets t JOIN organisations o ON o.id = t.organisation_id
        WHERE t.closed_at >= @from AND t.closed_at < @to AND o.account_number = @organisation
        ORDER BY t.closed_at, t.id
        """;

    public SlaCatalog Catalog => catalog;

    public Task<bool> OrganisationExistsAsync(SqlScope db, string accountNumber, CancellationToken cancellationToken) =>
        db.ScalarAsync<bool>("SELECT COUNT(*) > 0 FROM organisations WHERE account_number = @accountNumber", new { accountNumber }, cancellationToken);

    public async Task<SlaReportResult> RunAsync(SqlScope db, SlaReportRequest request, CancellationToken cancellationToken)
    {
        var parameters = new { from = request.From.ToUnixTimeMilliseconds(), to = request.To.ToUnixTimeMilliseconds(), organisation = request.Organisation };
        var tickets = await db.ListAsync<TicketRow>(request.Organisation is null ? ClosedSql : ClosedForOrganisationSql, parameters, cancellationToken);
        var histories = await SlaTracker.HistoriesAsync(db, tickets, cancellationToken);
        var measured = tickets.Select(t => Measure(t, histories[t.Id], catalog.Policy(t.SlaPolicy))).ToList();
        return Summarise(request, measured);
    }

    /// <summary>
    /// One closed ticket's figures. To resolution is the clock at the last move into <c>resolved</c> before the
    /// closure (a reopened and re-resolved ticket counts its last resolution); a ticket closed without ever being
    /// resolved takes its closure figure.
    /// </summary>
    public static ClosedTicket Measure(TicketRow ticket, IReadOnlyList<StatusChange> history, SlaPolicy policy)
    {
        var priority = WireName.Parse<TicketPriority>(ticket.Priority);
        var target = policy.TargetFor(priority);
        var closedAt = Instant.FromUnixTimeMilliseconds(ticket.ClosedAt ?? throw new ArgumentException("The ticket is not closed.", nameof(ticket)));
        var atClosure = SlaClock.Read(history, policy.Calendar, target, closedAt);
        Instant? lastResolved = null;
        foreach (var change in history)
        {
            if (change.Status == TicketStatus.Resolved && change.At <= closedAt)
                lastResolved = change.At;
        }
        var toResolution = lastResolved is { } resolvedAt
            ? SlaClock.Read(history, policy.Calendar, target, resolvedAt).BusinessElapsed
            : atClosure.BusinessElapsed;
        return new ClosedTicket(ticket.Number, priority, closedAt, toResolution, atClosure.BusinessElapsed, target, !atClosure.Breached);
    }

    public static SlaReportResult Summarise(SlaReportRequest request, IReadOnlyList<ClosedTicket> tickets)
    {
        var lines = Priorities.Select(p => Line(p, tickets.Where(t => t.Priority == p).ToList())).ToList();
        lines.Add(Line(null, tickets));
        var breached = tickets.Where(t => !t.Met)
            .OrderBy(t => t.Priority).ThenBy(t => t.ClosedAt)
            .Select(t => new BreachedTicket(t.Number, t.Priority, t.ToClosure.TotalHours, t.Target.TotalHours))
            .ToList();
        return new SlaReportResult(request, lines, breached, Weeks(request, tickets));
    }

    private static SlaReportLine Line(TicketPriority? priority, IReadOnlyList<ClosedTicket> tickets)
    {
        var met = tickets.Count(t => t.Met);
        return new SlaReportLine(priority, tickets.Count, met, ShareOf(met, tickets.Count),
            Summary(tickets.Select(t => t.ToResolution)), Summary(tickets.Select(t => t.ToClosure)));
    }

    private static HoursSummary Summary(IEnumerable<Duration> durations)
    {
        var hours = durations.Select(d => d.TotalHours).Order().ToList();
        return new HoursSummary(Median(hours), NearestRank(hours, 90));
    }

    private static double? ShareOf(int met, int count) => count == 0 ? null : (double)met / count;

    /// <summary>The middle value, or the mean of the two middle values when the count is even.</summary>
    public static double? Median(IReadOnlyList<double> sorted) => sorted.Count switch
    {
        0 => null,
        var n when n % 2 == 1 => sorted[n / 2],
        var n => (sorted[(n / 2) - 1] + sorted[n / 2]) / 2,
    };

    /// <summary>
    /// The nearest-rank percentile: the smallest value such that at least <paramref name="percent"/> % of the values
    /// are less than or equal to it, i.e. the value of rank ⌈P/100 · n⌉ (1-based) in ascending order. It is always one
    /// of the measured values, never an interpolation.
    /// </summary>
    public static double? NearestRank(IReadOnlyList<double> sorted, double percent)
    {
        if (sorted.Count == 0)
            return null;
        var rank = (int)Math.Ceiling(percent / 100 * sorted.Count);
        return sorted[Math.Clamp(rank, 1, sorted.Count) - 1];
    }

    /// <summary>Every ISO week the period touches, Monday first, in the report's zone; weeks without closures have null shares.</summary>
    private static List<SlaWeek> Weeks(SlaReportRequest request, IReadOnlyList<ClosedTicket> tickets)
    {
        var zone = request.Zone;
        var byWeek = tickets.ToLookup(t => MondayOf(t.ClosedAt.InZone(zone).Date));
        var weeks = new List<SlaWeek>();
        var last = MondayOf((request.To - Duration.Epsilon).InZone(zone).Date);
        for (var monday = MondayOf(request.From.InZone(zone).Date); monday <= last; monday = monday.PlusWeeks(1))
        {
            var closed = byWeek[monday].ToList();
            weeks.Add(new SlaWeek(monday, [.. Priorities.Select(p =>
            {
                var ofPriority = closed.Where(t => t.Priority == p).ToList();
                return new WeekShare(p, ofPriority.Count, ShareOf(ofPriority.Count(t => t.Met), ofPriority.Count));
            })]));
        }
        return weeks;
    }

    private static LocalDate MondayOf(LocalDate date) => date.With(DateAdjusters.PreviousOrSame(IsoDayOfWeek.Monday));
}
