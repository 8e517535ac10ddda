using System.Net;
using Microsoft.Extensions.Options;

namespace SupportGateway.Host.Limits;

/// <summary>At most <see cref="Permits"/> requests in any <see cref="Window"/>.</summary>
public sealed class Rate
{
    public int Permits { get; set; }

    public TimeSpan Window { get; set; }

    public override string ToString() => $"{Permits} per {Window}";
}

/// <summary>
/// Abuse limits on the public endpoints (<c>SupportGateway:Limits</c>). The acknowledgement cap of every channel lives in
/// the same section (<c>Acknowledgements</c>) but belongs to the ticket core.
/// </summary>
public sealed class LimitsOptions
{
    public const string Section = "SupportGateway:Limits";

    /// <summary>
    /// Reverse proxies (addresses, or networks as <c>10.0.0.0/8</c>) whose <c>X-Forwarded-For</c> names the client.
    /// From any other peer the header is ignored and the socket's address counts.
    /// </summary>
    public List<string> TrustedProxies { get; set; } = [];

    public WebChatLimits WebChat { get; set; } = new();

    /// <summary>Per intake key; one key serves every user of a product's "Help" button, so this is a ceiling for a whole product.</summary>
    public Rate IntakePerKey { get; set; } = new() { Permits = 600, Window = TimeSpan.FromMinutes(1) };

    /// <summary>
    /// Per source address on the Telegram, Twilio and Cloud API webhooks (and the file links Twilio fetches). The providers
    /// deliver from pools of addresses in bursts (Telegram up to 100 connections at once, Meta's and Twilio's queues
    /// catching up after an outage), so this only stops one address that is plainly not a provider.
    /// </summary>
    public Rate WebhookPerSource { get; set; } = new() { Permits = 30_000, Window = TimeSpan.FromMinutes(1) };

    public sealed class WebChatLimits
    {
        public Rate NewRequestsPerVisitor { get; set; } = new() { Permits = 10, Window = TimeSpan.FromHours(1) };

        public Rate NewRequestsPerAddress { get; set; } = new() { Permits = 30, Window = TimeSpan.FromHours(1) };

        public Rate MessagesPerVisitor { get; set; } = new() { Permits = 20, Window = TimeSpan.FromMinutes(1) };

        /// <summary>Requests of one visitor not yet resolved or closed; a new one waits until one of them is.</summary>
        public int OpenRequestsPerVisitor { get; set; } = 10;
    }

    /// <summary>The trusted proxies parsed: single addresses and networks.</summary>
    public (List<IPAddress> Proxies, List<IPNetwork> Networks) ParseProxies()
    {
        var proxies = new List<IPAddress>();
        var networks = new List<IPNetwork>();
        foreach (var entry in TrustedProxies)
        {
            if (entry.Contains('/'))
                networks.Add(IPNetwork.Parse(entry));
            else
                proxies.Add(IPAddress.Parse(entry));
        }
        return (proxies, networks);
    }
}

internal sealed class LimitsOptionsValidator : IValidateOptions<LimitsOptions>
{
    public ValidateOptionsResult Validate(string? name, LimitsOptions o)
    {
        var failures = new List<string>();
        Check(failures, "WebChat:NewRequestsPerVisitor", o.WebChat.NewRequestsPerVisitor);
        Check(failures, "WebChat:NewRequestsPerAddress", o.WebChat.NewRequestsPerAddress);
        Check(failures, "WebChat:MessagesPerVisitor", o.WebChat.MessagesPerVisitor);
        Check(failures, "IntakePerKey", o.IntakePerKey);
        Check(failures, "WebhookPerSource", o.WebhookPerSource);
        if (o.WebChat.OpenRequestsPerVisitor < 1)
            failures.Add($"{LimitsOptions.Section}:WebChat:OpenRequestsPerVisitor: must be at least 1");
        for (var i = 0; i < o.TrustedProxies.Count; i++)
        {
            var entry = o.TrustedProxies[i];
            if (!(entry.Contains('/') ? IPNetwork.TryParse(entry, out _) : IPAddress.TryParse(entry, out _)))
                failures.Add($"{LimitsOptions.Section}:TrustedProxies:{i}: '{entry}' is neither an IP address nor a network such as 10.0.0.0/8");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Check(List<string> failures, string key, Rate rate)
    {
        if (rate.Permits < 1)
            failures.Add($"{LimitsOptions.Section}:{key}:Permits: must be at least 1");
        if (rate.Window < TimeSpan.FromSeconds(1) || rate.Window > TimeSpan.FromDays(1))
            failures.Add($"{LimitsOptions.Section}:{key}:Window: must be between 00:00:01 and 1.00:00:00");
    }
}
