using Microsoft.Extensions.Options;
using SupportGateway.Core;
using SupportGateway.Host.Agents;
using SupportGateway.Host.Channels.Api;
using SupportGateway.Host.Channels.Email;
using SupportGateway.Host.Channels.Telegram;
using SupportGateway.Host.Channels.WebChat;
using SupportGateway.Host.Channels.WhatsApp;
using SupportGateway.Host.Health;
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
        services.AddHostedService<ChannelStartupReport>();
        return builder;
    }

    /// <summary>
    /// Run from the repository root, appsettings.json is in the working directory; run from
    /// elsewhere, the copy beside the binary is the base that the working directory's file and
    /// the environment override.
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
        var builder = WebApplication.CreateBuilder(args);
        UseSettingsBesideBinary(builder.Configuration);
        if (string.IsNullOrEmpty(builder.Configuration["urls"]))
            builder.WebHost.UseUrls(DefaultUrl);
        builder.AddGateway();
        builder.Services.AddProblemDetails();
        builder.Services.AddOpenApi(Http.ApiSecurity.Describe);
        builder.Services.ConfigureHttpJsonOptions(o => CoreJson.Configure(o.SerializerOptions));

        var app = builder.Build();
        // Validate before hosting starts, so a bad option is one plain line and not a logged stack trace.
        app.Services.GetRequiredService<IStartupValidator>().Validate();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseCors();
        app.MapOpenApi();
        app.MapHealth();
        app.MapAgentApi();
        app.MapSlaReports();
        app.MapIntakeEndpoints();
        app.MapTelegramWebhook();
        app.MapWhatsAppWebhooks();
        if (app.Services.GetRequiredService<IOptions<WebChatOptions>>().Value.Enabled)
            app.MapWebChatEndpoints();
        return app;
    }
}

/// <summary>Logs one line per channel at start (on, or off and why) and seeds <c>/healthz</c>.</summary>
internal sealed class ChannelStartupReport(IEnumerable<IChannelStatus> channels, ChannelHealth health, AgentDirectory agents,
    ILogger<ChannelStartupReport> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var channel in channels)
        {
            var (state, detail) = channel.Initial();
            health.Report(channel.Channel, state, detail);
            logger.LogInformation("Channel {Channel} is {State}: {Detail}", channel.Channel, state.ToString().ToLowerInvariant(), detail);
        }
        if (agents.All.Any(a => a.ApiKey.Contains("change-me", StringComparison.Ordinal)))
            logger.LogWarning("The demo agent key from appsettings.json is in use: replace {Section} before going live", AgentDirectory.Section);
        if (agents.All.Count == 0)
            logger.LogWarning("No agents are configured in {Section}; the agent API refuses every key", AgentDirectory.Section);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
