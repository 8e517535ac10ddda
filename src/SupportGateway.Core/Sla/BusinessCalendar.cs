using NodaTime;

namespace SupportGateway.Core.Sla;

/// <summary>One stretch of open time, as instants: <see cref="End"/> is exclusive.</summary>
public readonly record struct OpenInterval(Instant Start, Instant End)
{
    public Duration Length => End - Start;
}

/// <summary>Opening hours of one day in local time; <see cref="End"/> null is the end of the day ("24:00").</summary>
public readonly record struct DayHours(LocalTime Start, LocalTime? End);

/// <summary>
/// A business calendar: weekly hours in an IANA time zone, closed dates and dates with hours of their own (a
/// working Saturday moved by decree, a shortened pre-holiday day). Everything else (adding business hours,
/// measuring them, explaining a ticket, drawing the report) is built on one primitive, <see cref="OpenIntervalsFrom"/>.
/// Business time is elapsed real time inside open intervals, so a 24x7 day across a daylight-saving change lasts
/// 23 or 25 hours.
/// </summary>
public sealed class BusinessCalendar
{
    /// <summary>How far ahead a search for open time goes before it gives up (a calendar closed for ten years).</summary>
    private const int MaxDays = 3660;

    private readonly IReadOnlyDictionary<IsoDayOfWeek, DayHours[]> _weekly;
    private readonly HashSet<LocalDate> _holidays;
    private readonly IReadOnlyDictionary<LocalDate, DayHours[]> _specialDays;

    public BusinessCalendar(string name, DateTimeZone zone, IReadOnlyDictionary<IsoDayOfWeek, DayHours[]> weekly,
        IEnumerable<LocalDate> holidays, IReadOnlyDictionary<LocalDate, DayHours[]> specialDays)
    {
        Name = name;
        Zone = zone;
        _weekly = weekly;
        _holidays = [.. holidays];
        _specialDays = specialDays;
    }

    public string Name { get; }

    /// <summary>The last year the calendar lists dates for (holidays, working days); null when it lists none.</summary>
    public int? LastDatedYear => _holidays.Concat(_specialDays.Keys).Select(d => (int?)d.Year).Max();

    public DateTimeZone Zone { get; }

    /// <summary>The hours of a date: its own hours if it has any, none on a holiday, else its weekday's.</summary>
    public IReadOnlyList<DayHours> HoursOn(LocalDate date) =>
        _specialDays.TryGetValue(date, out var special) ? special
        : _holidays.Contains(date) ? []
        : _weekly.TryGetValue(date.DayOfWeek, out var hours) ? hours : [];

    /// <summary>
    /// The open intervals at or after <paramref name="from"/>, in order, one per configured interval of each day; the
    /// first is cut to start at <paramref name="from"/> when it is open then. Intervals that touch (24:00 and the next
    /// day's 00:00) leave no gap between them. The sequence is endless for any calendar that opens at all.
    /// </summary>
    public IEnumerable<OpenInterval> OpenIntervalsFrom(Instant from)
    {
        // A day earlier: an interval of yesterday may still be open (a zone whose offset moved the day boundary).
        var date = from.InZone(Zone).Date.PlusDays(-1);
        for (var closedDays = 0; closedDays < MaxDays; date = date.PlusDays(1))
        {
            var hours = HoursOn(date);
            closedDays = hours.Count == 0 ? closedDays + 1 : 0;
            foreach (var span in hours)
            {
                var start = ToInstant(date, span.Start, isEnd: false);
                var end = span.End is { } e ? ToInstant(date, e, isEnd: true) : ToInstant(date.PlusDays(1), LocalTime.Midnight, isEnd: false);
                if (end > from && end > start)
                    yield return new OpenInterval(Instant.Max(start, from), end);
            }
        }
    }

    /// <summary>
    /// The instant at which <paramref name="amount"/> of business time has passed after <paramref name="from"/>.
    /// A target used up exactly at closing time is due at closing time, not at the next opening.
    /// </summary>
    public Instant AddBusinessTime(Instant from, Duration amount)
    {
        if (amount <= Duration.Zero)
            return from;
        var left = amount;
        foreach (var interval in OpenIntervalsFrom(from))
        {
            if (interval.Length >= left)
                return interval.Start + left;
            left -= interval.Length;
        }
        throw new InvalidOperationException($"Calendar '{Name}' has no open time left after {from}.");
    }

    /// <summary>Business time between two instants (zero when <paramref name="to"/> is not after <paramref name="from"/>).</summary>
    public Duration BusinessTimeBetween(Instant from, Instant to)
    {
        var total = Duration.Zero;
        if (to <= from)
            return total;
        foreach (var interval in OpenIntervalsFrom(from))
        {
            if (interval.Start >= to)
                break;
            total += Instant.Min(interval.End, to) - interval.Start;
        }
        return total;
    }

    /// <summary>Whether the calendar is open at <paramref name="instant"/>.</summary>
    public bool IsOpen(Instant instant) => OpenIntervalsFrom(instant).FirstOrDefault() is { } first && first.Start == instant;

    /// <summary><paramref name="instant"/> when open then, else the next opening.</summary>
    public Instant NextOpenAt(Instant instant) =>
        OpenIntervalsFrom(instant).Select(i => (Instant?)i.Start).FirstOrDefault()
        ?? throw new InvalidOperationException($"Calendar '{Name}' never opens after {instant}.");

    /// <summary>
    /// Local time to an instant. A time that does not exist (skipped by a daylight-saving change) moves forward; one
    /// that exists twice is the earlier for a start and the later for an end, so an interval never loses the repeat.
    /// </summary>
    private Instant ToInstant(LocalDate date, LocalTime time, bool isEnd)
    {
        var local = date + time;
        var mapping = Zone.MapLocal(local);
        return mapping.Count switch
        {
            0 => mapping.LateInterval.Start,
            1 => mapping.Single().ToInstant(),
            _ => isEnd ? mapping.Last().ToInstant() : mapping.First().ToInstant(),
        };
    }
}
