using Microsoft.Extensions.Options;
using SupportGateway.Core.Outbox;
using SupportGateway.Core.Storage;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Core;

/// <summary>Checks the core's options; every message names the configuration key to fix.</summary>
public sealed class CoreOptionsValidator : IValidateOptions<StorageOptions>, IValidateOptions<TicketOptions>, IValidateOptions<OutboxOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions options) => Collect(
        options.Provider is "sqlite" ? null : $"{StorageOptions.Section}:Provider: '{options.Provider}' is not supported (use 'sqlite')",
        string.IsNullOrWhiteSpace(options.ConnectionString) ? $"{StorageOptions.Section}:ConnectionString: must not be empty" : null);

    public ValidateOptionsResult Validate(string? name, TicketOptions options) => Collect(
        string.IsNullOrWhiteSpace(options.NumberPrefix) || !options.NumberPrefix.All(char.IsAsciiLetterOrDigit)
            ? $"{TicketOptions.Section}:NumberPrefix: must be ASCII letters or digits, got '{options.NumberPrefix}'" : null,
        options.NumberStart is < 1 or > 999_999_999_999 ? $"{TicketOptions.Section}:NumberStart: must be between 1 and 999999999999" : null,
        TicketOptions.Languages.Contains(options.DefaultLanguage) ? null : $"{TicketOptions.Section}:DefaultLanguage: must be 'en' or 'ru'",
        options.Acknowledgement.Values.All(t => t.Contains("{number}", StringComparison.Ordinal)) ? null
            : $"{TicketOptions.Section}:Acknowledgement: every template must contain {{number}}",
        options.AcknowledgementsPerSender.Values.Any(v => v < 0) ? $"{TicketOptions.Section}:AcknowledgementsPerSender: must not be negative" : null,
        options.AcknowledgementWindow < TimeSpan.Zero ? $"{TicketOptions.Section}:AcknowledgementWindow: must not be negative" : null,
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
