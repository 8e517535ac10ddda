using SupportGateway.Core.Tickets;

namespace SupportGateway.Core.Pipeline.Filters;

/// <summary>Type and priority of a new ticket: what the sender asked for, else the regulation's defaults.</summary>
public sealed class RoutingFilter : IInboundFilter
{
    public int Order => 600;

    public ValueTask RunAsync(InboundContext context, CancellationToken cancellationToken)
    {
        if (context.Ticket is null)
        {
            context.Type = context.Message.RequestedType ?? TicketType.Incident;
            context.Priority = context.Message.RequestedPriority ?? TicketPriority.Medium;
        }
        return ValueTask.CompletedTask;
    }
}
