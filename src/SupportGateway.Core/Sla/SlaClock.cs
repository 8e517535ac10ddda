using NodaTime;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Core.Sla;

public enum ClockState { Running, Paused, Stopped }

public enum SegmentKind { Running, OutsideHours, Paused, Stopped }

/// <summary>A ticket's status from <see cref="At"/> on; the first entry is its registration.</summary>
public readonly record struct StatusChange(Instant At, TicketStatus Status);

/// <summary>A stretch of a ticket's life as the clock saw it, for <c>sla explain</c>.</summary>
public readonly record struct ClockSegment(Instant Start, Instant End, SegmentKind Kind);

/// <summary>What the clock shows at <see cref="Now"/>.</summary>
public sealed class SlaReading
{
    private readonly BusinessCalendar _calendar;
    private readonly IReadOnlyList<(Instant Start, Instant End)> _running;

    internal SlaReading(BusinessCalendar calendar, Duration target, Instant now, ClockState state,
        IReadOnlyList<(Instant Start, Instant End)> running, Duration elapsed, Duration paused)
    {
        _calendar = calendar;
        _running = running;
        Target = target;
        Now = now;
        State = state;
        BusinessElapsed = elapsed;
        Paused = paused;
    }

    public Duration Target { get; }

    public Instant Now { get; }

    public ClockState State { get; }

    /// <summary>Business time the clock ran: open hours while the ticket was neither waiting for the customer nor closed.</summary>
    public Duration BusinessElapsed { get; }

    /// <summary>Real time spent waiting for the customer (clarification, and a resolution awaiting confirmation).</summary>
    public Duration Paused { get; }

    public bool Breached => BusinessElapsed > Target;

    /// <summary>
    /// When the target is used up: the instant it was, or will be if the clock runs from now on (so it moves forward
    /// while the ticket is paused); null for a closed ticket that met its target.
    /// </summary>
    public Instant? DueAt => When(Target) ?? (State == ClockState.Paused ? _calendar.AddBusinessTime(Now, Target - BusinessElapsed) : null);

    /// <summary>
    /// The instant at which <paramref name="business"/> of business time was or will be used: in the past when the
    /// clock passed it, ahead when the clock runs now, null when it is paused or stopped short of it.
    /// </summary>
    public Instant? When(Duration business)
    {
        var used = Duration.Zero;
        foreach (var (start, end) in _running)
        {
            var span = _calendar.BusinessTimeBetween(start, end);
            if (used + span >= business && business > used)
                return _calendar.AddBusinessTime(start, business - used);
            used += span;
        }
        if (business <= Duration.Zero)
            return _running.Count > 0 ? _running[0].Start : null;
        return State == ClockState.Running ? _calendar.AddBusinessTime(Now, business - used) : null;
    }
}

/// <summary>
/// The service-level clock as a pure function of the status history, the calendar, the target and now. It runs in
/// business time from registration, pauses while the ticket waits for the customer (clarification, and a
/// resolution awaiting confirmation), and stops at closure; a reopened ticket runs again.
/// </summary>
public static class SlaClock
{
    public static ClockState StateOf(TicketStatus status) => status switch
    {
        TicketStatus.Clarification or TicketStatus.Resolved => ClockState.Paused,
        TicketStatus.Closed => ClockState.Stopped,
        _ => ClockState.Running,
    };

    public static SlaReading Read(IReadOnlyList<StatusChange> history, BusinessCalendar calendar, Duration target, Instant now)
    {
        var running = new List<(Instant, Instant)>();
        var elapsed = Duration.Zero;
        var paused = Duration.Zero;
        foreach (var (start, end, status) in Spans(history, now))
        {
            switch (StateOf(status))
            {
                case ClockState.Running:
                    running.Add((start, end));
                    elapsed += calendar.BusinessTimeBetween(start, end);
                    break;
                case ClockState.Paused:
                    paused += end - start;
                    break;
            }
        }
        return new SlaReading(calendar, target, now, StateAt(history, now), running, elapsed, paused);
    }

    /// <summary>The state of the last change at or before now, as <see cref="Spans"/> reads the history; none yet is stopped.</summary>
    private static ClockState StateAt(IReadOnlyList<StatusChange> history, Instant now)
    {
        var state = ClockState.Stopped;
        for (var i = 0; i < history.Count && history[i].At <= now; i++)
            state = StateOf(history[i].Status);
        return state;
    }

    /// <summary>The ticket's life cut into running (inside open hours), outside hours, paused and stopped stretches.</summary>
    public static IReadOnlyList<ClockSegment> Explain(IReadOnlyList<StatusChange> history, BusinessCalendar calendar, Instant now)
    {
        var segments = new List<ClockSegment>();
        foreach (var (start, end, status) in Spans(history, now))
        {
            var state = StateOf(status);
            if (state != ClockState.Running)
            {
                segments.Add(new ClockSegment(start, end, state == ClockState.Paused ? SegmentKind.Paused : SegmentKind.Stopped));
                continue;
            }
            var cursor = start;
            foreach (var open in calendar.OpenIntervalsFrom(start))
            {
                if (open.Start >= end)
                    break;
                if (open.Start > cursor)
                    segments.Add(new ClockSegment(cursor, open.Start, SegmentKind.OutsideHours));
                segments.Add(new ClockSegment(open.Start, Instant.Min(open.End, end), SegmentKind.Running));
                cursor = Instant.Min(open.End, end);
            }
            if (cursor < end)
                segments.Add(new ClockSegment(cursor, end, SegmentKind.OutsideHours));
        }
        return segments;
    }

    /// <summary>Consecutive (start, end, status) stretches up to now; changes after now are ignored.</summary>
    private static IEnumerable<(Instant Start, Instant End, TicketStatus Status)> Spans(IReadOnlyList<StatusChange> history, Instant now)
    {
        for (var i = 0; i < history.Count; i++)
        {
            var start = history[i].At;
            if (start >= now)
                yield break;
            var end = i + 1 < history.Count ? Instant.Min(history[i + 1].At, now) : now;
            if (end > start)
                yield return (start, end, history[i].Status);
        }
    }
}
