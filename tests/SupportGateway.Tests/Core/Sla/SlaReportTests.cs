using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using SupportGateway.Core.Sla;
using SupportGateway.Core.Storage;
using SupportGateway.Core.Tickets;
using SupportGateway.Tests.Host.Reports;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Core.Sla;

/// <summary>The report on tickets moved through the real gateway; every expected figure is worked out by hand in <see cref="SlaReportScenario"/>.</summary>
[NonParallelizable]
[TestFixture(StorageEngine.Sqlite)]
[TestFixture(StorageEngine.Postgres)]
public sealed class SlaReportTests(StorageEngine engine)
{
    private static readonly DateTimeZone Moscow = DateTimeZoneProviders.Tzdb["Europe/Moscow"];

    private TestDatabase? _database;
    private GatewayFactory? _gateway;
    private IReadOnlyDictionary<string, string> _numbers = null!;

    [OneTimeSetUp]
    public async Task Seed()
    {
        var clock = SlaReportScenario.NewClock();
        _database = await TestDatabase.CreateAsync(engine);
        _gateway = SlaReportScenario.NewGateway(clock, settings: _database.Settings);
        _numbers = await SlaReportScenario.SeedAsync(_gateway, clock);
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        _gateway?.Dispose();
        if (_database is not null)
            await _database.DisposeAsync();
    }

    private async Task<SlaReportResult> RunAsync(string? from, string? to, string? organisation = null)
    {
        var parse = SlaReportRequest.Parse(from, to, organisation, Moscow, Instant.FromDateTimeOffset(SlaReportScenario.End));
        Assert.That(parse.Error, Is.Null);
        await using var connection = await _gateway!.Services.GetRequiredService<Database>().OpenAsync(CancellationToken.None);
        return await _gateway!.Services.GetRequiredService<SlaReport>().RunAsync(new SqlScope(connection), parse.Request!, CancellationToken.None);
    }

    private static SlaReportLine Line(double? resolutionMedian, double? resolutionP90, double? closureMedian, double? closureP90,
        TicketPriority? priority, int closed, int met, double? share) =>
        new(priority, closed, met, share, new HoursSummary(resolutionMedian, resolutionP90), new HoursSummary(closureMedian, closureP90));

    [Test]
    public async Task November_report_counts_shares_median_p90_and_breaches_as_worked_out_by_hand()
    {
        var report = await RunAsync("2026-11-01", "2026-12-01");

        // Resolution hours: emergency A 6, B 14; high C 10, D 28, J 12; medium E 30, I 24; low H 26, F 50, K 100.
        // Closure differs only for E (40): rejected after its resolution, it ran 10 h more. G (October) and O (open) are out.
        Assert.That(report.Lines, Is.EqualTo(new[]
        {
            Line(10, 14, 10, 14, TicketPriority.Emergency, 2, 1, 0.5),
            Line(12, 28, 12, 28, TicketPriority.High, 3, 2, 2.0 / 3),
            Line(27, 30, 32, 40, TicketPriority.Medium, 2, 2, 1),
            Line(50, 100, 50, 100, TicketPriority.Low, 3, 2, 2.0 / 3),
            // Ten values: the median is the mean of the 5th and 6th, the nearest-rank p90 the 9th (⌈0.9 · 10⌉), not the largest.
            Line(25, 50, 25, 50, null, 10, 7, 0.7),
        }).Using<SlaReportLine>(SameLine));

        Assert.That(report.Breached, Is.EqualTo(new[]
        {
            new BreachedTicket(_numbers["B"], TicketPriority.Emergency, 14, 12),
            new BreachedTicket(_numbers["D"], TicketPriority.High, 28, 24),
            new BreachedTicket(_numbers["K"], TicketPriority.Low, 100, 96),
        }));
    }

    [Test]
    public async Task Weekly_series_has_every_iso_week_of_the_period_in_moscow_with_gaps_where_nothing_closed()
    {
        var report = await RunAsync("2026-11-01", "2026-12-01");

        // 1 November 2026 is a Sunday, so the first week starts on Monday 26 October; 30 November starts the last.
        Assert.That(report.Weeks.Select(w => w.Monday.ToString("MM-dd", null)), Is.EqualTo(new[] { "10-26", "11-02", "11-09", "11-16", "11-23", "11-30" }));
        string Shares(SlaWeek week) => string.Join(" ", week.Priorities.Select(p => p.ShareMet is { } s ? $"{p.Closed}:{s:0.##}" : "-"));
        Assert.That(report.Weeks.Select(Shares), Is.EqualTo(new[]
        {
            "- - - -",
            "2:0.5 2:0.5 - -",
            "- - 1:1 2:1",
            "- - - 1:0",
            "- 1:1 1:1 -",
            "- - - -",
        }));
    }

    [Test]
    public async Task Organisation_filter_keeps_only_that_account_s_tickets()
    {
        var report = await RunAsync("2026-11-01", "2026-12-01", SlaReportScenario.Organisation);

        Assert.That(report.Lines.Select(l => (l.Priority, l.Closed, l.Met)), Is.EqualTo(new (TicketPriority?, int, int)[]
        {
            (TicketPriority.Emergency, 0, 0), (TicketPriority.High, 1, 1), (TicketPriority.Medium, 0, 0), (TicketPriority.Low, 0, 0), (null, 1, 1),
        }));
        Assert.That(report.Lines[0].ShareMet, Is.Null);
        Assert.That(report.Lines[1].ToResolution, Is.EqualTo(new HoursSummary(10, 10)));
    }

    [Test]
    public async Task Default_period_is_the_30_days_before_now_and_excludes_its_end()
    {
        var report = await RunAsync(null, null);

        Assert.That(report.Request.To, Is.EqualTo(Instant.FromDateTimeOffset(SlaReportScenario.End)));
        Assert.That(report.Request.From, Is.EqualTo(Instant.FromDateTimeOffset(SlaReportScenario.End) - Duration.FromDays(30)));
        // G (medium, closed 26 October at noon) is inside the 30 days; J (high) closed at the very instant 'to', which the period excludes.
        Assert.That(report.Lines.Select(l => l.Closed), Is.EqualTo(new[] { 2, 2, 3, 3, 10 }));
    }

    private static bool SameLine(SlaReportLine a, SlaReportLine b) =>
        a.Priority == b.Priority && a.Closed == b.Closed && a.Met == b.Met && Near(a.ShareMet, b.ShareMet)
        && Near(a.ToResolution.Median, b.ToResolution.Median) && Near(a.ToResolution.P90, b.ToResolution.P90)
        && Near(a.ToClosure.Median, b.ToClosure.Median) && Near(a.ToClosure.P90, b.ToClosure.P90);

    private static bool Near(double? a, double? b) => a is null ? b is null : b is not null && Math.Abs(a.Value - b.Value) < 1e-9;
}
