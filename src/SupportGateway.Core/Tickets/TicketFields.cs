namespace SupportGateway.Core.Tickets;

// The regulation's value sets. On the wire and in the database they are snake_case
// ("in_progress", "mass_incident"): see WireName.

public enum TicketStatus { New, InProgress, Clarification, Resolved, Closed }

public enum TicketPriority { Emergency, High, Medium, Low }

public enum TicketType { Incident, MassIncident, Consultation, Development, Defect, Complaint }

public enum TicketResolution { Solved, NotReproducible, UserError, Infrastructure, Complaint }

public enum MessageDirection { In, Out }

public enum AuthorKind { Customer, Agent, System }
