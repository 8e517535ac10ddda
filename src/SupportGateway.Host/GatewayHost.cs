using Microsoft.Extensions.Options;
using SupportGateway.Core;
using SupportGateway.Host.Agents;
using SupportGateway.Host.Channels.Api;
using SupportGateway.Host.Channels.Email;
using SupportGateway.Host.Channels.Telegram;
using SupportGateway.Host.Channels.WebChat;
using SupportGateway.Host.Channels.WhatsApp;
using SupportGateway.Host.Health;
using SupportGateway.Host.Http;
using SupportGateway.Host.Limits;
using SupportGateway.Host.Reports;

namespace SupportGateway.Host;

/// <summary>Composition of the gateway: the same services for the web host and for the CLI.</summary>
public static class GatewayHost
{
    public const string DefaultUrl = "http://localhost:5080";

    public static IHostApplicationBuilder AddGateway(this IHostApplicationBuilder builder)
    {
        builder.AddTicketCore();
        var services = builder.Services;
        services.AddOptions<List<AgentOptions>>().BindConfiguration(AgentDirectory.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<List<AgentOptions>>, AgentOptionsValidator>();
        services.AddSingleton<AgentDirectory>();
        services.AddSingleton<SlaView>();
        services.AddSingleton<ChannelHealth>();
        builder.AddWebChatChannel();
        builder.AddIntakeChannel();
        builder.AddEmailChannel();
        builder.AddTelegramChannel();
        builder.AddWhatsAppChannel();
        builder.AddAbuseLimits();
        builder.AddShutdownDrain();
        services.AddHostedService<ChannelStartupReport>();
        return builder;
    }

    /// <summary>
    /// appsettings.json beside the binary is the base; the working directory's file (the folder
    /// `dotnet run` or the service starts in) and the environment override it.
    /// </summary>
    public static void UseSettingsBesideBinary(IConfigurationManager configuration)
    {
        var besideBinary = new Microsoft.Extensions.Configuration.Json.JsonConfigurationSource
        {
            Path = Path.Combine(AppContext.BaseDirectory, "appsettings.json"), Optional = true, ReloadOnChange = false,
        };
        besideBinary.ResolveFileProvider();
        configuration.Sources.Insert(0, besideBinary);
    }

    public static WebApplication BuildWebApp(string[] args)
    {
        // Settings are read at start, not watched: the watcher covers the whole content root, the database's folder
        // (data/) with it, and would wake for every page the database writes.
        var builder = WebApplication.CreateBuilder([.. args, "--hostBuilder:reloadConfigOnChange=false"]);
        UseSettingsBesideBinary(builder.Configuration);
        if (string.IsNullOrEmpty(builder.Configuration["urls"]))
            builder.WebHost.UseUrls(DefaultUrl);
        builder.AddGateway();
        // Under systemd: READY=1 once started, STOPPING=1, and log lines with the journal's priority prefix; elsewhere nothing.
        builder.Services.AddSystemd();
        // Program reports a failed start itself (one line for a known cause, the exception otherwise); the host's own
        // copy of it ("Hosting failed to start", Error) would repeat it as a stack trace. A BackgroundService that
        // stops the host is still logged (Critical).
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        builder.Services.AddProblemDetails();
        builder.Services.AddOpenApi(Http.ApiDocument.Describe);
        builder.Services.ConfigureHttpJsonOptions(o => CoreJson.Configure(o.SerializerOptions));
        Http.RedactingLoggerProvider.WrapAll(builder.Services);

        var app = builder.Build();
        // Validate before hosting starts, so a bad option is one plain line and not a logged stack trace.
        app.Services.GetRequiredService<IStartupValidator>().Validate();
        app.UseConnectionCloseWhileStopping();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseCors();
        app.UseAbuseLimits();
        app.UseStorageRefusal();
        app.MapOpenApi();
        app.MapHealth();
        app.MapAgentApi();
        app.MapSlaReports();
        app.MapGroup("").RequireRateLimiting(AbuseLimits.Intake).MapIntakeEndpoints();
        var webhooks = app.MapGroup("").RequireRateLimiting(AbuseLimits.Webhooks);
        webhooks.MapTelegramWebhook();
        webhooks.MapWhatsAppWebhooks();
        if (app.Services.GetRequiredService<IOptions<WebChatOptions>>().Value.Enabled)
            app.MapWebChatEndpoints();
        return app;
    }
}

/// <summary>Logs one line per channel at start (on, or off and why) and seeds <c>/healthz</c>.</summary>
internal sealed class ChannelStartupReport(IEnumerable<IChannelStatus> channels, ChannelHealth health, AgentDirectory agents,
    IConfiguration configuration, ILogger<ChannelStartupReport> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var channel in channels)
        {
            var (state, detail) = channel.Initial();
            health.Report(channel.Channel, state, detail);
            logger.LogInformation("Channel {Channel} is {State}: {Detail}", channel.Channel, state.ToString().ToLowerInvariant(), detail);
        }
        // The demo keys (…change-me), the samples' REPLACE values and example.* hosts: named by key, never shown.
        foreach (var key in Cli.Placeholders.Find(configuration))
            logger.LogWarning("{Key} still holds a sample value: replace it before going live", key);
        if (agents.All.Count == 0)
            logger.LogWarning("No agents are configured in {Section}; the agent API refuses every key", AgentDirectory.Section);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
