using Microsoft.Extensions.Options;
using SupportGateway.Core.Outbox;
using SupportGateway.Core.Storage;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Core;

/// <summary>Checks the core's options; every message names the configuration key to fix.</summary>
public sealed class CoreOptionsValidator : IValidateOptions<StorageOptions>, IValidateOptions<TicketOptions>, IValidateOptions<OutboxOptions>,
    IValidateOptions<AcknowledgementLimitOptions>
{
    public ValidateOptionsResult Validate(string? name, AcknowledgementLimitOptions options) => Collect(
        options.PerAddress < 0 ? $"{AcknowledgementLimitOptions.Section}:PerAddress: must not be negative (0 turns the cap off)" : null,
        options.Window <= TimeSpan.Zero ? $"{AcknowledgementLimitOptions.Section}:Window: must be positive" : null);

    public ValidateOptionsResult Validate(string? name, StorageOptions options) => Collect(
        options.Provider is "sqlite" or "postgresql" ? null
            : $"{StorageOptions.Section}:Provider: '{options.Provider}' is not supported (use {SqlDialect.Providers})",
        string.IsNullOrWhiteSpace(options.ConnectionString) ? $"{StorageOptions.Section}:ConnectionString: must not be empty"
            : ConnectionStringError(options),
        options.SignalRetryDelay <= TimeSpan.Zero ? $"{StorageOptions.Section}:SignalRetryDelay: must be positive" : null,
        options.ProbeFirstDelay <= TimeSpan.Zero ? $"{StorageOptions.Section}:ProbeFirstDelay: must be positive" : null,
        options.ProbeMaxDelay < options.ProbeFirstDelay ? $"{StorageOptions.Section}:ProbeMaxDelay: must not be below ProbeFirstDelay" : null,
        options.CommitCheckTimeout < TimeSpan.Zero ? $"{StorageOptions.Section}:CommitCheckTimeout: must not be negative" : null);

    /// <summary>A connection string the provider cannot read, named without its value (it may hold a password).</summary>
    private static string? ConnectionStringError(StorageOptions options)
    {
        try
        {
            _ = options.Provider == "postgresql"
                ? new Npgsql.NpgsqlConnectionStringBuilder(options.ConnectionString).ToString()
                : new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(options.ConnectionString).ToString();
            return null;
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidOperationException)
        {
            return $"{StorageOptions.Section}:ConnectionString: not a {options.Provider} connection string ({ex.Message.Split('\n')[0].Trim()})";
        }
    }

    public ValidateOptionsResult Validate(string? name, TicketOptions options) => Collect(
        string.IsNullOrWhiteSpace(options.NumberPrefix) || !options.NumberPrefix.All(char.IsAsciiLetterOrDigit)
            ? $"{TicketOptions.Section}:NumberPrefix: must be ASCII letters or digits, got '{options.NumberPrefix}'" : null,
        options.NumberStart is < 1 or > 999_999_999_999 ? $"{TicketOptions.Section}:NumberStart: must be between 1 and 999999999999" : null,
        TicketOptions.Languages.Contains(options.DefaultLanguage) ? null : $"{TicketOptions.Section}:DefaultLanguage: must be 'en' or 'ru'",
        options.Acknowledgement.Values.All(t => t.Contains("{number}", StringComparison.Ordinal)) ? null
            : $"{TicketOptions.Section}:Acknowledgement: every template must contain {{number}}",
        options.ReopenWindow < TimeSpan.Zero ? $"{TicketOptions.Section}:ReopenWindow: must not be negative" : null);

    public ValidateOptionsResult Validate(string? name, OutboxOptions options) => Collect(
        options.GiveUpAfter <= TimeSpan.Zero ? $"{OutboxOptions.Section}:GiveUpAfter: must be positive" : null,
        options.FirstRetryDelay <= TimeSpan.Zero ? $"{OutboxOptions.Section}:FirstRetryDelay: must be positive" : null,
        options.MaxRetryDelay < options.FirstRetryDelay ? $"{OutboxOptions.Section}:MaxRetryDelay: must not be below FirstRetryDelay" : null,
        options.PollInterval <= TimeSpan.Zero ? $"{OutboxOptions.Section}:PollInterval: must be positive" : null,
        options.Lease < options.SendTimeout ? $"{OutboxOptions.Section}:Lease: must be at least SendTimeout" : null,
        options.Linger < TimeSpan.Zero || options.Linger > TimeSpan.FromSeconds(5) ? $"{OutboxOptions.Section}:Linger: must be between 0 and 5 seconds" : null,
        options.BatchSize is < 1 or > 1000 ? $"{OutboxOptions.Section}:BatchSize: must be between 1 and 1000" : null);

    internal static ValidateOptionsResult Collect(params string?[] failures)
    {
        var found = failures.OfType<string>().ToArray();
        return found.Length == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(found);
    }
}
