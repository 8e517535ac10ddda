using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NodaTime;
using SupportGateway.Core.Outbox;
using SupportGateway.Core.Storage;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Core.Sla;

/// <summary>
/// All time-based work (warnings, breach notices, auto-close) in one loop whose state is the database: each ticket's
/// next instant is an indexed column, what was done is a row in <c>sla_events</c>. It sleeps until the next instant
/// or until a ticket changes; what fell due while the gateway was down is done at start, and nothing twice.
/// </summary>
public sealed class SlaScheduler(Database database, TicketStore tickets, SlaTracker tracker, TicketTransitions transitions,
    SlaEscalation escalation, SlaSignal signal, ExclusiveWork exclusive, TimeProvider time, ILogger<SlaScheduler> logger)
    : BackgroundService
{
    /// <summary>One scheduler across instances: two would race to the same due ticket (a notice sent twice).</summary>
    public const string Work = "sla";

    private const int Batch = 100;

    private bool _backfilled;

    /// <summary>The longest sleep: a safety net for clocks that jump, not the way work is found.</summary>
    private static readonly TimeSpan MaxSleep = TimeSpan.FromMinutes(5);

    /// <summary>How long a ticket's turn waits for the writer to be free: ingest first, the scheduler in the gaps.</summary>
    private static readonly TimeSpan YieldToIngest = TimeSpan.FromMilliseconds(5);

    private const string DueSql = "SELECT id FROM tickets WHERE sla_next_at <= @now ORDER BY sla_next_at LIMIT @batch";

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        WarnAboutCalendarsWithoutThisYear();
        return exclusive.RunAsync(Work, ScheduleAsync, stoppingToken);
    }

    private async Task ScheduleAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!_backfilled)
                    await BackfillAsync(stoppingToken);
                _backfilled = true;
                await RunDueAsync(stoppingToken);
                failures = 0;
                if (await signal.WaitAsync(await SleepAsync(stoppingToken), stoppingToken))
                    // Woken by a change inside a transaction: give it a moment to commit before looking.
                    await Task.Delay(TimeSpan.FromMilliseconds(50), time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                failures++;
                logger.LogError(ex, "SLA scheduler failed ({Failures} in a row)", failures);
                var backoff = TimeSpan.FromSeconds(Math.Min(60, Math.Pow(2, failures))) * (0.8 + Random.Shared.NextDouble() * 0.4);
                await Task.Delay(backoff, time, stoppingToken);
            }
        }
    }

    /// <summary>
    /// A calendar of holidays from decrees covers the years it lists: past them every weekday is a working day. Said
    /// once at start, for the calendars a policy uses.
    /// </summary>
    private void WarnAboutCalendarsWithoutThisYear()
    {
        var year = time.GetUtcNow().Year;
        foreach (var calendar in tracker.Catalog.WithoutYear(year))
        {
            logger.LogWarning("Calendar {Calendar} lists holidays up to {LastYear} only: from {Year} every weekday counts as open; add that year's calendar",
                calendar.Name, calendar.LastDatedYear, year);
        }
    }

    /// <summary>Does everything due now; returns how many tickets it handled.</summary>
    public async Task<int> RunDueAsync(CancellationToken cancellationToken)
    {
        var handled = 0;
        while (true)
        {
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            IReadOnlyList<TicketRow> due;
            await using (var connection = await database.OpenAsync(cancellationToken))
                due = await new SqlScope(connection).ListAsync<TicketRow>(DueSql, new { now, batch = Batch }, cancellationToken);
            foreach (var row in due)
                handled += await ProcessAsync(row.Id, cancellationToken) ? 1 : 0;
            if (due.Count < Batch)
                return handled;
        }
    }

    /// <summary>How long until the next ticket's instant, read from the index.</summary>
    public async Task<TimeSpan> SleepAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var next = await new SqlScope(connection).ScalarAsync<long?>("SELECT MIN(sla_next_at) FROM tickets WHERE sla_next_at IS NOT NULL", null, cancellationToken);
        if (next is not { } at)
            return MaxSleep;
        var wait = DateTimeOffset.FromUnixTimeMilliseconds(at) - time.GetUtcNow();
        return wait < TimeSpan.Zero ? TimeSpan.Zero : wait > MaxSleep ? MaxSleep : wait;
    }

    private async Task<bool> ProcessAsync(long id, CancellationToken cancellationToken)
    {
        await using var session = await database.BeginBackgroundAsync(YieldToIngest, cancellationToken);
        var nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        // Another instance (or a change since the query) may have moved it.
        if (await tickets.GetAsync(session, id, cancellationToken) is not { SlaNextAt: { } next } ticket || next > nowMs)
            return false;
        var now = Instant.FromUnixTimeMilliseconds(nowMs);
        var (snapshot, plan) = await tracker.PlanAsync(session, ticket, now, cancellationToken);
        var due = plan.Events.Where(e => e.ActAt <= now).ToList();
        if (due.Any(e => e.Kind == SlaEventKind.AutoClose))
        {
            if (await RecordAsync(session, ticket.Id, SlaTracker.AutoCloseEvent, nowMs, cancellationToken))
            {
                await tickets.AuditAsync(session, new AuditRow
                {
                    TicketId = ticket.Id, At = nowMs, Actor = "system", Action = "auto_closed",
                    NewValue = $"no answer from the customer for {tracker.Catalog.AutoCloseAfter}",
                }, cancellationToken);
                await transitions.SetStatusAsync(session, ticket, TicketStatus.Closed, null, "system", nowMs, cancellationToken, autoClosed: true);
            }
        }
        else
        {
            // After an outage several thresholds may be due at once: each is recorded, only the highest is told.
            var escalations = due.OrderBy(e => e.Kind == SlaEventKind.Breach ? 2 : e.Share).ToList();
            var told = false;
            for (var i = escalations.Count - 1; i >= 0; i--)
            {
                if (await RecordAsync(session, ticket.Id, escalations[i].Name, nowMs, cancellationToken) && !told)
                {
                    await escalation.NotifyAsync(session, ticket, snapshot, escalations[i], nowMs, cancellationToken);
                    told = true;
                }
            }
            // The clock did not change, only what is left to do: no second read of the history.
            await tracker.StoreAsync(session, ticket, plan.Without([.. escalations.Select(e => e.Name)]), cancellationToken);
        }
        await session.CommitAsync(cancellationToken);
        return true;
    }

    private static async Task<bool> RecordAsync(DbSession session, long ticketId, string name, long at, CancellationToken cancellationToken) =>
        await ((SqlScope)session).ExecuteAsync(
            "INSERT INTO sla_events (ticket_id, event, at) VALUES (@ticketId, @name, @at) ON CONFLICT (ticket_id, event) DO NOTHING",
            new { ticketId, name, at }, cancellationToken) == 1;

    /// <summary>Tickets from before service levels existed get their policy and schedule once.</summary>
    private async Task BackfillAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            await using var session = await database.BeginAsync(cancellationToken);
            var rows = await ((SqlScope)session).ListAsync<TicketRow>(
                $"SELECT id FROM tickets WHERE sla_policy IS NULL AND status <> 'closed' LIMIT {Batch}", null, cancellationToken);
            if (rows.Count == 0)
                return;
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            foreach (var row in rows)
            {
                var ticket = (await tickets.GetAsync(session, row.Id, cancellationToken))! with { SlaPolicy = tracker.Catalog.Default.Name };
                await ((SqlScope)session).ExecuteAsync("UPDATE tickets SET sla_policy = @SlaPolicy WHERE id = @Id", ticket, cancellationToken);
                await tracker.RecomputeAsync(session, ticket, now, cancellationToken);
            }
            await session.CommitAsync(cancellationToken);
            logger.LogInformation("Service levels: {Count} earlier tickets got the default policy", rows.Count);
        }
    }
}
