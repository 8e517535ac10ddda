using NodaTime;
using SupportGateway.Core.Sla;
using static SupportGateway.Tests.Core.Sla.TestCalendars;

namespace SupportGateway.Tests.Core.Sla;

// Dates of 2026 used below: 1 Jan is a Thursday; Mon 2, 16 and 23 Mar; Fri 13 Mar; Thu 30 Apr; Fri 1 May;
// Fri 6 and Sat 7 Nov. Europe/Berlin changes on Sun 29 Mar (02:00 CET -> 03:00 CEST) and Sun 25 Oct
// (03:00 CEST -> 02:00 CET); America/New_York on Sun 8 Mar and Sun 1 Nov. Europe/Moscow has no change.
public sealed class BusinessCalendarTests
{
    private static readonly BusinessCalendar Office = File("ru-5day-2026");

    private static void AssertAdd(BusinessCalendar calendar, string from, double hours, string expected) =>
        Assert.That(calendar.Local(calendar.AddBusinessTime(At(from), Duration.FromMinutes(hours * 60))), Is.EqualTo(expected));

    [Test]
    public void Target_used_up_at_closing_is_due_at_closing_not_at_next_opening()
    {
        // Fri 13 Mar 17:00-18:00 is the whole hour: due Fri 18:00, not Mon 16 Mar 09:00.
        AssertAdd(Office, "2026-03-13T17:00+03:00", 1, "2026-03-13T18:00:00+03:00");
        Assert.That(Office.IsOpen(At("2026-03-13T18:00+03:00")), Is.False);
        Assert.That(Office.Local(Office.NextOpenAt(At("2026-03-13T18:00+03:00"))), Is.EqualTo("2026-03-16T09:00:00+03:00"));
    }

    [Test]
    public void Weekend_is_skipped()
    {
        // Fri 13 Mar 16:00-18:00 = 2 h; Sat 14 and Sun 15 closed; Mon 16 Mar 09:00 + 2 h = 11:00.
        AssertAdd(Office, "2026-03-13T16:00+03:00", 4, "2026-03-16T11:00:00+03:00");
        Assert.That(Office.BusinessTimeBetween(At("2026-03-13T16:00+03:00"), At("2026-03-16T11:00+03:00")), Is.EqualTo(Duration.FromHours(4)));
    }

    // Mon 16 Mar 20:00 is after closing: Tue 17 Mar 09:00 + 1 h. Sat 14 Mar: Mon 16 Mar 09:00 + 1 h. Mon 07:00: 09:00 + 1 h.
    [TestCase("2026-03-16T20:00+03:00", "2026-03-17T10:00:00+03:00")]
    [TestCase("2026-03-14T12:00+03:00", "2026-03-16T10:00:00+03:00")]
    [TestCase("2026-03-16T07:00+03:00", "2026-03-16T10:00:00+03:00")]
    public void Start_outside_hours_counts_from_the_next_opening(string from, string expected)
    {
        AssertAdd(Office, from, 1, expected);
        Assert.That(Office.IsOpen(At(from)), Is.False);
    }

    // Fri 20 Feb 17:00-18:00 = 1 h (a full day: a weekend comes before the holiday); Mon 23 Feb is a holiday; Tue 24 Feb 09:00 + 1 h.
    [TestCase("2026-02-20T17:00+03:00", 2, "2026-02-24T10:00:00+03:00")]
    // Thu 11 Jun is shortened to 17:00: 15:00-17:00 = 2 h; Fri 12 Jun holiday, weekend; Mon 15 Jun 09:00 + 2 h.
    [TestCase("2026-06-11T15:00+03:00", 4, "2026-06-15T11:00:00+03:00")]
    // Tue 3 Nov shortened: 16:00-17:00 = 1 h; Wed 4 Nov holiday; Thu 5 Nov 09:00 + 2 h.
    [TestCase("2026-11-03T16:00+03:00", 3, "2026-11-05T11:00:00+03:00")]
    public void Holiday_is_skipped_and_the_day_before_it_is_shortened(string from, double hours, string expected) =>
        AssertAdd(Office, from, hours, expected);

    [Test]
    public void Target_across_the_May_holidays_of_2026()
    {
        // Thu 30 Apr, shortened: 16:00-17:00 = 1 h (11 h left); Fri 1 May holiday; Sat 2, Sun 3 closed;
        // Mon 4 May 09:00-18:00 = 9 h (2 h left); Tue 5 May 09:00 + 2 h = 11:00.
        AssertAdd(Office, "2026-04-30T16:00+03:00", 12, "2026-05-05T11:00:00+03:00");
        // Thu 30 Apr 8 h + Mon 4 to Thu 7 May 4 x 9 h + Fri 8 May (shortened) 8 h; 9, 10 May weekend, 11 May holiday.
        Assert.That(Office.BusinessTimeBetween(At("2026-04-30T09:00+03:00"), At("2026-05-12T09:00+03:00")), Is.EqualTo(Duration.FromHours(52)));
    }

    [Test]
    public void Target_across_the_New_Year_holidays_of_2026()
    {
        // Thu 1 Jan to Sun 11 Jan are closed (holidays 1, 2, 5-9 Jan, weekends 3-4 and 10-11 Jan);
        // Mon 12 Jan 09:00-18:00 = 9 h (3 h left); Tue 13 Jan 09:00 + 3 h = 12:00.
        AssertAdd(Office, "2026-01-01T10:00+03:00", 12, "2026-01-13T12:00:00+03:00");
    }

    [Test]
    public void Calendar_of_2026_knows_nothing_of_2027()
    {
        // Wed 30 Dec 17:00-18:00 = 1 h (11 h left); Thu 31 Dec moved day off; Fri 1 Jan 2027 is not in the file, so an
        // ordinary Friday: 9 h (2 h left); Sat 2, Sun 3 Jan; Mon 4 Jan 2027 09:00 + 2 h. A 2027 file must replace it.
        AssertAdd(Office, "2026-12-30T17:00+03:00", 12, "2027-01-04T11:00:00+03:00");
    }

    [Test]
    public void Transferred_working_Saturday_is_open_with_Monday_hours()
    {
        var calendar = Build(new CalendarOptions
        {
            Name = "transfer",
            TimeZone = "Europe/Moscow",
            Hours = Week("Mon-Fri", "09:00-18:00"),
            WorkingDays = [new WorkingDayOptions { Date = "2026-11-07" }],
        });
        // Fri 6 Nov 17:00-18:00 = 1 h; Sat 7 Nov works 09:00-18:00: 09:00 + 1 h = 10:00.
        AssertAdd(calendar, "2026-11-06T17:00+03:00", 2, "2026-11-07T10:00:00+03:00");
        // Fri 6 Nov 17:00 to Mon 9 Nov 09:00: Fri 1 h + Sat 9 h; Sun 8 Nov stays closed.
        Assert.That(calendar.BusinessTimeBetween(At("2026-11-06T17:00+03:00"), At("2026-11-09T09:00+03:00")), Is.EqualTo(Duration.FromHours(10)));
        Assert.That(calendar.HoursOn(new LocalDate(2026, 11, 14)), Is.Empty, "the next Saturday stays closed");
    }

    [Test]
    public void Working_day_with_hours_of_its_own()
    {
        var calendar = Build(new CalendarOptions
        {
            Name = "transfer",
            TimeZone = "Europe/Moscow",
            Hours = Week("Mon-Fri", "09:00-18:00"),
            WorkingDays = [new WorkingDayOptions { Date = "2026-11-07", Hours = ["10:00-14:00"] }],
        });
        // Fri 6 Nov 17:00-18:00 = 1 h; Sat 7 Nov 10:00-14:00 = 4 h; Mon 9 Nov 09:00 + 1 h = 10:00.
        AssertAdd(calendar, "2026-11-06T17:00+03:00", 6, "2026-11-09T10:00:00+03:00");
    }

    [Test]
    public void Lunch_hour_of_a_split_shift_does_not_count()
    {
        var calendar = Build("Europe/Moscow", "Mon-Fri", "09:00-13:00", "14:00-18:00");
        // Mon 16 Mar 12:30-13:00 = 30 min; 14:00 + 30 min = 14:30.
        AssertAdd(calendar, "2026-03-16T12:30+03:00", 1, "2026-03-16T14:30:00+03:00");
        // The morning used up exactly: due at 13:00, the end of the morning, not 14:00.
        AssertAdd(calendar, "2026-03-16T12:00+03:00", 1, "2026-03-16T13:00:00+03:00");
        // Started at lunch: 14:00 + 1 h.
        AssertAdd(calendar, "2026-03-16T13:20+03:00", 1, "2026-03-16T15:00:00+03:00");
        // Fri 13 Mar 17:00-18:00 = 1 h; Mon 16 Mar 09:00-13:00 = 4 h: due at 13:00.
        AssertAdd(calendar, "2026-03-13T17:00+03:00", 5, "2026-03-16T13:00:00+03:00");
        Assert.That(calendar.BusinessTimeBetween(At("2026-03-16T08:00+03:00"), At("2026-03-16T20:00+03:00")), Is.EqualTo(Duration.FromHours(8)));
        Assert.That(calendar.IsOpen(At("2026-03-16T12:59+03:00")), Is.True);
        Assert.That(calendar.IsOpen(At("2026-03-16T13:00+03:00")), Is.False);
        Assert.That(calendar.IsOpen(At("2026-03-16T14:00+03:00")), Is.True);
        Assert.That(calendar.Local(calendar.NextOpenAt(At("2026-03-16T13:30+03:00"))), Is.EqualTo("2026-03-16T14:00:00+03:00"));
    }

    [Test]
    public void First_open_interval_is_cut_at_the_start()
    {
        var intervals = Office.OpenIntervalsFrom(At("2026-03-16T10:00+03:00")).Take(2).ToList();
        Assert.That(intervals.Select(i => $"{Office.Local(i.Start)} {Office.Local(i.End)}"), Is.EqualTo(new[]
        {
            "2026-03-16T10:00:00+03:00 2026-03-16T18:00:00+03:00",
            "2026-03-17T09:00:00+03:00 2026-03-17T18:00:00+03:00",
        }));
    }

    [Test]
    public void Evening_target_carries_over_midnight_to_the_next_morning()
    {
        // daily-9-21: Tue 3 Mar 20:30-21:00 = 30 min; Wed 4 Mar 09:00 + 30 min = 09:30.
        AssertAdd(File("daily-9-21"), "2026-03-03T20:30+03:00", 1, "2026-03-04T09:30:00+03:00");
    }

    [Test]
    public void Night_shift_runs_through_midnight_without_a_gap()
    {
        var calendar = Build("Europe/Moscow", "Mon-Sun", "00:00-06:00", "22:00-24:00");
        // Mon 2 Mar 23:00-24:00 = 1 h, and Tue's 00:00 opening touches it: 00:00 + 1 h = 01:00.
        AssertAdd(calendar, "2026-03-02T23:00+03:00", 2, "2026-03-03T01:00:00+03:00");
        Assert.That(calendar.BusinessTimeBetween(At("2026-03-02T20:00+03:00"), At("2026-03-03T08:00+03:00")), Is.EqualTo(Duration.FromHours(8)));
        Assert.That(calendar.IsOpen(At("2026-03-03T00:00+03:00")), Is.True);
    }

    [Test]
    public void Round_the_clock_has_no_gap_at_midnight()
    {
        var calendar = File("24x7");
        // Tue 3 Mar 23:30 + 1 h = Wed 4 Mar 00:30.
        AssertAdd(calendar, "2026-03-03T23:30+03:00", 1, "2026-03-04T00:30:00+03:00");
        Assert.That(calendar.BusinessTimeBetween(At("2026-03-03T23:30+03:00"), At("2026-03-04T00:30+03:00")), Is.EqualTo(Duration.FromHours(1)));
        Assert.That(calendar.IsOpen(At("2026-03-04T00:00+03:00")), Is.True);
        // Midnight-to-midnight days touch: the end of one is the start of the next.
        var intervals = calendar.OpenIntervalsFrom(At("2026-03-03T12:00+03:00")).Take(3).ToList();
        Assert.That(intervals[0].End, Is.EqualTo(intervals[1].Start));
        Assert.That(intervals[1].Length, Is.EqualTo(Duration.FromHours(24)));
    }

    [Test]
    public void Moscow_keeps_plus_three_all_year()
    {
        var calendar = File("24x7");
        // Berlin's change weekends: in Moscow 48 h each, and the offset is +03:00 in winter and summer alike.
        Assert.That(calendar.BusinessTimeBetween(At("2026-03-28T00:00+03:00"), At("2026-03-30T00:00+03:00")), Is.EqualTo(Duration.FromHours(48)));
        Assert.That(calendar.BusinessTimeBetween(At("2026-10-24T00:00+03:00"), At("2026-10-26T00:00+03:00")), Is.EqualTo(Duration.FromHours(48)));
        AssertAdd(calendar, "2026-01-15T12:00+03:00", 24 * 181, "2026-07-15T12:00:00+03:00");
    }

    // A day midnight to midnight in Berlin: 23 h on 29 Mar, 25 h on 25 Oct, 24 h otherwise.
    [TestCase("Europe/Berlin", "2026-03-29T00:00+01:00", "2026-03-30T00:00+02:00", 23)]
    [TestCase("Europe/Berlin", "2026-10-25T00:00+02:00", "2026-10-26T00:00+01:00", 25)]
    [TestCase("Europe/Berlin", "2026-03-28T00:00+01:00", "2026-03-29T00:00+01:00", 24)]
    [TestCase("America/New_York", "2026-03-08T00:00-05:00", "2026-03-09T00:00-04:00", 23)]
    [TestCase("America/New_York", "2026-11-01T00:00-04:00", "2026-11-02T00:00-05:00", 25)]
    [TestCase("America/New_York", "2026-01-01T00:00-05:00", "2027-01-01T00:00-05:00", 8760)]
    // Santiago and Havana change at midnight, so a day's 24:00 and the next day's 00:00 are skipped or repeated together.
    [TestCase("America/Santiago", "2026-01-01T00:00-03:00", "2027-01-01T00:00-03:00", 8760)]
    [TestCase("America/Havana", "2026-01-01T00:00-05:00", "2027-01-01T00:00-05:00", 8760)]
    public void Round_the_clock_day_across_a_daylight_saving_change(string zone, string from, string to, int hours)
    {
        var calendar = Build(zone, "Mon-Sun", "00:00-24:00");
        Assert.That(calendar.BusinessTimeBetween(At(from), At(to)), Is.EqualTo(Duration.FromHours(hours)));
    }

    [Test]
    public void Round_the_clock_target_across_a_change_is_real_time()
    {
        var calendar = Build("Europe/Berlin", "Mon-Sun", "00:00-24:00");
        // 24 real hours: the wall clock shows 13:00 after the spring change and 11:00 after the autumn one.
        AssertAdd(calendar, "2026-03-28T12:00+01:00", 24, "2026-03-29T13:00:00+02:00");
        AssertAdd(calendar, "2026-10-24T12:00+02:00", 24, "2026-10-25T11:00:00+01:00");
    }

    [Test]
    public void Office_hours_on_a_change_day_are_still_nine_hours()
    {
        var calendar = Build("Europe/Berlin", "Mon-Sun", "09:00-18:00");
        Assert.That(calendar.BusinessTimeBetween(At("2026-03-29T00:00+01:00"), At("2026-03-30T00:00+02:00")), Is.EqualTo(Duration.FromHours(9)));
        Assert.That(calendar.BusinessTimeBetween(At("2026-10-25T00:00+02:00"), At("2026-10-26T00:00+01:00")), Is.EqualTo(Duration.FromHours(9)));
        // Sat 28 Mar 17:00-18:00 CET = 1 h; Sun 29 Mar 09:00 CEST + 1 h.
        AssertAdd(calendar, "2026-03-28T17:00+01:00", 2, "2026-03-29T10:00:00+02:00");
    }

    [Test]
    public void Hours_that_span_the_change_are_measured_in_real_time()
    {
        // 01:00-04:00 loses the skipped hour in spring (2 h) and keeps the repeated one in autumn (4 h).
        var night = Build("Europe/Berlin", "Mon-Sun", "01:00-04:00");
        Assert.That(night.BusinessTimeBetween(At("2026-03-29T00:00+01:00"), At("2026-03-30T00:00+02:00")), Is.EqualTo(Duration.FromHours(2)));
        Assert.That(night.BusinessTimeBetween(At("2026-10-25T00:00+02:00"), At("2026-10-26T00:00+01:00")), Is.EqualTo(Duration.FromHours(4)));
        // An opening at 02:30, a time that does not exist on 29 Mar, moves to the change (03:00 CEST): 3 h to 06:00.
        var late = Build("Europe/Berlin", "Mon-Sun", "02:30-06:00");
        Assert.That(late.Local(late.NextOpenAt(At("2026-03-29T00:00+01:00"))), Is.EqualTo("2026-03-29T03:00:00+02:00"));
        Assert.That(late.BusinessTimeBetween(At("2026-03-29T00:00+01:00"), At("2026-03-30T00:00+02:00")), Is.EqualTo(Duration.FromHours(3)));
        // A closing at 02:30, which happens twice on 25 Oct, is the second one: 00:00 CEST to 02:30 CET = 3 h 30 min.
        var early = Build("Europe/Berlin", "Mon-Sun", "00:00-02:30");
        Assert.That(early.BusinessTimeBetween(At("2026-10-25T00:00+02:00"), At("2026-10-26T00:00+01:00")), Is.EqualTo(Duration.FromMinutes(210)));
    }

    [Test]
    public void Nothing_to_add_and_nothing_between()
    {
        var from = At("2026-03-14T12:00+03:00");
        Assert.That(Office.AddBusinessTime(from, Duration.Zero), Is.EqualTo(from));
        Assert.That(Office.BusinessTimeBetween(from, from - Duration.FromHours(1)), Is.EqualTo(Duration.Zero));
        Assert.That(Office.BusinessTimeBetween(At("2026-03-14T00:00+03:00"), At("2026-03-16T00:00+03:00")), Is.EqualTo(Duration.Zero));
    }
}
