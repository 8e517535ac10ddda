using Microsoft.Extensions.Options;
using SupportGateway.Core.Outbox;
using SupportGateway.Core.Tickets;
using SupportGateway.Host.Health;

namespace SupportGateway.Host.Channels.Api;

internal static class IntakeChannel
{
    public static IHostApplicationBuilder AddIntakeChannel(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<IntakeOptions>().BindConfiguration(IntakeOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<IntakeOptions>, IntakeOptionsValidator>();
        // The product reads answers with GET: an answer to an API ticket is delivered once it is recorded.
        builder.Services.AddSingleton(new RecordedChannel(IntakeNormalizer.Channel));
        builder.Services.AddSingleton<IOutboundSender, IntakeCallbackSender>();
        builder.Services.AddSingleton<ITicketEventSubscriber, IntakeCallbackQueue>();
        builder.Services.AddHttpClient(IntakeCallbackSender.HttpClientName, http => http.Timeout = TimeSpan.FromSeconds(15));
        builder.Services.AddSingleton<IChannelStatus, IntakeStatus>();
        return builder;
    }

    private sealed class IntakeStatus(IOptions<IntakeOptions> options) : IChannelStatus
    {
        public string Channel => IntakeNormalizer.Channel;

        public (ChannelState, string) Initial() => options.Value.ApiKeys.Count == 0
            ? (ChannelState.Off, $"no keys in {IntakeOptions.Section}:ApiKeys")
            : (ChannelState.Up, $"{options.Value.ApiKeys.Count} key(s), POST /api/v1/requests");
    }
}
