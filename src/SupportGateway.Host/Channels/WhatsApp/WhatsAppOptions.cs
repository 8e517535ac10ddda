using Microsoft.Extensions.Options;

namespace SupportGateway.Host.Channels.WhatsApp;

/// <summary>
/// <c>SupportGateway:Channels:WhatsApp</c>: one channel, two providers (Twilio and Meta's Cloud API), either or both.
/// A customer is one identity whichever provider carried the message: their number in E.164.
/// </summary>
public sealed class WhatsAppOptions
{
    public const string Section = "SupportGateway:Channels:WhatsApp";

    public TwilioOptions Twilio { get; set; } = new();

    public CloudOptions Cloud { get; set; } = new();

    /// <summary>
    /// This gateway's public base URL (<c>https://support.example.com</c>), where Twilio fetches the files of agents'
    /// answers through signed links that expire (<c>/files/whatsapp/…</c>); required with Twilio.
    /// </summary>
    public string? PublicBaseUrl { get; set; }

    /// <summary>Customer groups bound by configuration (Cloud API groups): group id to an organisation's account number.</summary>
    public List<WhatsAppGroupOptions> Groups { get; set; } = [];

    /// <summary>Support staff's numbers (E.164): they may bind a group with <c>/bind ACCOUNT</c>.</summary>
    public List<string> AgentNumbers { get; set; } = [];

    public bool Enabled => Twilio.Enabled || Cloud.Enabled;
}

/// <summary>Twilio's WhatsApp: values from the Twilio console (Account Info, and the WhatsApp sender).</summary>
public sealed class TwilioOptions
{
    public string? AccountSid { get; set; }

    /// <summary>Signs Twilio's webhooks and authenticates our calls; never logged.</summary>
    public string? AuthToken { get; set; }

    /// <summary>The WhatsApp sender, <c>whatsapp:+…</c>.</summary>
    public string? From { get; set; }

    /// <summary>The public URL Twilio calls (<c>…/webhooks/whatsapp/twilio</c>): the signature covers it, and behind a proxy the request's own Host is not trusted.</summary>
    public string? WebhookUrl { get; set; }

    /// <summary>Where Twilio reports delivery (<c>…/webhooks/whatsapp/twilio/status</c>); none when empty.</summary>
    public string? StatusCallbackUrl { get; set; }

    public string ApiBaseUrl { get; set; } = "https://api.twilio.com";

    /// <summary>Approved content templates by purpose (<c>window</c>, <c>resolution</c>): their ContentSid.</summary>
    public Dictionary<string, string> Templates { get; set; } = [];

    public bool Enabled => !string.IsNullOrWhiteSpace(AccountSid);
}

/// <summary>Meta's WhatsApp Cloud API: values from the Meta app dashboard (WhatsApp → API setup, App settings → Basic).</summary>
public sealed class CloudOptions
{
    public string? PhoneNumberId { get; set; }

    /// <summary>A system user's permanent token; never logged.</summary>
    public string? AccessToken { get; set; }

    /// <summary>Signs every webhook POST (X-Hub-Signature-256); never logged.</summary>
    public string? AppSecret { get; set; }

    /// <summary>The token Meta echoes when the webhook is verified (GET with hub.verify_token).</summary>
    public string? VerifyToken { get; set; }

    public string ApiBaseUrl { get; set; } = "https://graph.facebook.com";

    public string ApiVersion { get; set; } = "v21.0";

    /// <summary>Approved message templates by purpose (<c>window</c>, <c>resolution</c>): their names.</summary>
    public Dictionary<string, string> Templates { get; set; } = [];

    /// <summary>
    /// How long <c>POST /api/v1/organisations/{account}/whatsapp-group</c> waits for Meta's webhook with the new
    /// group's id and invite link before it answers 202 (the group is bound when the webhook comes all the same).
    /// </summary>
    public TimeSpan GroupCreateWait { get; set; } = TimeSpan.FromSeconds(10);

    public bool Enabled => !string.IsNullOrWhiteSpace(PhoneNumberId);
}

public sealed class WhatsAppGroupOptions
{
    public string GroupId { get; set; } = "";

    /// <summary>The organisation's account number, as in <c>SupportGateway:Organisations</c>.</summary>
    public string Organisation { get; set; } = "";
}

internal sealed class WhatsAppOptionsValidator : IValidateOptions<WhatsAppOptions>
{
    public ValidateOptionsResult Validate(string? name, WhatsAppOptions options)
    {
        const string twilio = WhatsAppOptions.Section + ":Twilio";
        const string cloud = WhatsAppOptions.Section + ":Cloud";
        var failures = new List<string>();
        if (options.Twilio is { Enabled: true } t)
        {
            Require(failures, $"{twilio}:AuthToken", t.AuthToken);
            if (t.From is not { } from || !from.StartsWith("whatsapp:+", StringComparison.Ordinal))
                failures.Add($"{twilio}:From: must be the WhatsApp sender as whatsapp:+<number>");
            Absolute(failures, $"{twilio}:WebhookUrl", t.WebhookUrl, required: true);
            Absolute(failures, $"{twilio}:StatusCallbackUrl", t.StatusCallbackUrl, required: false);
            Absolute(failures, $"{twilio}:ApiBaseUrl", t.ApiBaseUrl, required: true);
        }
        if (options.Cloud is { Enabled: true } c)
        {
            Require(failures, $"{cloud}:AccessToken", c.AccessToken);
            Require(failures, $"{cloud}:AppSecret", c.AppSecret);
            if ((c.VerifyToken?.Length ?? 0) < 16)
                failures.Add($"{cloud}:VerifyToken: must be at least 16 characters");
            Absolute(failures, $"{cloud}:ApiBaseUrl", c.ApiBaseUrl, required: true);
            if (c.GroupCreateWait < TimeSpan.Zero || c.GroupCreateWait > TimeSpan.FromMinutes(1))
                failures.Add($"{cloud}:GroupCreateWait: must be between 0 and 1 minute");
        }
        // Twilio takes an agent's file only as a URL it fetches: the gateway must be reachable there (signed links, /files/whatsapp).
        if (options.Enabled)
            Absolute(failures, $"{WhatsAppOptions.Section}:PublicBaseUrl", options.PublicBaseUrl, required: options.Twilio.Enabled);
        foreach (var group in options.Groups.Where(g => string.IsNullOrWhiteSpace(g.GroupId) || string.IsNullOrWhiteSpace(g.Organisation)))
            failures.Add($"{WhatsAppOptions.Section}:Groups: group '{group.GroupId}' needs a GroupId and an Organisation");
        if (options.Groups.Count > 0 && !options.Cloud.Enabled)
            failures.Add($"{WhatsAppOptions.Section}:Groups: WhatsApp groups need the Cloud API ({cloud}:PhoneNumberId)");
        foreach (var number in options.AgentNumbers.Where(n => WhatsAppNumbers.ToE164(n) is null))
            failures.Add($"{WhatsAppOptions.Section}:AgentNumbers: '{number}' is not a phone number (E.164, +79161234567)");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Require(List<string> failures, string key, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
            failures.Add($"{key}: required when the provider is on");
    }

    private static void Absolute(List<string> failures, string key, string? value, bool required)
    {
        if (string.IsNullOrWhiteSpace(value) ? required : !Uri.TryCreate(value, UriKind.Absolute, out _))
            failures.Add($"{key}: '{value}' is not an absolute URL");
    }
}
