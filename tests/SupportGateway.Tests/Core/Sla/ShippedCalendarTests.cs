using NodaTime;
using SupportGateway.Core.Sla;
using static SupportGateway.Tests.Core.Sla.TestCalendars;

namespace SupportGateway.Tests.Core.Sla;

/// <summary>The files in <c>config/calendars</c>, loaded as the gateway loads them, against the totals in their comments.</summary>
public sealed class ShippedCalendarTests
{
    [Test]
    public void Every_shipped_file_loads_and_is_named_after_itself()
    {
        var errors = new List<string>();
        var catalog = new SlaCatalog(ShippedOptions(), [], errors);
        var files = System.IO.Directory.EnumerateFiles(TestCalendars.Directory, "*.json").Select(Path.GetFileNameWithoutExtension).Order().ToList();
        Assert.That(errors, Is.Empty);
        Assert.That(files, Is.EqualTo(new[] { "24x7", "daily-9-21", "moscow-6day", "ru-5day-2026" }));
        Assert.That(catalog.Calendars.Select(c => c.Name).Order(), Is.EqualTo(files));
        Assert.That(catalog.Calendars.Select(c => c.Zone.Id).Distinct(), Is.EqualTo(new[] { "Europe/Moscow" }));
    }

    [TestCase("ru-5day-2026", 2219)]
    [TestCase("moscow-6day", 2817)]
    [TestCase("daily-9-21", 4380)]
    [TestCase("24x7", 8760)]
    public void Open_hours_in_2026_match_the_file_comment(string name, int hours)
    {
        var calendar = File(name);
        Assert.That(calendar.BusinessTimeBetween(At("2026-01-01T00:00+03:00"), At("2027-01-01T00:00+03:00")), Is.EqualTo(Duration.FromHours(hours)));
    }

    // The 2026 production calendar, five-day week: working days per month; open hours are 9 a day, 8 on a shortened day
    // (30 Apr, 8 May, 11 Jun, 3 Nov).
    [TestCase(1, 15, 135)]
    [TestCase(2, 19, 171)]
    [TestCase(3, 21, 189)]
    [TestCase(4, 22, 197)]
    [TestCase(5, 19, 170)]
    [TestCase(6, 21, 188)]
    [TestCase(7, 23, 207)]
    [TestCase(8, 21, 189)]
    [TestCase(9, 22, 198)]
    [TestCase(10, 22, 198)]
    [TestCase(11, 20, 179)]
    [TestCase(12, 22, 198)]
    public void Russian_working_days_per_month_match_the_production_calendar(int month, int days, int hours)
    {
        var calendar = File("ru-5day-2026");
        var start = new LocalDate(2026, month, 1);
        var from = calendar.Zone.AtStartOfDay(start).ToInstant();
        var to = calendar.Zone.AtStartOfDay(start.PlusMonths(1)).ToInstant();
        var openDates = calendar.OpenIntervalsFrom(from).TakeWhile(i => i.Start < to).Select(i => i.Start.InZone(calendar.Zone).Date).Distinct();
        Assert.That(openDates.Count(), Is.EqualTo(days));
        Assert.That(calendar.BusinessTimeBetween(from, to), Is.EqualTo(Duration.FromHours(hours)));
    }

    [Test]
    public void Russian_year_has_247_working_days_and_4_shortened()
    {
        var calendar = File("ru-5day-2026");
        var to = At("2027-01-01T00:00+03:00");
        var days = calendar.OpenIntervalsFrom(At("2026-01-01T00:00+03:00")).TakeWhile(i => i.Start < to).ToList();
        Assert.That(days, Has.Count.EqualTo(247));
        Assert.That(days.Where(d => d.Length == Duration.FromHours(8)).Select(d => calendar.Local(d.Start)), Is.EqualTo(new[]
        {
            "2026-04-30T09:00:00+03:00", "2026-05-08T09:00:00+03:00", "2026-06-11T09:00:00+03:00", "2026-11-03T09:00:00+03:00",
        }));
        Assert.That(days.All(d => d.Length == Duration.FromHours(9) || d.Length == Duration.FromHours(8)), Is.True);
    }

    [Test]
    public void Russian_calendar_opens_no_weekend_day_in_2026()
    {
        var calendar = File("ru-5day-2026");
        for (var date = new LocalDate(2026, 1, 1); date.Year == 2026; date = date.PlusDays(1))
        {
            if (date.DayOfWeek is IsoDayOfWeek.Saturday or IsoDayOfWeek.Sunday)
                Assert.That(calendar.HoursOn(date), Is.Empty, date.ToString());
        }
    }

    [Test]
    public void Built_in_policy_runs_on_the_round_the_clock_calendar()
    {
        Assert.That(Shipped.Default.Name, Is.EqualTo(SlaOptions.BuiltInPolicy));
        Assert.That(Shipped.Default.Calendar.Name, Is.EqualTo("24x7"));
    }
}
