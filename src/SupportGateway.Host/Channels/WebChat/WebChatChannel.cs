using Microsoft.Extensions.Options;
using SupportGateway.Core.Outbox;
using SupportGateway.Host.Health;

namespace SupportGateway.Host.Channels.WebChat;

internal static class WebChatChannel
{
    public const string CorsPolicy = "webchat";

    public static IHostApplicationBuilder AddWebChatChannel(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<WebChatOptions>().BindConfiguration(WebChatOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<WebChatOptions>, WebChatOptionsValidator>();
        services.AddSingleton<WebChatHub>();
        services.AddSingleton<WebChatRelay>();
        services.AddSingleton<IOutboundSender, WebChatSender>();
        services.AddSingleton<IChannelStatus, WebChatStatus>();
        var origins = builder.Configuration.GetSection($"{WebChatOptions.Section}:AllowedOrigins").Get<string[]>() ?? [];
        services.AddCors(cors => cors.AddPolicy(CorsPolicy, policy =>
        {
            if (origins.Length == 0 || origins.Contains("*"))
                policy.AllowAnyOrigin();
            else
                policy.WithOrigins(origins);
            // The widget reads Retry-After of a 429 to say when to try again.
            policy.AllowAnyHeader().AllowAnyMethod().WithExposedHeaders("Retry-After");
        }));
        return builder;
    }

    private sealed class WebChatStatus(IOptions<WebChatOptions> options) : IChannelStatus
    {
        public string Channel => WebChatNormalizer.Channel;

        public (ChannelState, string) Initial() => options.Value.Enabled
            ? (ChannelState.Up, "widget at /webchat/widget.js")
            : (ChannelState.Off, $"{WebChatOptions.Section}:Enabled is false");
    }
}
