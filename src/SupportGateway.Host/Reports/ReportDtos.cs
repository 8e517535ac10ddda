using System.Globalization;
using System.Text.Json.Serialization;
using SupportGateway.Core.Sla;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Host.Reports;

// Shares and hours are null, not left out, when nothing was closed: a report's columns are always all there.

internal sealed record SlaReportDto(string From, string To, string TimeZone, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Organisation,
    IReadOnlyList<SlaReportLineDto> Rows, IReadOnlyList<BreachedTicketDto> Breached, IReadOnlyList<SlaWeekDto> Weeks)
{
    public static SlaReportDto Create(SlaReportResult report)
    {
        var request = report.Request;
        return new SlaReportDto(CalendarOptions.Format(request.From, request.Zone), CalendarOptions.Format(request.To, request.Zone), request.Zone.Id,
            request.Organisation, [.. report.Lines.Select(SlaReportLineDto.From)],
            [.. report.Breached.Select(b => new BreachedTicketDto(b.Number, WireName.Of(b.Priority), Round(b.HoursUsed)!.Value, Round(b.TargetHours)!.Value))],
            [.. report.Weeks.Select(SlaWeekDto.From)]);
    }

    /// <summary>Business hours to the millisecond are noise in a report; three decimals keep a few seconds.</summary>
    public static double? Round(double? hours) => hours is { } h ? Math.Round(h, 3) : null;
}

internal sealed record SlaReportLineDto(string Priority, int Closed, int Met, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] double? ShareMet,
    HoursDto HoursToResolution, HoursDto HoursToClosure)
{
    public static SlaReportLineDto From(SlaReportLine line) => new(ReportFormats.PriorityName(line.Priority), line.Closed, line.Met,
        line.ShareMet, HoursDto.From(line.ToResolution), HoursDto.From(line.ToClosure));
}

internal sealed record HoursDto([property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] double? Median,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] double? P90)
{
    public static HoursDto From(HoursSummary summary) => new(SlaReportDto.Round(summary.Median), SlaReportDto.Round(summary.P90));
}

internal sealed record BreachedTicketDto(string Number, string Priority, double HoursUsed, double TargetHours);

internal sealed record SlaWeekDto(string Week, string Monday, IReadOnlyList<WeekShareDto> Priorities)
{
    public static SlaWeekDto From(SlaWeek week) => new(
        string.Create(CultureInfo.InvariantCulture, $"{NodaTime.Calendars.WeekYearRules.Iso.GetWeekYear(week.Monday)}-W{NodaTime.Calendars.WeekYearRules.Iso.GetWeekOfWeekYear(week.Monday):00}"),
        week.Monday.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        [.. week.Priorities.Select(p => new WeekShareDto(WireName.Of(p.Priority), p.Closed, p.ShareMet))]);
}

internal sealed record WeekShareDto(string Priority, int Closed, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] double? ShareMet);

internal sealed record ReportLinkDto(string Url, string ExpiresAt);
