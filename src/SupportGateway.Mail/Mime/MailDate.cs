using System.Globalization;
using System.Text.RegularExpressions;

namespace SupportGateway.Mail.Mime;

/// <summary>RFC 5322 §3.3 dates, read leniently: optional weekday, two-digit years, obsolete and named zones, missing seconds, trailing junk.</summary>
public static partial class MailDate
{
    private static readonly string[] Months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

    private static readonly Dictionary<string, int> Zones = new(StringComparer.OrdinalIgnoreCase)
    {
        ["UT"] = 0, ["UTC"] = 0, ["GMT"] = 0, ["Z"] = 0, ["EST"] = -5, ["EDT"] = -4, ["CST"] = -6, ["CDT"] = -5,
        ["MST"] = -7, ["MDT"] = -6, ["PST"] = -8, ["PDT"] = -7, ["MSK"] = 3, ["MSD"] = 4, ["CET"] = 1, ["CEST"] = 2,
    };

    [GeneratedRegex(@"(?<day>\d{1,2})[\s\-]+(?<month>[A-Za-z]{3,})[\s\-,]+(?<year>\d{2,4})\s+(?<h>\d{1,2}):(?<m>\d{1,2})(?::(?<s>\d{1,2}))?(?:\.\d+)?\s*(?<zone>[+\-]\d{1,4}|[A-Za-z]{1,5})?")]
    private static partial Regex Rfc5322();

    [GeneratedRegex(@"\([^)]*\)")]
    private static partial Regex Comment();

    public static bool TryParse(string? text, out DateTimeOffset date)
    {
        date = default;
        if (string.IsNullOrWhiteSpace(text))
            return false;
        var cleaned = Comment().Replace(text, " ");
        var match = Rfc5322().Match(cleaned);
        if (match.Success && TryBuild(match, out date))
            return true;
        return DateTimeOffset.TryParse(cleaned.Trim(), CultureInfo.InvariantCulture, DateTimeStyles.AllowWhiteSpaces | DateTimeStyles.AssumeUniversal, out date);
    }

    private static bool TryBuild(Match m, out DateTimeOffset date)
    {
        date = default;
        var month = Array.IndexOf(Months, m.Groups["month"].Value[..3].ToLowerInvariant()) + 1;
        var year = int.Parse(m.Groups["year"].Value, CultureInfo.InvariantCulture);
        if (m.Groups["year"].Value.Length <= 2)
            year += year < 50 ? 2000 : 1900; // RFC 5322 §4.3
        else if (m.Groups["year"].Value.Length == 3)
            year += 1900;
        var day = int.Parse(m.Groups["day"].Value, CultureInfo.InvariantCulture);
        var hour = int.Parse(m.Groups["h"].Value, CultureInfo.InvariantCulture);
        var minute = int.Parse(m.Groups["m"].Value, CultureInfo.InvariantCulture);
        var second = m.Groups["s"].Success ? int.Parse(m.Groups["s"].Value, CultureInfo.InvariantCulture) : 0;
        if (month == 0 || day is < 1 or > 31 || hour > 23 || minute > 59 || second > 60 || year is < 1 or > 9999)
            return false;
        var offset = Zone(m.Groups["zone"].Value);
        try
        {
            date = new DateTimeOffset(year, month, Math.Min(day, DateTime.DaysInMonth(year, month)), hour, minute, Math.Min(second, 59), offset);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static TimeSpan Zone(string zone)
    {
        if (zone.Length == 0)
            return TimeSpan.Zero;
        if (zone[0] is '+' or '-')
        {
            var digits = zone[1..].PadLeft(4, '0');
            var hours = int.Parse(digits[..2], CultureInfo.InvariantCulture);
            var minutes = int.Parse(digits[2..], CultureInfo.InvariantCulture);
            if (hours > 14 || minutes > 59)
                return TimeSpan.Zero;
            var offset = new TimeSpan(hours, minutes, 0);
            return zone[0] == '-' ? -offset : offset;
        }
        return TimeSpan.FromHours(Zones.GetValueOrDefault(zone, 0));
    }
}
