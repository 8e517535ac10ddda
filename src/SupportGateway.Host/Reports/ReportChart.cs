using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using SupportGateway.Core.Sla;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Host.Reports;

/// <summary>
/// The share met per week and priority as plain inline SVG: one line per priority over the weeks, 0–100 % on the
/// vertical axis, a legend below. A week without closed tickets of a priority leaves a gap in its line rather than
/// a fake 0 or 100 %.
/// </summary>
internal static class ReportChart
{
    private const double Width = 760, Height = 340, Left = 56, Right = 20, Top = 16, Bottom = 84;
    private const double PlotWidth = Width - Left - Right, PlotHeight = Height - Top - Bottom;

    /// <summary>Beyond this many weeks only every n-th week is labelled, so the labels do not overlap.</summary>
    private const int MaxLabels = 14;

    public static readonly IReadOnlyDictionary<TicketPriority, string> Colours = new Dictionary<TicketPriority, string>
    {
        [TicketPriority.Emergency] = "#c0392b", [TicketPriority.High] = "#e67e22", [TicketPriority.Medium] = "#2471a3", [TicketPriority.Low] = "#1e8449",
    };

    public static void Render(StringBuilder html, IReadOnlyList<SlaWeek> weeks, ReportStrings strings, HtmlEncoder encoder)
    {
        html.Append(Invariant($"<svg id=\"sla-chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {Width} {Height}\" width=\"{Width}\" height=\"{Height}\" role=\"img\" aria-labelledby=\"sla-chart-title\">"));
        html.Append("<title id=\"sla-chart-title\">").Append(encoder.Encode(strings.Chart)).Append("</title>");
        Axes(html, weeks, strings, encoder);
        foreach (var priority in SlaReport.Priorities)
            Series(html, weeks, priority, strings, encoder);
        Legend(html, strings, encoder);
        html.Append("</svg>");
    }

    private static double X(int week, int count) => Left + (count == 1 ? PlotWidth / 2 : PlotWidth * week / (count - 1));

    private static double Y(double share) => Top + (PlotHeight * (1 - share));

    private static void Axes(StringBuilder html, IReadOnlyList<SlaWeek> weeks, ReportStrings strings, HtmlEncoder encoder)
    {
        html.Append("<g class=\"axis y\" font-size=\"12\" fill=\"#444\">");
        foreach (var tick in new[] { 0, 25, 50, 75, 100 })
        {
            var y = Y(tick / 100.0);
            html.Append(Invariant($"<line x1=\"{Left}\" x2=\"{Width - Right}\" y1=\"{y}\" y2=\"{y}\" stroke=\"{(tick == 0 ? "#444" : "#ddd")}\"/>"));
            html.Append(Invariant($"<text x=\"{Left - 8}\" y=\"{y + 4}\" text-anchor=\"end\">{encoder.Encode(strings.Percent(tick / 100.0))}</text>"));
        }
        html.Append("</g><g class=\"axis x\" font-size=\"12\" fill=\"#444\">");
        html.Append(Invariant($"<line x1=\"{Left}\" x2=\"{Left}\" y1=\"{Top}\" y2=\"{Top + PlotHeight}\" stroke=\"#444\"/>"));
        var every = (int)Math.Ceiling(weeks.Count / (double)MaxLabels);
        for (var i = 0; i < weeks.Count; i += every)
        {
            var label = weeks[i].Monday.ToString("dd.MM", CultureInfo.InvariantCulture);
            html.Append(Invariant($"<text x=\"{X(i, weeks.Count)}\" y=\"{Top + PlotHeight + 18}\" text-anchor=\"middle\">{encoder.Encode(label)}</text>"));
        }
        html.Append(Invariant($"<text x=\"{Left + (PlotWidth / 2)}\" y=\"{Top + PlotHeight + 36}\" text-anchor=\"middle\">{encoder.Encode(strings.Week)}</text></g>"));
    }

    private static void Series(StringBuilder html, IReadOnlyList<SlaWeek> weeks, TicketPriority priority, ReportStrings strings, HtmlEncoder encoder)
    {
        var colour = Colours[priority];
        html.Append(Invariant($"<g class=\"series\" data-priority=\"{WireName.Of(priority)}\" stroke=\"{colour}\" fill=\"{colour}\">"));
        var run = new List<string>();
        for (var i = 0; i <= weeks.Count; i++)
        {
            var share = i < weeks.Count ? weeks[i].Priorities.First(p => p.Priority == priority) : null;
            if (share?.ShareMet is { } value)
            {
                run.Add(Invariant($"{X(i, weeks.Count):0.##},{Y(value):0.##}"));
                continue;
            }
            if (run.Count > 1)
                html.Append("<polyline fill=\"none\" stroke-width=\"2\" points=\"").Append(string.Join(' ', run)).Append("\"/>");
            run.Clear();
        }
        for (var i = 0; i < weeks.Count; i++)
        {
            if (weeks[i].Priorities.First(p => p.Priority == priority) is not { ShareMet: { } value } share)
                continue;
            var title = $"{strings.Name(priority)}, {strings.Week} {weeks[i].Monday.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}: {strings.Percent(value)} ({strings.Closed}: {share.Closed})";
            html.Append(Invariant($"<circle cx=\"{X(i, weeks.Count):0.##}\" cy=\"{Y(value):0.##}\" r=\"4\" data-week=\"{weeks[i].Monday.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}\" data-share=\"{value.ToString("0.####", CultureInfo.InvariantCulture)}\">"));
            html.Append("<title>").Append(encoder.Encode(title)).Append("</title></circle>");
        }
        html.Append("</g>");
    }

    private static void Legend(StringBuilder html, ReportStrings strings, HtmlEncoder encoder)
    {
        html.Append("<g class=\"legend\" font-size=\"13\">");
        var x = Left;
        foreach (var priority in SlaReport.Priorities)
        {
            var y = Height - 22;
            html.Append(Invariant($"<rect x=\"{x}\" y=\"{y - 10}\" width=\"14\" height=\"14\" fill=\"{Colours[priority]}\"/>"));
            html.Append(Invariant($"<text x=\"{x + 20}\" y=\"{y + 2}\" fill=\"#222\">{encoder.Encode(strings.Name(priority))}</text>"));
            x += 150;
        }
        html.Append("</g>");
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
