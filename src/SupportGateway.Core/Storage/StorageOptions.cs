namespace SupportGateway.Core.Storage;

public sealed class StorageOptions
{
    public const string Section = "SupportGateway:Storage";

    /// <summary><c>sqlite</c> (embedded default) or <c>postgresql</c> (a server shared by several instances).</summary>
    public string Provider { get; set; } = "sqlite";

    public string ConnectionString { get; set; } = "Data Source=data/supportgateway.db";

    /// <summary>While the storage is unavailable (disk full, database locked, server gone), the first write attempt comes after this; then doubling.</summary>
    public TimeSpan ProbeFirstDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between two write attempts of an outage; also the longest Retry-After a refused client is told.</summary>
    public TimeSpan ProbeMaxDelay { get; set; } = TimeSpan.FromSeconds(30);
}
