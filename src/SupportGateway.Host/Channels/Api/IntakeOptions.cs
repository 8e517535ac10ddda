using Microsoft.Extensions.Options;

namespace SupportGateway.Host.Channels.Api;

public sealed class IntakeOptions
{
    public const string Section = "SupportGateway:Intake";

    /// <summary>Keys a product sends in <c>X-Api-Key</c>. The channel is off while the list is empty.</summary>
    public List<string> ApiKeys { get; set; } = [];

    public long MaxRequestBytes { get; set; } = 20 * 1024 * 1024;

    public long MaxAttachmentBytes { get; set; } = 10 * 1024 * 1024;

    public int MaxAttachments { get; set; } = 10;
}

internal sealed class IntakeOptionsValidator : IValidateOptions<IntakeOptions>
{
    public ValidateOptionsResult Validate(string? name, IntakeOptions o)
    {
        var failures = new List<string>();
        for (var i = 0; i < o.ApiKeys.Count; i++)
        {
            if (o.ApiKeys[i] is not { Length: >= 12 })
                failures.Add($"{IntakeOptions.Section}:ApiKeys:{i}: must be at least 12 characters");
        }
        if (o.MaxRequestBytes is < 1024 or > 1L << 31)
            failures.Add($"{IntakeOptions.Section}:MaxRequestBytes: must be between 1024 and 2147483648");
        if (o.MaxAttachmentBytes < 1 || o.MaxAttachmentBytes > o.MaxRequestBytes)
            failures.Add($"{IntakeOptions.Section}:MaxAttachmentBytes: must be positive and not above MaxRequestBytes");
        if (o.MaxAttachments is < 0 or > 100)
            failures.Add($"{IntakeOptions.Section}:MaxAttachments: must be between 0 and 100");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
