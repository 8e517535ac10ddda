using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using SupportGateway.Core.Sla;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Host.Reports;

/// <summary>
/// The share met per week and priority as plain inline SVG: a group of bars per week, one bar per priority, 0–100 %
/// on the vertical axis, a legend below. Bars rather than lines, because priorities often share a value and lines
/// would hide each other; a week without closed tickets of a priority has no bar rather than a fake 0 or 100 %.
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
        for (var slot = 0; slot < SlaReport.Priorities.Count; slot++)
            Series(html, weeks, SlaReport.Priorities[slot], slot, strings, encoder);
        Legend(html, strings, encoder);
        html.Append("</svg>");
    }

    /// <summary>The middle of a week's group of bars.</summary>
    private static double X(int week, int count) => Left + (PlotWidth * (week + 0.5) / count);

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

    /// <summary>One bar per week with closures of this priority; a 0 % week gets a sliver, so it differs from a week without any.</summary>
    private static void Series(StringBuilder html, IReadOnlyList<SlaWeek> weeks, TicketPriority priority, int slot, ReportStrings strings, HtmlEncoder encoder)
    {
        var colour = Colours[priority];
        var group = PlotWidth / weeks.Count;
        var bar = group * 0.8 / SlaReport.Priorities.Count;
        html.Append(Invariant($"<g class=\"series\" data-priority=\"{WireName.Of(priority)}\" fill=\"{colour}\">"));
        for (var i = 0; i < weeks.Count; i++)
        {
            if (weeks[i].Priorities.First(p => p.Priority == priority) is not { ShareMet: { } value } share)
                continue;
            var monday = weeks[i].Monday.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            var height = Math.Max(PlotHeight * value, 2);
            var title = $"{strings.Name(priority)}, {strings.Week} {monday}: {strings.Percent(value)} ({strings.Closed}: {share.Closed})";
            html.Append(Invariant($"<rect x=\"{Left + (group * i) + (group * 0.1) + (bar * slot):0.##}\" y=\"{Top + PlotHeight - height:0.##}\" width=\"{bar:0.##}\" height=\"{height:0.##}\" data-week=\"{monday}\" data-share=\"{value.ToString("0.####", CultureInfo.InvariantCulture)}\">"));
            html.Append("<title>").Append(encoder.Encode(title)).Append("</title></rect>");
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
