using NodaTime;
using SupportGateway.Core.Sla;
using static SupportGateway.Tests.Core.Sla.TestCalendars;

namespace SupportGateway.Tests.Core.Sla;

/// <summary>Adding and measuring business time agree, for random starts and amounts (fixed seed, so a failure repeats).</summary>
public sealed class BusinessCalendarPropertyTests
{
    private const int CasesPerCalendar = 800;

    private static readonly Instant YearStart = At("2026-01-01T00:00+03:00");

    // Berlin with a night interval over both changes, split day hours and an evening that runs to 24:00.
    private static readonly BusinessCalendar Berlin = Build("Europe/Berlin", "Mon-Sun", "01:00-04:00", "09:00-13:00", "14:00-18:00", "22:00-24:00");

    // Santiago changes at midnight: the evening interval ends, and the night one starts, on a skipped or repeated time.
    private static readonly BusinessCalendar Santiago = Build("America/Santiago", "Mon-Sun", "00:00-02:00", "08:00-18:00", "22:00-24:00");

    // Each change day of Berlin, as an instant to gather starts around.
    private static readonly Instant[] Changes = [At("2026-03-29T02:00+01:00"), At("2026-10-25T03:00+02:00")];

    private static IEnumerable<TestCaseData> Calendars() =>
        new[] { "ru-5day-2026", "moscow-6day", "daily-9-21", "24x7" }
            .Select(name => new TestCaseData(File(name)).SetArgDisplayNames(name))
            .Append(new TestCaseData(Berlin).SetArgDisplayNames("berlin-split"))
            .Append(new TestCaseData(Santiago).SetArgDisplayNames("santiago-night"));

    [TestCaseSource(nameof(Calendars))]
    public void Time_added_is_time_measured_and_grows_with_the_amount(BusinessCalendar calendar)
    {
        var random = new Random(2026);
        var failures = new List<string>();
        for (var i = 0; i < CasesPerCalendar && failures.Count < 5; i++)
        {
            var from = RandomStart(random, i);
            var a = RandomAmount(random);
            var b = RandomAmount(random);
            var (shorter, longer) = a <= b ? (a, b) : (b, a);
            var due = calendar.AddBusinessTime(from, shorter);
            var later = calendar.AddBusinessTime(from, longer);
            var measured = calendar.BusinessTimeBetween(from, due);
            if (measured != shorter)
                failures.Add($"{calendar.Local(from)} + {shorter}: due {calendar.Local(due)}, measured {measured}");
            if (later < due)
                failures.Add($"{calendar.Local(from)}: + {longer} is {calendar.Local(later)}, before + {shorter} at {calendar.Local(due)}");
            if (calendar.AddBusinessTime(due, longer - shorter) != later)
                failures.Add($"{calendar.Local(from)}: + {shorter} then + {longer - shorter} is not + {longer}");
            if (shorter > Duration.Zero && (due <= from || !calendar.IsOpen(due - Duration.FromSeconds(1))))
                failures.Add($"{calendar.Local(from)} + {shorter}: due {calendar.Local(due)} does not end open time");
        }
        Assert.That(failures, Is.Empty);
    }

    [TestCaseSource(nameof(Calendars))]
    public void Time_between_adds_up_over_a_midpoint(BusinessCalendar calendar)
    {
        var random = new Random(112);
        for (var i = 0; i < CasesPerCalendar / 4; i++)
        {
            var from = RandomStart(random, i);
            var middle = from + Duration.FromSeconds(random.Next(0, 10 * 86400));
            var to = middle + Duration.FromSeconds(random.Next(0, 10 * 86400));
            Assert.That(calendar.BusinessTimeBetween(from, middle) + calendar.BusinessTimeBetween(middle, to),
                Is.EqualTo(calendar.BusinessTimeBetween(from, to)), calendar.Local(from));
        }
    }

    /// <summary>A second of 2026; every fourth start within two days of a Berlin change.</summary>
    private static Instant RandomStart(Random random, int i) => i % 4 == 0
        ? Changes[random.Next(Changes.Length)] + Duration.FromSeconds(random.Next(-2 * 86400, 2 * 86400))
        : YearStart + Duration.FromSeconds(random.NextInt64(0, 365L * 86400));

    /// <summary>Up to 300 hours to the second, a whole hour one time in four (the amounts that end exactly at closing).</summary>
    private static Duration RandomAmount(Random random) => random.Next(4) == 0
        ? Duration.FromHours(random.Next(0, 301))
        : Duration.FromSeconds(random.Next(0, 300 * 3600));
}
