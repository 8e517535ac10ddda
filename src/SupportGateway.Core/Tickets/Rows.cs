namespace SupportGateway.Core.Tickets;

// Dapper rows: columns map by name (snake_case to PascalCase). Times are Unix milliseconds.

public sealed record TicketRow
{
    /// <summary>The ticket's sequence value; <see cref="Number"/> renders it.</summary>
    public long Id { get; init; }
    public string Number { get; init; } = "";
    public string Subject { get; init; } = "";
    public string Status { get; init; } = "new";
    public string Priority { get; init; } = "medium";
    public string Type { get; init; } = "incident";
    public string? Resolution { get; init; }
    public string? Assignee { get; init; }
    public long RequesterId { get; init; }
    public long? OrganisationId { get; init; }
    public string Channel { get; init; } = "";
    public string? Account { get; init; }
    public string? ConversationKey { get; init; }
    public string? ReplyAddress { get; init; }
    public string Language { get; init; } = "en";
    public long CreatedAt { get; init; }
    public long UpdatedAt { get; init; }
    public long? ResolvedAt { get; init; }
    public long? ClosedAt { get; init; }

    /// <summary>The service-level policy at registration; see <c>Sla/SlaTracker</c> for the other SLA columns.</summary>
    public string? SlaPolicy { get; init; }

    /// <summary>When the resolution target is used up while the clock runs; null while it is paused or stopped short of it.</summary>
    public long? SlaDueAt { get; init; }

    public long? SlaWarnAt { get; init; }

    /// <summary>The next instant the scheduler has something to do for this ticket.</summary>
    public long? SlaNextAt { get; init; }

    public TicketStatus StatusValue => WireName.Parse<TicketStatus>(Status);

    /// <summary>What search matches the subject against; written with the subject, never read back.</summary>
    public string SubjectFolded => TextFold.Fold(Subject);
}

public sealed record MessageRow
{
    public long Id { get; init; }
    public long TicketId { get; init; }
    public string Direction { get; init; } = "in";
    public string AuthorKind { get; init; } = "customer";
    public string Author { get; init; } = "";
    public long? ContactId { get; init; }
    public string Channel { get; init; } = "";
    public string? ExternalId { get; init; }
    public string Text { get; init; } = "";
    public string? Html { get; init; }
    /// <summary>The signature under a customer's mail, kept apart from <see cref="Text"/>.</summary>
    public string? Signature { get; init; }
    public bool Internal { get; init; }
    public string? TechnicalDetails { get; init; }
    public long? InboundId { get; init; }
    public long CreatedAt { get; init; }
}

public sealed record AttachmentRow
{
    public long Id { get; init; }
    public long MessageId { get; init; }
    public string FileName { get; init; } = "";
    public string ContentType { get; init; } = "application/octet-stream";
    public long Size { get; init; }
    public string? ContentId { get; init; }
    public bool Inline { get; init; }
    public string Sha256 { get; init; } = "";
}

public sealed record AuditRow
{
    public long Id { get; init; }
    public long TicketId { get; init; }
    public long At { get; init; }
    public string Actor { get; init; } = "";
    public string Action { get; init; } = "";
    public string? OldValue { get; init; }
    public string? NewValue { get; init; }
}
