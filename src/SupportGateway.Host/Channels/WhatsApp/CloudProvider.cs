using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using SupportGateway.Core.Pipeline;

namespace SupportGateway.Host.Channels.WhatsApp;

/// <summary>
/// The Cloud API's side of the channel: the webhook (<see cref="CloudWebhook"/>), the normaliser with its media
/// prefetch, the filter for statuses and reactions, customer groups (their messages, their webhooks, the agent API that
/// creates them), our typed Graph API client and the sender.
/// </summary>
internal static class CloudProvider
{
    public static IServiceCollection AddCloudProvider(this IServiceCollection services)
    {
        services.AddSingleton(sp =>
        {
            var cloud = sp.GetRequiredService<IOptions<WhatsAppOptions>>().Value.Cloud;
            return new CloudApiClient(cloud.ApiBaseUrl, cloud.ApiVersion, cloud.AccessToken ?? "", sp.GetRequiredService<TimeProvider>());
        });
        services.AddSingleton<CloudMedia>();
        services.AddSingleton<IFileSource>(sp => sp.GetRequiredService<CloudMedia>());
        services.AddSingleton<IInboundNormalizer, CloudNormalizer>();
        services.AddSingleton<CloudEventStore>();
        services.AddSingleton<IInboundFilter, CloudEventFilter>();
        services.AddSingleton<WhatsAppGroupStore>();
        services.TryAddSingleton<ChatGroups>();
        services.AddSingleton<IInboundFilter, CloudGroupEventFilter>();
        services.AddSingleton<IInboundFilter, WhatsAppGroupFilter>();
        services.AddSingleton<IWhatsAppProvider, CloudSender>();
        return services;
    }

    public static IEndpointRouteBuilder MapCloudWebhook(this IEndpointRouteBuilder app) => app.MapCloudEndpoints().MapWhatsAppGroupApi();
}
