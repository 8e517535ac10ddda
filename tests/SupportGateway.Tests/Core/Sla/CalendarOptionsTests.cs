using NodaTime;
using SupportGateway.Core.Sla;

namespace SupportGateway.Tests.Core.Sla;

/// <summary>A configured calendar is checked at start: each mistake is one line that names its key.</summary>
public sealed class CalendarOptionsTests
{
    private const string Key = "SupportGateway:Sla:Calendars:0";

    private static CalendarOptions Valid() => new()
    {
        Name = "office",
        TimeZone = "Europe/Moscow",
        Hours = TestCalendars.Week("Mon-Fri", "09:00-18:00"),
    };

    private static IEnumerable<TestCaseData> Mistakes()
    {
        TestCaseData Case(string name, Action<CalendarOptions> spoil, string key) =>
            new TestCaseData(spoil, key).SetArgDisplayNames(name);

        yield return Case("unknown zone", c => c.TimeZone = "Europe/Moskva", "TimeZone");
        yield return Case("fixed offset", c => c.TimeZone = "+03:00", "TimeZone");
        yield return Case("UTC with an offset", c => c.TimeZone = "UTC+03:00", "TimeZone");
        yield return Case("Windows zone name", c => c.TimeZone = "Russian Standard Time", "TimeZone");
        yield return Case("empty name", c => c.Name = " ", "Name");
        yield return Case("overlapping intervals", c => c.Hours["Mon"] = ["09:00-13:00", "12:00-18:00"], "Hours:Mon:1");
        yield return Case("intervals out of order", c => c.Hours["Mon"] = ["14:00-18:00", "09:00-13:00"], "Hours:Mon:1");
        yield return Case("interval after 24:00", c => c.Hours["Mon"] = ["09:00-24:00", "10:00-11:00"], "Hours:Mon:1");
        yield return Case("end before start", c => c.Hours["Tue"] = ["18:00-09:00"], "Hours:Tue:0");
        yield return Case("empty interval", c => c.Hours["Tue"] = ["09:00-09:00"], "Hours:Tue:0");
        yield return Case("00:00 as an end", c => c.Hours["Tue"] = ["09:00-00:00"], "Hours:Tue:0");
        yield return Case("not an interval", c => c.Hours["Wed"] = ["9-18"], "Hours:Wed:0");
        yield return Case("unknown weekday", c => c.Hours["Mo"] = ["09:00-18:00"], "Hours:Mo");
        yield return Case("bad holiday", c => c.Holidays = ["2026-01-01", "2026-02-30"], "Holidays:1");
        yield return Case("bad working date", c => c.WorkingDays = [new WorkingDayOptions { Date = "07.11.2026" }], "WorkingDays:0:Date");
        yield return Case("bad working hours", c => c.WorkingDays = [new WorkingDayOptions { Date = "2026-11-07", Hours = ["10-14"] }],
            "WorkingDays:0:Hours:0");
        yield return Case("holiday and working day", c =>
        {
            c.Holidays = ["2026-11-07"];
            c.WorkingDays = [new WorkingDayOptions { Date = "2026-11-07" }];
        }, "WorkingDays:0:Date");
        yield return Case("working day twice", c => c.WorkingDays =
            [new WorkingDayOptions { Date = "2026-11-07" }, new WorkingDayOptions { Date = "2026-11-07", Hours = ["10:00-14:00"] }],
            "WorkingDays:1:Date");
        yield return Case("no weekday", c => c.Hours = [], "Hours");
        yield return Case("only empty weekdays", c => c.Hours = new() { ["Mon"] = [], ["Sat"] = [] }, "Hours");
    }

    [TestCaseSource(nameof(Mistakes))]
    public void Mistake_gives_one_line_naming_its_key(Action<CalendarOptions> spoil, string key)
    {
        var calendar = Valid();
        spoil(calendar);
        var errors = new List<string>();
        _ = new SlaCatalog(new SlaOptions { CalendarDirectory = "", Calendars = [calendar] }, [], errors);
        Assert.That(errors, Has.Count.EqualTo(1));
        Assert.That(errors[0], Does.StartWith($"{Key}:{key}: "));
    }

    [Test]
    public void Built_calendar_is_null_after_a_mistake()
    {
        var calendar = Valid();
        calendar.TimeZone = "+03:00";
        var errors = new List<string>();
        Assert.That(calendar.Build(Key, errors), Is.Null);
        Assert.That(errors, Has.Count.EqualTo(1));
    }

    [Test]
    public void Touching_intervals_lowercase_weekdays_and_24_00_are_accepted()
    {
        var options = Valid();
        options.Hours = new() { ["mon"] = ["00:00-09:00", "09:00-24:00"], ["SAT"] = ["10:00-14:00"] };
        options.TimeZone = " Europe/Berlin ";
        var calendar = TestCalendars.Build(options);
        Assert.That(calendar.HoursOn(new LocalDate(2026, 3, 16)), Is.EqualTo(new[]
        {
            new DayHours(LocalTime.Midnight, new LocalTime(9, 0)), new DayHours(new LocalTime(9, 0), null),
        }));
        Assert.That(calendar.HoursOn(new LocalDate(2026, 3, 21)), Is.EqualTo(new[] { new DayHours(new LocalTime(10, 0), new LocalTime(14, 0)) }));
        Assert.That(calendar.Zone.Id, Is.EqualTo("Europe/Berlin"));
    }

    [TestCase("Etc/UTC")]
    [TestCase("UTC")]
    [TestCase("America/New_York")]
    public void Zone_of_the_database_is_accepted(string id)
    {
        var options = Valid();
        options.TimeZone = id;
        Assert.That(TestCalendars.Build(options).Zone.Id, Is.EqualTo(id));
    }

    [Test]
    public void Format_prints_the_offset_of_the_zone_at_that_instant()
    {
        var berlin = DateTimeZoneProviders.Tzdb["Europe/Berlin"];
        Assert.That(CalendarOptions.Format(Instant.FromUtc(2026, 1, 15, 11, 0), berlin), Is.EqualTo("2026-01-15T12:00:00+01:00"));
        Assert.That(CalendarOptions.Format(Instant.FromUtc(2026, 7, 15, 11, 0), berlin), Is.EqualTo("2026-07-15T13:00:00+02:00"));
        Assert.That(CalendarOptions.Format(Instant.FromUtc(2026, 12, 31, 14, 0), DateTimeZoneProviders.Tzdb["Europe/Moscow"]),
            Is.EqualTo("2026-12-31T17:00:00+03:00"));
    }
}
