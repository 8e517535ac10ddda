namespace SupportGateway.Core.Storage;

public sealed class StorageOptions
{
    public const string Section = "SupportGateway:Storage";

    /// <summary><c>sqlite</c> (embedded default) or <c>postgresql</c> (a server shared by several instances).</summary>
    public string Provider { get; set; } = "sqlite";

    public string ConnectionString { get; set; } = "Data Source=data/supportgateway.db";
}
