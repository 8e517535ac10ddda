namespace SupportGateway.Core.Storage;

public sealed class StorageOptions
{
    public const string Section = "SupportGateway:Storage";

    /// <summary><c>sqlite</c> (embedded default) or <c>postgresql</c> (a server shared by several instances).</summary>
    public string Provider { get; set; } = "sqlite";

    public string ConnectionString { get; set; } = "Data Source=data/supportgateway.db";

    /// <summary>
    /// PostgreSQL: the first wait before the listener for other instances' signals reconnects after its connection
    /// broke; it doubles on each failure, up to 30 s.
    /// </summary>
    public TimeSpan SignalRetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>While the storage is unavailable (disk full, database locked, server gone), the first write attempt comes after this; then doubling.</summary>
    public TimeSpan ProbeFirstDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between two write attempts of an outage; also the longest Retry-After a refused client is told.</summary>
    public TimeSpan ProbeMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// PostgreSQL: when the connection breaks during the commit of new requests, the server may have committed them; the
    /// requests wait up to this long for the server to say whether it did, and are answered with their tickets when it did.
    /// Past it they are answered 503 with the outcome unknown, and a retry with the same key gets the ticket if it exists.
    /// </summary>
    public TimeSpan CommitCheckTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
