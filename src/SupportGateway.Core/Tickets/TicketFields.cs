namespace SupportGateway.Core.Tickets;

// The regulation's value sets. On the wire and in the database they are snake_case
// ("in_progress", "mass_incident"): see WireName.

public enum TicketStatus { New, InProgress, Clarification, Resolved, Closed }

public enum TicketPriority { Emergency, High, Medium, Low }

public enum TicketType { Incident, MassIncident, Consultation, Development, Defect, Complaint }

/// <summary>How a ticket was resolved; <see cref="Declined"/> is a request not carried out (a low-priority one may be refused), with an answer.</summary>
public enum TicketResolution { Solved, NotReproducible, UserError, Infrastructure, Complaint, Declined }

public enum MessageDirection { In, Out }

public enum AuthorKind { Customer, Agent, System }
