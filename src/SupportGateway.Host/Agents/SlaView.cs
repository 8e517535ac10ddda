using NodaTime;
using SupportGateway.Core.Sla;
using SupportGateway.Core.Storage;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Host.Agents;

/// <summary>The <c>sla</c> object of a ticket in the agent API. Times are in the policy calendar's offset.</summary>
public sealed record SlaDto(string Policy, string Calendar, double TargetHours, DateTimeOffset? DueAt, long BusinessSecondsElapsed,
    long PausedSeconds, string State, bool Breached, DateTimeOffset? FirstResponseDueAt);

/// <summary>Reads a ticket's clock for the agent API.</summary>
public sealed class SlaView(SlaTracker tracker, TimeProvider time)
{
    public async Task<SlaDto> ReadAsync(SqlScope db, TicketRow ticket, CancellationToken cancellationToken) =>
        ToDto(await tracker.ReadAsync(db, ticket, Instant.FromDateTimeOffset(time.GetUtcNow()), cancellationToken));

    public async Task<IReadOnlyList<SlaDto>> ReadManyAsync(SqlScope db, IReadOnlyList<TicketRow> tickets, CancellationToken cancellationToken) =>
        [.. (await tracker.ReadManyAsync(db, tickets, Instant.FromDateTimeOffset(time.GetUtcNow()), cancellationToken)).Select(ToDto)];

    private static SlaDto ToDto(SlaSnapshot snapshot)
    {
        var reading = snapshot.Reading;
        var zone = snapshot.Policy.Calendar.Zone;
        return new SlaDto(snapshot.Policy.Name, snapshot.Policy.Calendar.Name, snapshot.Target.TotalHours, Offset(reading.DueAt, zone),
            (long)reading.BusinessElapsed.TotalSeconds, (long)reading.Paused.TotalSeconds, reading.State.ToString().ToLowerInvariant(),
            reading.Breached, Offset(snapshot.FirstResponseDueAt, zone));
    }

    private static DateTimeOffset? Offset(Instant? instant, DateTimeZone zone) => instant?.InZone(zone).ToDateTimeOffset();
}
