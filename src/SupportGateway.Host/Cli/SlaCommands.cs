using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Options;
using NodaTime;
using SupportGateway.Core.Sla;
using SupportGateway.Core.Storage;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Host.Cli;

/// <summary>
/// <c>sla due</c>: when a target in business hours is used up, by the same code as the tickets;
/// <c>sla explain SG-xxxxx</c>: a ticket's clock, interval by interval.
/// </summary>
internal static class SlaCommands
{
    public static Command Create()
    {
        var sla = new Command("sla", "Service levels: due instants in business hours, and how a ticket's clock ran.");
        var calendar = new Option<string>("--calendar") { Description = "A calendar name (config/calendars or SupportGateway:Sla:Calendars).", Required = true };
        var from = new Option<string>("--from") { Description = "The start, ISO 8601 with an offset: 2026-12-31T17:00:00+03:00.", Required = true };
        var hours = new Option<double>("--hours") { Description = "Business hours to add.", Required = true };
        var due = new Command("due", "Print the instant at which the business hours are used up.") { calendar, from, hours };
        due.SetAction((parse, ct) => GatewayCli.WithHostAsync(ct, (services, _) =>
            Task.FromResult(Due(services, parse.GetValue(calendar)!, parse.GetValue(from)!, parse.GetValue(hours)))));
        sla.Subcommands.Add(due);

        var number = new Argument<string>("number") { Description = "A ticket number, e.g. SG-10008." };
        var explain = new Command("explain", "Print a ticket's clock: running, outside hours and paused intervals, and the totals.") { number };
        explain.SetAction((parse, ct) => GatewayCli.WithHostAsync(ct, (services, c) => ExplainAsync(services, parse.GetValue(number)!, c)));
        sla.Subcommands.Add(explain);
        return sla;
    }

    private static int Due(IServiceProvider services, string calendarName, string fromText, double hours)
    {
        var catalog = services.GetRequiredService<SlaCatalog>();
        if (catalog.Calendar(calendarName) is not { } calendar)
            return Fail($"'{calendarName}' is not a calendar; known: {string.Join(", ", catalog.Calendars.Select(c => c.Name).Order())}.");
        if (!DateTimeOffset.TryParse(fromText, CultureInfo.InvariantCulture, DateTimeStyles.None, out var start) || !HasOffset(fromText))
            return Fail($"--from '{fromText}' is not an ISO 8601 instant with an offset, like 2026-12-31T17:00:00+03:00.");
        if (hours is < 0 or > 100_000 || double.IsNaN(hours))
            return Fail("--hours must be a number of business hours from 0 to 100000.");
        var dueAt = calendar.AddBusinessTime(Instant.FromDateTimeOffset(start), Duration.FromSeconds(Math.Round(hours * 3600)));
        Console.WriteLine(CalendarOptions.Format(dueAt, calendar.Zone));
        return 0;
    }

    private static async Task<int> ExplainAsync(IServiceProvider services, string number, CancellationToken ct)
    {
        await services.GetRequiredService<Migrator>().MigrateAsync(ct);
        await using var connection = await services.GetRequiredService<Database>().OpenAsync(ct);
        var db = new SqlScope(connection);
        if (await services.GetRequiredService<TicketService>().FindAsync(db, number, ct) is not { } ticket)
            return Fail($"ticket {number} does not exist.");
        var now = Instant.FromDateTimeOffset(services.GetRequiredService<TimeProvider>().GetUtcNow());
        var snapshot = await services.GetRequiredService<SlaTracker>().ReadAsync(db, ticket, now, ct);
        var calendar = snapshot.Policy.Calendar;
        var reading = snapshot.Reading;
        Console.WriteLine($"{ticket.Number} · {ticket.Status} · {ticket.Priority} · policy {snapshot.Policy.Name} · calendar {calendar.Name} ({calendar.Zone.Id})");
        foreach (var segment in SlaClock.Explain(snapshot.History, calendar, now))
        {
            Console.WriteLine($"  {CalendarOptions.Format(segment.Start, calendar.Zone)} → {CalendarOptions.Format(segment.End, calendar.Zone)}  " +
                $"{Kind(segment.Kind),-13} {Length(segment.End - segment.Start)}");
        }
        Console.WriteLine($"target:    {Length(reading.Target)} of business time");
        Console.WriteLine($"elapsed:   {Length(reading.BusinessElapsed)} of business time");
        Console.WriteLine($"paused:    {Length(reading.Paused)} waiting for the customer");
        Console.WriteLine($"due:       {(reading.DueAt is { } d ? CalendarOptions.Format(d, calendar.Zone) : "—")}");
        Console.WriteLine($"state:     {reading.State.ToString().ToLowerInvariant()}{(reading.Breached ? ", breached" : "")}");
        return 0;
    }

    private static string Kind(SegmentKind kind) => kind switch
    {
        SegmentKind.Running => "running",
        SegmentKind.OutsideHours => "outside hours",
        SegmentKind.Paused => "paused",
        _ => "stopped",
    };

    private static string Length(Duration d) => string.Create(CultureInfo.InvariantCulture, $"{(long)d.TotalHours} h {d.Minutes:00} min");

    private static bool HasOffset(string text) => text.EndsWith('Z') || System.Text.RegularExpressions.Regex.IsMatch(text, @"[+-]\d{2}:?\d{2}$");

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return 2;
    }
}
