namespace SupportGateway.Core.Pipeline;

public enum IngestOutcome
{
    /// <summary>A new ticket was opened.</summary>
    Created,

    /// <summary>The message was added to an existing ticket.</summary>
    Appended,

    /// <summary>The same (channel, external id) was seen before; nothing changed.</summary>
    Duplicate,

    /// <summary>A filter consumed the message without touching tickets.</summary>
    Dropped,

    /// <summary>Processing failed; the payload is kept as a dead letter for replay.</summary>
    Parked,

    /// <summary>Stored for processing later (store now, process later: a webhook answers at once).</summary>
    Stored,
}

public sealed record IngestResult(IngestOutcome Outcome, long InboundId, long? TicketId = null, string? TicketNumber = null,
    long? MessageId = null, string? Error = null, string? TicketStatus = null)
{
    /// <summary>What a filter asked to do once the payload is committed (see <see cref="InboundContext.AfterCommit"/>).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public Func<CancellationToken, Task>? AfterCommit { get; init; }
}
