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

    /// <summary>Products told of agents' answers and status changes on their tickets (see <see cref="IntakeCallbackSender"/>).</summary>
    public List<IntakeCallback> Callbacks { get; set; } = [];
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
        for (var i = 0; i < o.Callbacks.Count; i++)
        {
            var callback = o.Callbacks[i];
            if (!Uri.TryCreate(callback.Url, UriKind.Absolute, out var url) || url.Scheme is not ("https" or "http"))
                failures.Add($"{IntakeOptions.Section}:Callbacks:{i}:Url: must be an absolute http(s) URL, got '{callback.Url}'");
            if (callback.Secret.Length < 32)
                failures.Add($"{IntakeOptions.Section}:Callbacks:{i}:Secret: must be at least 32 characters");
        }
        if (o.Callbacks.GroupBy(c => c.Url).Any(g => g.Count() > 1))
            failures.Add($"{IntakeOptions.Section}:Callbacks: a URL is listed twice");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
