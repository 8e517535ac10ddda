using SupportGateway.Core.Tickets;

namespace SupportGateway.Core.Pipeline;

/// <summary>One message from any channel, normalised. The only shape the ticket core accepts.</summary>
public sealed record InboundMessage
{
    /// <summary>Channel name, e.g. <c>webchat</c>, <c>api</c>, <c>email</c>.</summary>
    public required string Channel { get; init; }

    /// <summary>The channel account it arrived on (mailbox name, bot name); null when the channel has one.</summary>
    public string? Account { get; init; }

    /// <summary>The channel's id for this message (Message-ID, update_id, wamid, idempotency key).</summary>
    public required string ExternalId { get; init; }

    public required SenderIdentity Sender { get; init; }

    public ThreadHints Hints { get; init; } = new();

    public string? Subject { get; init; }

    public string Text { get; init; } = "";

    /// <summary>Sanitised HTML, when the channel had any.</summary>
    public string? Html { get; init; }

    /// <summary>The signature under the text (a mail's sign-off, "-- " block or client footer), kept apart from it.</summary>
    public string? Signature { get; init; }

    public IReadOnlyList<InboundAttachment> Attachments { get; init; } = [];

    /// <summary>Files the channel could not fetch yet: fetched again later and attached to this message (<see cref="FileRetryWorker"/>).</summary>
    public IReadOnlyList<MissingFile> MissingFiles { get; init; } = [];

    /// <summary>Language the channel reported (<c>ru</c>, <c>en</c>), if it knows.</summary>
    public string? Language { get; init; }

    /// <summary>What the sender asked for the new ticket; channel defaults fill the gaps.</summary>
    public TicketType? RequestedType { get; init; }

    public TicketPriority? RequestedPriority { get; init; }

    /// <summary>Key/value details a product attaches (version, OS, user id).</summary>
    public IReadOnlyDictionary<string, string>? TechnicalDetails { get; init; }

    /// <summary>The addresses it was sent to (To, Cc), when the channel has such a thing.</summary>
    public IReadOnlyList<string> Recipients { get; init; } = [];

    /// <summary>Channel identities of other people the sender included (Cc): they take part in the ticket.</summary>
    public IReadOnlyList<string> CopiedTo { get; init; } = [];

    /// <summary>The customer's answer to a resolution, when the channel asked with buttons; a thank-you is recognised from the text.</summary>
    public CustomerVerdict Verdict { get; init; }

    public bool IsAutoSubmitted { get; init; }

    public bool IsBounce { get; init; }

    public DateTimeOffset? SentAt { get; init; }
}

/// <summary>Who sent it, as the channel knows them. <see cref="Identity"/> is unique within the channel.</summary>
public sealed record SenderIdentity
{
    public required string Identity { get; init; }
    public string? Name { get; init; }
    public string? Email { get; init; }
    public string? Phone { get; init; }
    public string? AccountNumber { get; init; }
}

/// <summary>What the channel knows about which conversation this message continues.</summary>
public sealed record ThreadHints
{
    /// <summary>The sender explicitly asked for a new request (web chat "new request", Telegram /new, API create).</summary>
    public bool StartNew { get; init; }

    /// <summary>A ticket number the channel says this message belongs to (web chat thread, API path).</summary>
    public string? TicketNumber { get; init; }

    /// <summary>External ids of earlier messages this one answers (In-Reply-To/References, reply_to_message).</summary>
    public IReadOnlyList<string> ReplyTo { get; init; } = [];

    /// <summary>The conversation on the channel (chat id, phone number); its active ticket is the default.</summary>
    public string? ConversationKey { get; init; }

    /// <summary>Where answers go on this channel (email address, chat id, visitor id).</summary>
    public string? ReplyAddress { get; init; }
}

public sealed record InboundAttachment
{
    public required string FileName { get; init; }
    public required string ContentType { get; init; }
    public required byte[] Content { get; init; }
    public string? ContentId { get; init; }
    public bool Inline { get; init; }
}
