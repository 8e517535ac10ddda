namespace SupportGateway.Host.Channels.WhatsApp;

/// <summary>Twilio's side of the channel (to be built: webhook, normaliser, sender).</summary>
internal static class TwilioProvider
{
    public static IServiceCollection AddTwilioProvider(this IServiceCollection services) => services;

    public static IEndpointRouteBuilder MapTwilioWebhook(this IEndpointRouteBuilder app) => app;
}
