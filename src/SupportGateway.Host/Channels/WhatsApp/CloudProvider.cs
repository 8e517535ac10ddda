namespace SupportGateway.Host.Channels.WhatsApp;

/// <summary>The Cloud API's side of the channel (to be built: webhook, normaliser, typed client, sender).</summary>
internal static class CloudProvider
{
    public static IServiceCollection AddCloudProvider(this IServiceCollection services) => services;

    public static IEndpointRouteBuilder MapCloudWebhook(this IEndpointRouteBuilder app) => app;
}
