using System.Globalization;
using NodaTime;
using SupportGateway.Core.Sla;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Core.Sla;

/// <summary>Calendars for the SLA tests: the shipped files through <see cref="SlaCatalog"/>, and small ones built in place.</summary>
internal static class TestCalendars
{
    private static readonly Lazy<SlaCatalog> ShippedCatalog = new(() =>
    {
        var errors = new List<string>();
        var catalog = new SlaCatalog(ShippedOptions(), [], errors);
        return errors.Count == 0 ? catalog : throw new InvalidOperationException(string.Join(Environment.NewLine, errors));
    });

    public static string Directory => Path.Combine(Corpus.RepositoryRoot(), "config", "calendars");

    public static SlaCatalog Shipped => ShippedCatalog.Value;

    /// <summary>The options that load only the shipped calendar files.</summary>
    public static SlaOptions ShippedOptions() => new() { CalendarDirectory = Directory };

    public static BusinessCalendar File(string name) =>
        Shipped.Calendar(name) ?? throw new InvalidOperationException($"No shipped calendar '{name}'.");

    /// <summary>A calendar with the same hours on every listed weekday; a failed build fails the test at once.</summary>
    public static BusinessCalendar Build(string zone, string days, params string[] hours) =>
        Build(new CalendarOptions { Name = "test", TimeZone = zone, Hours = Week(days, hours) });

    public static BusinessCalendar Build(CalendarOptions options)
    {
        var errors = new List<string>();
        var calendar = options.Build("test", errors);
        Assert.That(errors, Is.Empty);
        return calendar;
    }

    /// <summary><paramref name="days"/> as "Mon-Fri", "Mon-Sat" or "Mon-Sun", each with <paramref name="hours"/>.</summary>
    public static Dictionary<string, List<string>> Week(string days, params string[] hours)
    {
        string[] all = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        var last = Array.IndexOf(all, days.Split('-')[1]);
        return all.Take(last + 1).ToDictionary(d => d, _ => hours.ToList());
    }

    /// <summary>An instant from ISO 8601 with an offset, as a reader of the comments would write it.</summary>
    public static Instant At(string text) =>
        Instant.FromDateTimeOffset(DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.None));

    /// <summary>An instant in the calendar's zone, as ISO 8601 with the offset, so a failure reads like the comment.</summary>
    public static string Local(this BusinessCalendar calendar, Instant instant) => CalendarOptions.Format(instant, calendar.Zone);

    public static string Local(this BusinessCalendar calendar, Instant? instant) =>
        instant is { } value ? calendar.Local(value) : "(none)";
}
