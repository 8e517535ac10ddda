using Microsoft.Extensions.Logging;
using SupportGateway.Core.Storage;

namespace SupportGateway.Core.Tickets;

public enum TicketEvent { Created, CustomerFollowUp, AnswerSent, StatusChanged, DeliveryFailed }

/// <summary>Something that acts on ticket events inside the transaction that makes them (a callback queued in the outbox).</summary>
public interface ITicketEventSubscriber
{
    Task OnEventAsync(DbSession session, TicketRow ticket, TicketEvent kind, long? messageId, long now, CancellationToken cancellationToken);
}

/// <summary>
/// Every ticket event, raised where it happens: one structured Information line (number, channel, event; never text
/// or who wrote it, so logs carry no personal data), and the subscribers, in the caller's transaction.
/// </summary>
public sealed class TicketEvents(IEnumerable<ITicketEventSubscriber> subscribers, ILogger<TicketEvents> logger)
{
    private readonly ITicketEventSubscriber[] _subscribers = [.. subscribers];

    public async Task RaiseAsync(DbSession session, TicketRow ticket, TicketEvent kind, long? messageId, long now, CancellationToken cancellationToken)
    {
        logger.LogInformation("Ticket {TicketNumber} on {Channel}: {TicketEvent}", ticket.Number, ticket.Channel, WireName.Of(kind));
        foreach (var subscriber in _subscribers)
            await subscriber.OnEventAsync(session, ticket, kind, messageId, now, cancellationToken);
    }
}
