using Microsoft.Extensions.Options;
using SupportGateway.Core.Outbox;
using SupportGateway.Host.Health;

namespace SupportGateway.Host.Channels.WhatsApp;

/// <summary>A WhatsApp provider: it receives webhooks on its own endpoint and sends what the outbox gives it.</summary>
internal interface IWhatsAppProvider
{
    /// <summary><c>twilio</c> or <c>cloud</c>: the account of the tickets it carried, so answers go back the same way.</summary>
    string Name { get; }

    bool Enabled { get; }

    /// <summary>Throws <see cref="WhatsAppWindowClosedException"/> when the provider says the 24-hour window is closed.</summary>
    Task<DeliveryReceipt> SendAsync(OutboundMessage message, CancellationToken cancellationToken);

    /// <summary>A short text outside any ticket (the answer to a bare <c>/new</c>), right after the customer wrote.</summary>
    Task SendTextAsync(string recipient, string text, CancellationToken cancellationToken);

    /// <summary>Sends the approved <c>window</c> template (the ticket number and the answer's start) instead; false when none is configured.</summary>
    Task<bool> SendWindowTemplateAsync(OutboundMessage message, CancellationToken cancellationToken);
}

/// <summary>
/// Sends on the provider the customer wrote through (the ticket's account), else the first one that is on. Outside
/// the 24-hour window, known from our messages or learnt from the provider's refusal, the answer is held: the
/// template asks the customer to write, and their next message releases it (<see cref="WhatsAppWindowFilter"/>).
/// </summary>
internal sealed class WhatsAppSender(IEnumerable<IWhatsAppProvider> providers, WhatsAppWindow window) : IOutboundSender
{
    private readonly IWhatsAppProvider[] _providers = [.. providers];

    public string Channel => WhatsAppChannel.Name;

    public async Task<DeliveryReceipt> SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        var provider = _providers.FirstOrDefault(p => p.Enabled && p.Name == message.Account) ?? _providers.FirstOrDefault(p => p.Enabled)
            ?? throw new PermanentDeliveryException("no WhatsApp provider is configured");
        // Only the Cloud API has groups; a group's window is the whole group's (any member writing opens it).
        if (WhatsAppNumbers.GroupOf(message.Recipient) is not null && provider.Name != CloudNormalizer.Account)
            throw new PermanentDeliveryException($"WhatsApp groups are reached through the Cloud API only, and it is not on for {message.Recipient}");
        if (!await window.IsOpenAsync(message.Recipient, cancellationToken))
            throw await HoldAsync(provider, message, "more than 24 hours since the customer's last WhatsApp message", cancellationToken);
        try
        {
            return await provider.SendAsync(message, cancellationToken);
        }
        catch (WhatsAppWindowClosedException ex)
        {
            throw await HoldAsync(provider, message, ex.Message, cancellationToken);
        }
    }

    private static async Task<DeliveryHeldException> HoldAsync(IWhatsAppProvider provider, OutboundMessage message, string reason,
        CancellationToken cancellationToken)
    {
        var sent = await provider.SendWindowTemplateAsync(message, cancellationToken);
        return new DeliveryHeldException($"Held until the customer writes: {reason}; {(sent ? "window template sent" : "no window template configured")}",
            WhatsAppWindow.AgentsNote(message.Recipient, sent));
    }
}

internal static class WhatsAppChannel
{
    public const string Name = "whatsapp";

    public static IHostApplicationBuilder AddWhatsAppChannel(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<WhatsAppOptions>().BindConfiguration(WhatsAppOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<WhatsAppOptions>, WhatsAppOptionsValidator>();
        services.AddSingleton<IOutboundSender, WhatsAppSender>();
        services.AddSingleton<SupportGateway.Core.Pipeline.IInboundFilter, WhatsAppFilter>();
        services.AddSingleton<WhatsAppWindow>();
        services.AddSingleton<SupportGateway.Core.Pipeline.IInboundFilter, WhatsAppWindowFilter>();
        services.AddSingleton<IChannelStatus, WhatsAppStatus>();
        services.AddTwilioProvider();
        services.AddCloudProvider();
        return builder;
    }

    public static IEndpointRouteBuilder MapWhatsAppWebhooks(this IEndpointRouteBuilder app)
    {
        app.MapTwilioWebhook();
        app.MapCloudWebhook();
        return app;
    }

    private sealed class WhatsAppStatus(IOptions<WhatsAppOptions> options) : IChannelStatus
    {
        public string Channel => Name;

        public (ChannelState, string) Initial()
        {
            var on = new[] { options.Value.Twilio.Enabled ? "twilio" : null, options.Value.Cloud.Enabled ? "cloud api" : null }.OfType<string>().ToList();
            return on.Count > 0 ? (ChannelState.Up, string.Join(" and ", on))
                : (ChannelState.Off, $"no {WhatsAppOptions.Section}:Twilio:AccountSid or :Cloud:PhoneNumberId");
        }
    }
}
