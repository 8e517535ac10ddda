using Microsoft.Extensions.Options;
using SupportGateway.Core.Outbox;
using SupportGateway.Core.Pipeline;
using SupportGateway.Host.Health;

namespace SupportGateway.Host.Channels.Email;

internal static class EmailChannel
{
    public static IHostApplicationBuilder AddEmailChannel(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<EmailOptions>().BindConfiguration(EmailOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<EmailOptions>, EmailOptionsValidator>();
        services.AddSingleton<IInboundNormalizer, EmailNormalizer>();
        services.AddSingleton<IOutboundSender, EmailSender>();
        services.AddSingleton<MailTokens>();
        services.AddSingleton<MailLogin>();
        services.AddSingleton<SmtpSessions>();
        services.AddSingleton<MailSubmission>();
        services.AddSingleton<AgentMailTokens>();
        services.AddSingleton<IAgentNotifier, AgentNotifier>();
        services.AddSingleton<IOutboundSender, AgentNotificationSender>();
        services.AddSingleton<IInboundFilter, AgentMailFilter>();
        services.AddSingleton<IChannelStatus, EmailStatus>();
        services.AddSingleton<ICustomerMail, CustomerMail>();
        services.AddHostedService<MailboxReader>();
        return builder;
    }

    /// <summary>Closure notices reach customers of other channels by mail, from the first mailbox.</summary>
    private sealed class CustomerMail(IOptions<EmailOptions> options) : ICustomerMail
    {
        public string Channel => EmailNormalizer.Channel;

        public bool Available => options.Value.Mailboxes.Count > 0;
    }

    private sealed class EmailStatus(IOptions<EmailOptions> options) : IChannelStatus
    {
        public string Channel => EmailNormalizer.Channel;

        public (ChannelState, string) Initial() => options.Value.Mailboxes.Count == 0
            ? (ChannelState.Off, $"no mailboxes in {EmailOptions.Section}:Mailboxes")
            : (ChannelState.Up, string.Join(", ", options.Value.Mailboxes.Select(m => $"{m.Name} <{m.Address}>")));
    }
}
