using NodaTime;
using SupportGateway.Core.Sla;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Tests.Core.Sla;

/// <summary>The report's arithmetic and period parsing, without a database.</summary>
public sealed class SlaReportMathTests
{
    private static readonly DateTimeZone Moscow = DateTimeZoneProviders.Tzdb["Europe/Moscow"];
    private static readonly Instant Now = Instant.FromUtc(2026, 11, 25, 12, 0);

    [TestCase(new double[] { }, null, null)]
    [TestCase(new double[] { 7 }, 7.0, 7.0)]
    [TestCase(new double[] { 1, 2 }, 1.5, 2.0)]
    [TestCase(new double[] { 1, 2, 3 }, 2.0, 3.0)]
    [TestCase(new double[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, 5.5, 9.0)]
    [TestCase(new double[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 }, 6.0, 10.0)]
    public void Median_and_nearest_rank_p90(double[] sorted, double? median, double? p90)
    {
        Assert.That(SlaReport.Median(sorted), Is.EqualTo(median));
        Assert.That(SlaReport.NearestRank(sorted, 90), Is.EqualTo(p90));
    }

    [Test]
    public void Dates_are_midnight_in_the_zone_and_instants_keep_their_offset()
    {
        var parse = SlaReportRequest.Parse("2026-11-01", "2026-12-01T00:00:00Z", " ACC ", Moscow, Now);
        Assert.That(parse.Request!.From, Is.EqualTo(Instant.FromUtc(2026, 10, 31, 21, 0)));
        Assert.That(parse.Request.To, Is.EqualTo(Instant.FromUtc(2026, 12, 1, 0, 0)));
        Assert.That(parse.Request.Organisation, Is.EqualTo("ACC"));
        Assert.That(SlaReportRequest.Parse("2026-11-01T10:00:00+05:00", null, null, Moscow, Now).Request!.From, Is.EqualTo(Instant.FromUtc(2026, 11, 1, 5, 0)));
    }

    [TestCase("yesterday", null, "from")]
    [TestCase(null, "2026-13-01", "to")]
    [TestCase("2026-12-01", "2026-11-01", "from")]
    [TestCase("2024-01-01", "2026-01-01", "from")]
    public void A_bad_period_names_its_field(string? from, string? to, string field)
    {
        var parse = SlaReportRequest.Parse(from, to, null, Moscow, Now);
        Assert.That((parse.Request, parse.Field), Is.EqualTo(((SlaReportRequest?)null, field)), parse.Error);
    }

    [Test]
    public void Closure_without_resolution_counts_its_closure_for_both_and_the_last_resolution_wins()
    {
        var policy = new SlaPolicy("p", Calendar24x7(), SlaPolicy.RegulationHours.ToDictionary(p => p.Key, p => Duration.FromHours(p.Value)), null, []);
        var t0 = Instant.FromUtc(2026, 11, 2, 6, 0);
        var ticket = new TicketRow { Number = "SG-1", Priority = "high", CreatedAt = t0.ToUnixTimeMilliseconds(), ClosedAt = (t0 + Duration.FromHours(30)).ToUnixTimeMilliseconds() };

        var closedOnly = SlaReport.Measure(ticket, [new(t0, TicketStatus.New), new(t0 + Duration.FromHours(30), TicketStatus.Closed)], policy);
        Assert.That((closedOnly.ToResolution, closedOnly.ToClosure, closedOnly.Met), Is.EqualTo((Duration.FromHours(30), Duration.FromHours(30), false)));

        var reopened = SlaReport.Measure(ticket, [
            new(t0, TicketStatus.New), new(t0 + Duration.FromHours(5), TicketStatus.Resolved), new(t0 + Duration.FromHours(8), TicketStatus.InProgress),
            new(t0 + Duration.FromHours(20), TicketStatus.Resolved), new(t0 + Duration.FromHours(30), TicketStatus.Closed)], policy);
        Assert.That((reopened.ToResolution, reopened.ToClosure, reopened.Met), Is.EqualTo((Duration.FromHours(17), Duration.FromHours(17), true)));
    }

    private static BusinessCalendar Calendar24x7() => new("24x7", Moscow,
        Enum.GetValues<IsoDayOfWeek>().Where(d => d != IsoDayOfWeek.None).ToDictionary(d => d, _ => new[] { new DayHours(LocalTime.Midnight, null) }),
        [], new Dictionary<LocalDate, DayHours[]>());
}
