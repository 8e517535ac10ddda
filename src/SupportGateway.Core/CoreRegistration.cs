using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using SupportGateway.Core.Attachments;
using SupportGateway.Core.Contacts;
using SupportGateway.Core.Outbox;
using SupportGateway.Core.Pipeline;
using SupportGateway.Core.Pipeline.Filters;
using SupportGateway.Core.Sla;
using SupportGateway.Core.Storage;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Core;

public static class CoreRegistration
{
    /// <summary>The ticket core: storage, the inbound pipeline, agent operations and the outbox dispatcher.</summary>
    public static IHostApplicationBuilder AddTicketCore(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.Section).ValidateOnStart();
        services.AddOptions<TicketOptions>().BindConfiguration(TicketOptions.Section).ValidateOnStart();
        services.AddOptions<OutboxOptions>().BindConfiguration(OutboxOptions.Section).ValidateOnStart();
        services.AddOptions<AcknowledgementLimitOptions>().BindConfiguration(AcknowledgementLimitOptions.Section).ValidateOnStart();
        services.AddOptions<FileRetryOptions>().BindConfiguration(FileRetryOptions.Section)
            .Validate(o => o.MaxAttempts > 0 && o.FirstRetryDelay > TimeSpan.Zero && o.PollInterval > TimeSpan.Zero,
                $"{FileRetryOptions.Section}: MaxAttempts, FirstRetryDelay and PollInterval must be positive").ValidateOnStart();
        services.AddOptions<PendingInboundOptions>().BindConfiguration(PendingInboundOptions.Section)
            .Validate(o => o.PendingPollInterval > TimeSpan.Zero, $"{PendingInboundOptions.Section}:PendingPollInterval: must be positive").ValidateOnStart();
        services.AddOptions<List<OrganisationOptions>>().BindConfiguration(OrganisationOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<StorageOptions>, CoreOptionsValidator>();
        services.AddSingleton<IValidateOptions<TicketOptions>, CoreOptionsValidator>();
        services.AddSingleton<IValidateOptions<OutboxOptions>, CoreOptionsValidator>();
        services.AddSingleton<IValidateOptions<AcknowledgementLimitOptions>, CoreOptionsValidator>();
        services.AddOptions<AttachmentOptions>().BindConfiguration(AttachmentOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AttachmentOptions>, AttachmentOptionsValidator>();
        services.AddSingleton<AttachmentPolicy>();
        services.AddOptions<SlaOptions>().BindConfiguration(SlaOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SlaOptions>, SlaOptionsValidator>();

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new Database(sp.GetRequiredService<IOptions<StorageOptions>>().Value));
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<TicketOptions>>().Value.CreateNumberFormat());
        services.AddSingleton<StorageAvailability>();
        services.AddSingleton<Migrator>();
        services.AddSingleton<ExclusiveWork>();
        services.AddSingleton<TicketStore>();
        services.AddSingleton<MessageStore>();
        services.AddSingleton<ContactStore>();
        services.AddSingleton<InboundStore>();
        services.AddSingleton<CommitCheck>();
        services.AddSingleton<OutboxStore>();
        services.AddSingleton<AgentNotice>();
        services.AddSingleton<Unreachability>();
        services.AddSingleton<FailedDeliveries>();
        services.AddSingleton<OutboundFiles>();
        services.AddSingleton<FileRetryStore>();
        services.AddSingleton<InstanceSignals>();
        services.AddSingleton<OutboxSignal>();
        services.AddSingleton<InboundSignal>();
        services.AddSingleton(sp => new SlaCatalog(sp.GetRequiredService<IOptions<SlaOptions>>().Value,
            sp.GetRequiredService<IOptions<List<OrganisationOptions>>>().Value, []));
        services.AddSingleton<SlaSignal>();
        services.AddSingleton<SlaTracker>();
        services.AddSingleton<SlaReport>();
        services.AddSingleton<TicketEvents>();
        services.AddSingleton<TicketTransitions>();
        services.AddSingleton<SlaEscalation>();
        services.AddSingleton<TicketWriter>();
        services.AddSingleton<TicketService>();
        services.AddSingleton<InboundProcessor>();
        services.AddSingleton<IInboundNormalizer, InboundJsonNormalizer>();
        services.AddSingleton<IInboundFilter, DuplicateFilter>();
        services.AddSingleton<IInboundFilter, AutomaticMailFilter>();
        services.AddSingleton<IInboundFilter, SenderFilter>();
        services.AddSingleton<IInboundFilter, FollowUpFilter>();
        services.AddSingleton<IInboundFilter, RoutingFilter>();
        // Registration order is start order: the schema first, then the senders.
        services.AddHostedService<DatabaseMigration>();
        services.AddHostedService(sp => sp.GetRequiredService<InstanceSignals>());
        services.AddHostedService<OutboxDispatcher>();
        services.AddHostedService<PendingInboundWorker>();
        services.AddHostedService<FileRetryWorker>();
        services.AddHostedService<SlaScheduler>();
        services.AddHostedService<SqliteCheckpointer>();
        services.AddHostedService<StorageProbe>();
        return builder;
    }
}
