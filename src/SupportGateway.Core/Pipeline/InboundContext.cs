using System.Data.Common;
using SupportGateway.Core.Storage;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Core.Pipeline;

/// <summary>State that flows through the filters, inside the ingest transaction.</summary>
public sealed class InboundContext(InboundMessage message, long rawId, DbSession session)
{
    /// <summary>A filter may replace it with an enriched copy (downloaded files, a mention taken out).</summary>
    public InboundMessage Message { get; set; } = message;

    public long RawId { get; } = rawId;

    public DbSession Session { get; } = session;

    public DbConnection Connection => Session.Connection;

    public DbTransaction Transaction => Session.Transaction;

    /// <summary>Set by the sender-identification filter.</summary>
    public long? ContactId { get; set; }

    /// <summary>The name the contact gave, in this message or before: what their messages are signed with.</summary>
    public string? ContactName { get; set; }

    /// <summary>Set by follow-up detection when the message continues an existing ticket.</summary>
    public TicketRow? Ticket { get; set; }

    /// <summary>A ticket closed too long ago to reopen, which the new ticket continues.</summary>
    public TicketRow? LinkedTo { get; set; }

    /// <summary>Other people the sender included (Cc), who take part in the ticket from now on.</summary>
    public IReadOnlyList<long> CopiedContactIds { get; set; } = [];

    /// <summary>Why the follow-up detector chose what it chose; recorded for support staff.</summary>
    public string? RoutingNote { get; set; }

    public TicketType Type { get; set; } = TicketType.Incident;

    public TicketPriority Priority { get; set; } = TicketPriority.Medium;

    public long? OrganisationId { get; set; }

    /// <summary>The organisation the sender's e-mail domain belongs to (configured domains): its members may continue its tickets.</summary>
    public long? DomainOrganisationId { get; set; }

    /// <summary>
    /// A reply that belongs to no ticket (a bot's welcome, why an agent's mail was refused), run once the payload is
    /// committed; best effort: a failure is logged, the payload is already safe.
    /// </summary>
    public Func<CancellationToken, Task>? AfterCommit { get; set; }

    /// <summary>Set by a filter that consumes the message without touching tickets (auto-reply storms).</summary>
    public string? DroppedBecause { get; set; }

    /// <summary>
    /// Automatic mail (an auto-reply, a delivery failure) about <see cref="Ticket"/>: recorded there as what it is,
    /// changing nothing and answered by nothing.
    /// </summary>
    public AutomaticKind? Automatic { get; set; }
}

/// <summary>One step of the ordered inbound chain. Filters run inside the ingest transaction.</summary>
public interface IInboundFilter
{
    /// <summary>Position in the chain: dedupe 100, loops 200, bounces 300, sender 400, follow-up 500, routing 600.</summary>
    int Order { get; }

    ValueTask RunAsync(InboundContext context, CancellationToken cancellationToken);
}

public enum AutomaticKind { AutoReply, DeliveryFailure }
