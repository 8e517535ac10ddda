namespace SupportGateway.Core.Outbox;

public sealed class OutboxOptions
{
    public const string Section = "SupportGateway:Outbox";

    /// <summary>
    /// How long a delivery is tried before it is given up, counted from its queuing, as mail servers keep a message
    /// (Postfix's maximal_queue_lifetime): long enough for a provider's outage, a weekend included. A permanent refusal
    /// fails at once.
    /// </summary>
    public TimeSpan GiveUpAfter { get; set; } = TimeSpan.FromDays(2);

    /// <summary>Backoff after the first failed attempt; it doubles with each attempt, with jitter, up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>How often senders look for due rows when nothing wakes them.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a woken sender waits before claiming, so that deliveries queued close together
    /// share one claim and one commit instead of one transaction each.
    /// </summary>
    public TimeSpan Linger { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>How many due rows one claim takes.</summary>
    public int BatchSize { get; set; } = 50;

    /// <summary>How long a claimed row stays claimed; a row in flight at a crash is retried after this.</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Timeout of one delivery call.</summary>
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
