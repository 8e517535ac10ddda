using System.Globalization;
using System.Text;
using NodaTime;
using NodaTime.Text;
using SupportGateway.Core.Sla;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Host.Reports;

/// <summary>The report's table as CSV (RFC 4180) and as aligned text for the terminal; numbers in the invariant culture.</summary>
internal static class ReportFormats
{
    public const string CsvContentType = "text/csv; charset=utf-8";

    private static readonly string[] Header =
    [
        "priority", "closed", "met", "share_met", "median_hours_to_resolution", "p90_hours_to_resolution",
        "median_hours_to_closure", "p90_hours_to_closure",
    ];

    private static readonly LocalDateTimePattern LocalPattern = LocalDateTimePattern.CreateWithInvariantCulture("uuuu'-'MM'-'dd HH':'mm");

    public static string PriorityName(TicketPriority? priority) => priority is { } p ? WireName.Of(p) : "total";

    public static string Hours(double? hours) => hours is { } h ? h.ToString("0.##", CultureInfo.InvariantCulture) : "";

    public static string Share(double? share) => share is { } s ? s.ToString("0.####", CultureInfo.InvariantCulture) : "";

    public static string Local(Instant instant, DateTimeZone zone) => LocalPattern.Format(instant.InZone(zone).LocalDateTime);

    public static IReadOnlyList<string> Cells(SlaReportLine line) =>
    [
        PriorityName(line.Priority), line.Closed.ToString(CultureInfo.InvariantCulture), line.Met.ToString(CultureInfo.InvariantCulture),
        Share(line.ShareMet), Hours(line.ToResolution.Median), Hours(line.ToResolution.P90), Hours(line.ToClosure.Median), Hours(line.ToClosure.P90),
    ];

    /// <summary>A header row, one row per priority and the total; CRLF line ends as RFC 4180 §2 has them.</summary>
    public static string Csv(SlaReportResult report)
    {
        var csv = new StringBuilder();
        foreach (var row in report.Lines.Select(Cells).Prepend(Header))
            csv.Append(string.Join(',', row.Select(CsvField))).Append("\r\n");
        return csv.ToString();
    }

    /// <summary>RFC 4180 §2.6–2.7: a field with a comma, quote or line break is quoted, and its quotes doubled.</summary>
    public static string CsvField(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : value;

    public static string Text(SlaReportResult report)
    {
        var request = report.Request;
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"SLA report: tickets closed from {Local(request.From, request.Zone)} to {Local(request.To, request.Zone)} ({request.Zone.Id})");
        text.AppendLine(request.Organisation is { } account ? $", organisation {account}" : "");
        text.AppendLine();
        string[] titles = ["priority", "closed", "met", "met %", "resolution h median", "p90", "closure h median", "p90"];
        var rows = report.Lines.Select(l => Cells(l).Select((cell, i) => i == 3 ? Percent(l.ShareMet) : cell.Length == 0 ? "-" : cell).ToList()).ToList();
        var widths = titles.Select((t, i) => Math.Max(t.Length, rows.Max(r => r[i].Length))).ToList();
        text.AppendLine(Row(titles, widths));
        foreach (var row in rows)
            text.AppendLine(Row(row, widths));
        text.AppendLine();
        if (report.Breached.Count == 0)
            text.AppendLine("No ticket breached its target.");
        else
            text.AppendLine("Breached:");
        foreach (var ticket in report.Breached)
            text.AppendLine(CultureInfo.InvariantCulture, $"  {ticket.Number}  {WireName.Of(ticket.Priority),-9}  {Hours(ticket.HoursUsed)} h of {Hours(ticket.TargetHours)} h");
        return text.ToString();
    }

    private static string Percent(double? share) => share is { } s ? (s * 100).ToString("0.#", CultureInfo.InvariantCulture) + "%" : "-";

    // The priority column reads left-aligned; numbers right-aligned so that their digits line up.
    private static string Row(IReadOnlyList<string> cells, IReadOnlyList<int> widths) =>
        string.Join("  ", cells.Select((cell, i) => i == 0 ? cell.PadRight(widths[i]) : cell.PadLeft(widths[i]))).TrimEnd();
}
