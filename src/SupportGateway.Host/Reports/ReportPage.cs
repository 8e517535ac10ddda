using System.Text;
using System.Text.Encodings.Web;
using System.Text.Unicode;
using SupportGateway.Core.Sla;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Host.Reports;

/// <summary>The report page and its sign-in form: server-rendered HTML, no script, every text value HTML-encoded.</summary>
internal static class ReportPage
{
    // Cyrillic stays as text instead of numeric references; markup characters are always encoded.
    private static readonly HtmlEncoder Encoder = HtmlEncoder.Create(UnicodeRanges.All);

    private const string Style = """
        body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:64rem}
        table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #ccc;padding:.35rem .6rem}
        td{text-align:right;font-variant-numeric:tabular-nums}tr.total{font-weight:bold;background:#f4f4f4}
        thead th{background:#eee;font-weight:600}.error{color:#a00}nav a{margin-right:.8rem}
        form label{display:block;margin:.5rem 0}input{font:inherit;padding:.3rem}
        """;

    public static string Login(ReportStrings strings, string query, string? error)
    {
        var html = Begin(strings, strings.LoginTitle);
        html.Append("<h1>").Append(Encoder.Encode(strings.LoginTitle)).Append("</h1>");
        if (error is not null)
            html.Append("<p class=\"error\" id=\"sla-error\">").Append(Encoder.Encode(error)).Append("</p>");
        html.Append("<p>").Append(Encoder.Encode(strings.LoginPrompt)).Append("</p>");
        html.Append("<form id=\"sla-login\" method=\"post\" action=\"/reports/sla/login").Append(Encoder.Encode(query)).Append("\">");
        html.Append("<label>").Append(Encoder.Encode(strings.Key))
            .Append(" <input type=\"password\" name=\"key\" autocomplete=\"current-password\" required></label>");
        html.Append("<button type=\"submit\">").Append(Encoder.Encode(strings.LogIn)).Append("</button></form>");
        return End(html);
    }

    public static string Error(ReportStrings strings, string detail)
    {
        var html = Begin(strings, strings.Title);
        html.Append("<h1>").Append(Encoder.Encode(strings.BadRequest)).Append("</h1>");
        html.Append("<p class=\"error\" id=\"sla-error\">").Append(Encoder.Encode(detail)).Append("</p>");
        return End(html);
    }

    /// <param name="languageLink">The query string of this page with <c>lang</c> set to the given language.</param>
    public static string Render(SlaReportResult report, ReportStrings strings, Func<string, string> languageLink)
    {
        var request = report.Request;
        var html = Begin(strings, strings.Title);
        html.Append("<nav><a href=\"").Append(Encoder.Encode(languageLink("en"))).Append("\" lang=\"en\">English</a>")
            .Append("<a href=\"").Append(Encoder.Encode(languageLink("ru"))).Append("\" lang=\"ru\">Русский</a></nav>");
        html.Append("<h1>").Append(Encoder.Encode(strings.Title)).Append("</h1>");
        var period = $"{strings.Period} {ReportFormats.Local(request.From, request.Zone)} {strings.To} {ReportFormats.Local(request.To, request.Zone)} ({request.Zone.Id})";
        html.Append("<p id=\"sla-period\">").Append(Encoder.Encode(period)).Append("</p>");
        html.Append("<p id=\"sla-organisation\">").Append(Encoder.Encode($"{strings.Organisation}: {request.Organisation ?? strings.AllOrganisations}")).Append("</p>");
        Table(html, report.Lines, strings);
        html.Append("<h2>").Append(Encoder.Encode(strings.Chart)).Append("</h2>");
        ReportChart.Render(html, report.Weeks, strings, Encoder);
        Breached(html, report.Breached, strings);
        return End(html);
    }

    private static void Table(StringBuilder html, IReadOnlyList<SlaReportLine> lines, ReportStrings strings)
    {
        html.Append("<table id=\"sla-table\"><thead><tr>");
        foreach (var title in new[] { strings.Priority, strings.Closed, strings.Met, strings.ShareMet, strings.MedianToResolution,
                     strings.P90ToResolution, strings.MedianToClosure, strings.P90ToClosure })
            html.Append("<th scope=\"col\">").Append(Encoder.Encode(title)).Append("</th>");
        html.Append("</tr></thead><tbody>");
        foreach (var line in lines)
        {
            html.Append("<tr data-priority=\"").Append(ReportFormats.PriorityName(line.Priority)).Append('"')
                .Append(line.Priority is null ? " class=\"total\"" : "").Append("><th scope=\"row\">")
                .Append(Encoder.Encode(strings.Name(line.Priority))).Append("</th>");
            Cell(html, "closed", line.Closed.ToString(strings.Culture));
            Cell(html, "met", line.Met.ToString(strings.Culture));
            Cell(html, "share", strings.Percent(line.ShareMet));
            Cell(html, "resolution-median", strings.Number(line.ToResolution.Median));
            Cell(html, "resolution-p90", strings.Number(line.ToResolution.P90));
            Cell(html, "closure-median", strings.Number(line.ToClosure.Median));
            Cell(html, "closure-p90", strings.Number(line.ToClosure.P90));
            html.Append("</tr>");
        }
        html.Append("</tbody></table>");
    }

    private static void Cell(StringBuilder html, string name, string value) =>
        html.Append("<td data-col=\"").Append(name).Append("\">").Append(Encoder.Encode(value)).Append("</td>");

    private static void Breached(StringBuilder html, IReadOnlyList<BreachedTicket> breached, ReportStrings strings)
    {
        html.Append("<h2>").Append(Encoder.Encode(strings.Breached)).Append("</h2>");
        if (breached.Count == 0)
        {
            html.Append("<p id=\"sla-none-breached\">").Append(Encoder.Encode(strings.NoneBreached)).Append("</p>");
            return;
        }
        html.Append("<table id=\"sla-breached\"><thead><tr>");
        foreach (var title in new[] { strings.Ticket, strings.Priority, strings.HoursUsed, strings.TargetHours })
            html.Append("<th scope=\"col\">").Append(Encoder.Encode(title)).Append("</th>");
        html.Append("</tr></thead><tbody>");
        foreach (var ticket in breached)
        {
            html.Append("<tr><th scope=\"row\">").Append(Encoder.Encode(ticket.Number)).Append("</th>");
            Cell(html, "priority", strings.Name(ticket.Priority));
            Cell(html, "used", strings.Number(ticket.HoursUsed));
            Cell(html, "target", strings.Number(ticket.TargetHours));
            html.Append("</tr>");
        }
        html.Append("</tbody></table>");
    }

    private static StringBuilder Begin(ReportStrings strings, string title) => new StringBuilder()
        .Append("<!DOCTYPE html><html lang=\"").Append(strings.Language).Append("\"><head><meta charset=\"utf-8\">")
        .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>").Append(Encoder.Encode(title))
        .Append("</title><style>").Append(Style).Append("</style></head><body><main>");

    private static string End(StringBuilder html) => html.Append("</main></body></html>").ToString();
}
