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

    Task<DeliveryReceipt> SendAsync(OutboundMessage message, CancellationToken cancellationToken);
}

/// <summary>Sends on the provider the customer wrote through (the ticket's account), else the first one that is on.</summary>
internal sealed class WhatsAppSender(IEnumerable<IWhatsAppProvider> providers) : IOutboundSender
{
    private readonly IWhatsAppProvider[] _providers = [.. providers];

    public string Channel => WhatsAppChannel.Name;

    public Task<DeliveryReceipt> SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        var provider = _providers.FirstOrDefault(p => p.Enabled && p.Name == message.Account) ?? _providers.FirstOrDefault(p => p.Enabled)
            ?? throw new PermanentDeliveryException("no WhatsApp provider is configured");
        return provider.SendAsync(message, cancellationToken);
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
