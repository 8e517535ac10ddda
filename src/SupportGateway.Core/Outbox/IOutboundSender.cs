using SupportGateway.Core.Tickets;

namespace SupportGateway.Core.Outbox;

/// <summary>Delivers outbox rows on one channel. Throwing <see cref="PermanentDeliveryException"/> stops retries.</summary>
public interface IOutboundSender
{
    string Channel { get; }

    /// <summary>
    /// How many of the channel's deliveries this instance makes at once, each from a loop of its own (a mailbox's SMTP
    /// connections). The claim keeps one recipient's messages of a ticket in order whatever the number.
    /// </summary>
    int Concurrency => 1;

    Task<DeliveryReceipt> SendAsync(OutboundMessage message, CancellationToken cancellationToken);
}

/// <summary>
/// What to deliver. <see cref="IdempotencyKey"/> is stable across attempts of the same row, so a
/// channel that supports it can drop a repeat of a send that succeeded before a crash.
/// </summary>
public sealed record OutboundMessage(
    long OutboxId,
    string IdempotencyKey,
    TicketRow Ticket,
    MessageRow Message,
    string Recipient,
    string? Account,
    IReadOnlyList<AttachmentRow> Attachments,
    MessageRow? InReplyTo,
    string? Payload = null);

/// <summary>
/// The channel's id for what it delivered (Message-ID, message_id, wamid), if any. <see cref="AgentsNote"/> says what
/// of the message could not go (a file over the channel's limit): the agents read it on the ticket and in their mail.
/// </summary>
public sealed record DeliveryReceipt(string? ExternalId, string? AgentsNote = null);

/// <summary>The channel refused for good (unknown recipient, blocked bot): no retry helps.</summary>
public class PermanentDeliveryException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The provider asks us to wait (HTTP 429 with Retry-After, Telegram's retry_after, Twilio 20429): the outbox tries
/// again no sooner than <see cref="RetryAfter"/>, whatever its own backoff says.
/// </summary>
public sealed class DeliveryThrottledException(string message, TimeSpan retryAfter, Exception? inner = null) : Exception(message, inner)
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}

/// <summary>
/// The recipient refused the channel for good (the user blocked the bot): the identity is marked unreachable and the
/// agents are told on the ticket and by their notifications.
/// </summary>
public sealed class RecipientUnreachableException(string message, Exception? inner = null) : PermanentDeliveryException(message, inner);

/// <summary>
/// The channel will not deliver until the recipient acts (WhatsApp's 24-hour window: the customer must write first).
/// The row is held, not failed and not retried; the channel releases it. <see cref="AgentsNote"/> is what the agents
/// read on the ticket and in their mail.
/// </summary>
public sealed class DeliveryHeldException(string message, string agentsNote) : Exception(message)
{
    public string AgentsNote { get; } = agentsNote;
}

/// <summary>
/// Who hears of customer messages besides the ticket: a channel (such as agents' mail) and its recipients per ticket.
/// Every new ticket and every customer follow-up is queued to each of them, in the same transaction.
/// </summary>
public interface IAgentNotifier
{
    string Channel { get; }

    IReadOnlyList<string> Recipients(TicketRow ticket);
}

/// <summary>
/// A channel that reaches a customer at their e-mail address whatever channel the ticket came by: closure notices go
/// there too, as the regulation asks. <see cref="Available"/> is false while it is not configured.
/// </summary>
public interface ICustomerMail
{
    string Channel { get; }

    bool Available { get; }
}

/// <summary>
/// A channel with nothing to send: a message is delivered by being recorded, as the intake API's are (the product reads
/// them with <c>GET /api/v1/requests/{number}</c>). Its outbox rows are written as sent, with no sender to claim them.
/// </summary>
public sealed record RecordedChannel(string Channel);
