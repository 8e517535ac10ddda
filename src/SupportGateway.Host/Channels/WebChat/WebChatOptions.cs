using Microsoft.Extensions.Options;

namespace SupportGateway.Host.Channels.WebChat;

public sealed class WebChatOptions
{
    public const string Section = "SupportGateway:Channels:WebChat";

    public bool Enabled { get; set; } = true;

    /// <summary>Sites allowed to embed the widget (CORS). Empty or "*" allows any: visitors authenticate with a header token, not cookies.</summary>
    public List<string> AllowedOrigins { get; set; } = [];

    public long MaxAttachmentBytes { get; set; } = 10 * 1024 * 1024;

    public int MaxAttachments { get; set; } = 5;

    public int MaxTextLength { get; set; } = 20_000;

    /// <summary>Language of the widget when the page does not say (<c>data-lang</c>) and the browser is neither ru nor en.</summary>
    public string DefaultLanguage { get; set; } = "en";

    public long MaxRequestBytes => MaxAttachmentBytes * MaxAttachments + 1024 * 1024;
}

internal sealed class WebChatOptionsValidator : IValidateOptions<WebChatOptions>
{
    public ValidateOptionsResult Validate(string? name, WebChatOptions o)
    {
        var failures = new List<string>();
        if (o.MaxAttachmentBytes is < 1 or > 100L * 1024 * 1024)
            failures.Add($"{WebChatOptions.Section}:MaxAttachmentBytes: must be between 1 and 104857600");
        if (o.MaxAttachments is < 0 or > 20)
            failures.Add($"{WebChatOptions.Section}:MaxAttachments: must be between 0 and 20");
        if (o.MaxTextLength is < 100 or > 1_000_000)
            failures.Add($"{WebChatOptions.Section}:MaxTextLength: must be between 100 and 1000000");
        if (o.DefaultLanguage is not ("en" or "ru"))
            failures.Add($"{WebChatOptions.Section}:DefaultLanguage: must be 'en' or 'ru'");
        foreach (var origin in o.AllowedOrigins.Where(x => x != "*" && !Uri.TryCreate(x, UriKind.Absolute, out _)))
            failures.Add($"{WebChatOptions.Section}:AllowedOrigins: '{origin}' is not an absolute origin such as https://example.com");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
