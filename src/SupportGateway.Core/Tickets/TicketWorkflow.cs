namespace SupportGateway.Core.Tickets;

/// <summary>The one table that decides which status changes are allowed.</summary>
public static class TicketWorkflow
{
    private static readonly Dictionary<TicketStatus, TicketStatus[]> Allowed = new()
    {
        [TicketStatus.New] = [TicketStatus.InProgress, TicketStatus.Clarification, TicketStatus.Resolved, TicketStatus.Closed],
        [TicketStatus.InProgress] = [TicketStatus.Clarification, TicketStatus.Resolved, TicketStatus.Closed],
        [TicketStatus.Clarification] = [TicketStatus.InProgress, TicketStatus.Resolved, TicketStatus.Closed],
        // The customer rejects the solution, or an agent reopens it.
        [TicketStatus.Resolved] = [TicketStatus.InProgress, TicketStatus.Closed],
        [TicketStatus.Closed] = [TicketStatus.InProgress],
    };

    public static bool CanTransition(TicketStatus from, TicketStatus to) => Allowed[from].Contains(to);

    public static IReadOnlyList<TicketStatus> NextFrom(TicketStatus from) => Allowed[from];

    /// <summary>
    /// What a customer's follow-up does to the ticket's status: an answer to a clarification request hands the
    /// ticket back to support, and a closed ticket reopens (follow-up detection sends a late one to a new ticket).
    /// A confirmation closes a resolved ticket and never reopens one; an objection reopens a resolved or closed one.
    /// A customer who says the request is no longer needed closes it, whatever its status.
    /// Any other message on a resolved ticket leaves it for the agent to judge.
    /// </summary>
    public static TicketStatus? AfterCustomerFollowUp(TicketStatus status, CustomerVerdict verdict = CustomerVerdict.None) => (status, verdict) switch
    {
        (TicketStatus.Closed, CustomerVerdict.Closes) => null,
        (_, CustomerVerdict.Closes) => TicketStatus.Closed,
        (TicketStatus.Resolved, CustomerVerdict.Confirms) => TicketStatus.Closed,
        (_, CustomerVerdict.Confirms) => null,
        (TicketStatus.Resolved or TicketStatus.Closed, CustomerVerdict.Rejects) => TicketStatus.InProgress,
        (TicketStatus.Clarification or TicketStatus.Closed, _) => TicketStatus.InProgress,
        _ => null,
    };
}
