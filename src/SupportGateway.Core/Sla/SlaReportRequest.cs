using NodaTime;
using NodaTime.Text;

namespace SupportGateway.Core.Sla;

/// <summary>What an SLA report covers: tickets closed in [<see cref="From"/>, <see cref="To"/>), weeks cut in <see cref="Zone"/>.</summary>
public sealed record SlaReportRequest(Instant From, Instant To, string? Organisation, DateTimeZone Zone)
{
    public static readonly Duration DefaultLength = Duration.FromDays(30);

    /// <summary>Long enough for a year's report, short enough that the weekly chart stays readable.</summary>
    public static readonly Duration MaxLength = Duration.FromDays(366);

    private static readonly IPattern<OffsetDateTime> WithOffset = OffsetDateTimePattern.ExtendedIso;
    private static readonly IPattern<LocalDateTime> Local = LocalDateTimePattern.ExtendedIso;
    private static readonly IPattern<LocalDate> Date = LocalDatePattern.Iso;

    /// <summary>
    /// Reads the period as the API, the page and the CLI take it: dates (<c>2026-11-01</c>, midnight in
    /// <paramref name="zone"/>) or instants (<c>2026-11-01T00:00:00Z</c>, <c>…+03:00</c>); <c>to</c> defaults to now and
    /// <c>from</c> to 30 days before <c>to</c>. A mistake names its field.
    /// </summary>
    public static SlaReportParse Parse(string? from, string? to, string? organisation, DateTimeZone zone, Instant now)
    {
        var end = now;
        if (!string.IsNullOrWhiteSpace(to))
        {
            if (ParseInstant(to, zone) is not { } parsedTo)
                return SlaReportParse.Fail("to", $"'{to}' is not a date (2026-12-01) or an instant (2026-12-01T00:00:00Z).");
            end = parsedTo;
        }
        Instant start;
        if (string.IsNullOrWhiteSpace(from))
            start = end - DefaultLength;
        else if (ParseInstant(from, zone) is { } parsedFrom)
            start = parsedFrom;
        else
            return SlaReportParse.Fail("from", $"'{from}' is not a date (2026-11-01) or an instant (2026-11-01T00:00:00Z).");
        if (start >= end)
            return SlaReportParse.Fail("from", "'from' must be before 'to'.");
        if (end - start > MaxLength)
            return SlaReportParse.Fail("from", $"The period may be at most {MaxLength.Days} days long.");
        var account = string.IsNullOrWhiteSpace(organisation) ? null : organisation.Trim();
        if (account is { Length: > 100 })
            return SlaReportParse.Fail("organisation", "An account number is at most 100 characters long.");
        return new SlaReportParse(new SlaReportRequest(start, end, account, zone), null, null);
    }

    private static Instant? ParseInstant(string text, DateTimeZone zone)
    {
        text = text.Trim();
        if (WithOffset.Parse(text) is { Success: true } offset)
            return offset.Value.ToInstant();
        // A time without an offset is read on the report's calendar, as a date is.
        if (Local.Parse(text) is { Success: true } local)
            return local.Value.InZoneLeniently(zone).ToInstant();
        if (Date.Parse(text) is { Success: true } date)
            return zone.AtStartOfDay(date.Value).ToInstant();
        return null;
    }
}

/// <summary>A parsed report request, or the field that is wrong and why.</summary>
public sealed record SlaReportParse(SlaReportRequest? Request, string? Field, string? Error)
{
    public static SlaReportParse Fail(string field, string error) => new(null, field, error);
}
