using NodaTime;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Core.Sla;

/// <summary>A service level as a value: its calendar, targets per priority and warning thresholds (ascending, below 1).</summary>
public sealed record SlaPolicy(string Name, BusinessCalendar Calendar, IReadOnlyDictionary<TicketPriority, Duration> Resolution,
    IReadOnlyDictionary<TicketPriority, Duration>? FirstResponse, IReadOnlyList<double> Warn)
{
    public static readonly IReadOnlyDictionary<TicketPriority, double> RegulationHours = new Dictionary<TicketPriority, double>
    {
        [TicketPriority.Emergency] = 12, [TicketPriority.High] = 24, [TicketPriority.Medium] = 48, [TicketPriority.Low] = 96,
    };

    public Duration TargetFor(TicketPriority priority) => Resolution[priority];

    public Duration TargetFor(string priority) => Resolution[WireName.Parse<TicketPriority>(priority)];
}
