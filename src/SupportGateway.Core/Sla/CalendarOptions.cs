using System.Globalization;
using NodaTime;
using NodaTime.Text;

namespace SupportGateway.Core.Sla;

/// <summary>
/// One business calendar as configured (<c>SupportGateway:Sla:Calendars</c>, or a file in <c>config/calendars/</c>):
/// weekly hours per weekday as intervals (<c>"Mon": ["09:00-13:00", "14:00-18:00"]</c>, "24:00" allowed as an end),
/// closed dates and dates with hours of their own.
/// </summary>
public sealed class CalendarOptions
{
    public string Name { get; set; } = "";

    /// <summary>An IANA time zone id (<c>Europe/Moscow</c>); never a fixed offset.</summary>
    public string TimeZone { get; set; } = "";

    /// <summary>Weekday (<c>Mon</c> … <c>Sun</c>) to its open intervals; a day left out is closed.</summary>
    public Dictionary<string, List<string>> Hours { get; set; } = [];

    /// <summary>Dates (<c>2026-01-02</c>) that are closed although their weekday is open.</summary>
    public List<string> Holidays { get; set; } = [];

    /// <summary>Dates open with hours of their own: a transferred working Saturday, a shortened pre-holiday day.</summary>
    public List<WorkingDayOptions> WorkingDays { get; set; } = [];

    private static readonly Dictionary<string, IsoDayOfWeek> Weekdays = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Mon"] = IsoDayOfWeek.Monday, ["Tue"] = IsoDayOfWeek.Tuesday, ["Wed"] = IsoDayOfWeek.Wednesday, ["Thu"] = IsoDayOfWeek.Thursday,
        ["Fri"] = IsoDayOfWeek.Friday, ["Sat"] = IsoDayOfWeek.Saturday, ["Sun"] = IsoDayOfWeek.Sunday,
    };

    /// <summary>The calendar as a value; every mistake is one line naming the key under <paramref name="key"/>.</summary>
    public BusinessCalendar Build(string key, List<string> errors)
    {
        var before = errors.Count;
        if (string.IsNullOrWhiteSpace(Name))
            errors.Add($"{key}:Name: must not be empty");
        // GetZoneOrNull would also take "UTC+03:00" as a fixed offset, which never follows a change of the zone's rules.
        var zone = DateTimeZoneProviders.Tzdb.Ids.Contains(TimeZone.Trim()) ? DateTimeZoneProviders.Tzdb[TimeZone.Trim()] : null;
        if (zone is null)
            errors.Add($"{key}:TimeZone: '{TimeZone}' is not an IANA time zone id (e.g. Europe/Moscow)");

        var weekly = new Dictionary<IsoDayOfWeek, DayHours[]>();
        foreach (var (day, intervals) in Hours)
        {
            if (!Weekdays.TryGetValue(day.Trim(), out var weekday))
                errors.Add($"{key}:Hours:{day}: not a weekday; use Mon, Tue, Wed, Thu, Fri, Sat or Sun");
            else
                weekly[weekday] = ParseDay($"{key}:Hours:{day}", intervals, errors);
        }
        if (weekly.Values.All(h => h.Length == 0))
            errors.Add($"{key}:Hours: at least one weekday must have open hours");

        var holidays = new List<LocalDate>();
        for (var i = 0; i < Holidays.Count; i++)
        {
            if (ParseDate($"{key}:Holidays:{i}", Holidays[i], errors) is { } date)
                holidays.Add(date);
        }
        var special = new Dictionary<LocalDate, DayHours[]>();
        for (var i = 0; i < WorkingDays.Count; i++)
        {
            var entry = WorkingDays[i];
            if (ParseDate($"{key}:WorkingDays:{i}:Date", entry.Date, errors) is not { } date)
                continue;
            if (holidays.Contains(date))
                errors.Add($"{key}:WorkingDays:{i}:Date: {entry.Date} is listed as a holiday too");
            else if (!special.TryAdd(date, entry.Hours is { Count: > 0 } own
                ? ParseDay($"{key}:WorkingDays:{i}:Hours", own, errors)
                : weekly.GetValueOrDefault(IsoDayOfWeek.Monday, [])))
                errors.Add($"{key}:WorkingDays:{i}:Date: {entry.Date} is listed twice");
        }
        return errors.Count == before ? new BusinessCalendar(Name.Trim(), zone!, weekly, holidays, special) : null!;
    }

    private static DayHours[] ParseDay(string key, List<string> intervals, List<string> errors)
    {
        var day = new List<DayHours>();
        for (var i = 0; i < intervals.Count; i++)
        {
            var text = intervals[i];
            var parts = text.Split('-', StringSplitOptions.TrimEntries);
            if (parts.Length != 2 || ParseTime(parts[0], allowEnd: false) is not { } start || ParseTime(parts[1], allowEnd: true) is not { } end)
            {
                errors.Add($"{key}:{i}: '{text}' is not an interval like 09:00-18:00");
                continue;
            }
            var endTime = end == LocalTime.Midnight && parts[1] == "24:00" ? (LocalTime?)null : end;
            if (endTime is { } e && e <= start)
                errors.Add($"{key}:{i}: '{text}' ends before it starts");
            else if (day.Count > 0 && (day[^1].End is not { } previousEnd || previousEnd > start))
                errors.Add($"{key}:{i}: '{text}' overlaps or precedes the interval before it; list intervals in order");
            else
                day.Add(new DayHours(start, endTime));
        }
        return [.. day];
    }

    private static LocalTime? ParseTime(string text, bool allowEnd)
    {
        if (allowEnd && text == "24:00")
            return LocalTime.Midnight;
        var result = LocalTimePattern.CreateWithInvariantCulture("HH:mm").Parse(text);
        return result.Success ? result.Value : null;
    }

    private static LocalDate? ParseDate(string key, string text, List<string> errors)
    {
        var result = LocalDatePattern.Iso.Parse(text?.Trim() ?? "");
        if (result.Success)
            return result.Value;
        errors.Add($"{key}: '{text}' is not a date like 2026-01-02");
        return null;
    }

    /// <summary>The weekday names accepted in <see cref="Hours"/>.</summary>
    public static string WeekdayName(IsoDayOfWeek day) => Weekdays.First(p => p.Value == day).Key;

    /// <summary>ISO 8601 with the zone's offset at that instant: <c>2026-12-31T17:00:00+03:00</c>.</summary>
    public static string Format(Instant instant, DateTimeZone zone) =>
        instant.InZone(zone).ToDateTimeOffset().ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);
}

/// <summary>A date open although its weekday is closed, or with shorter hours; without hours it has Monday's.</summary>
public sealed class WorkingDayOptions
{
    public string Date { get; set; } = "";

    public List<string>? Hours { get; set; }
}
