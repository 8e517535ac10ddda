using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using SupportGateway.Core.Outbox;
using Telegram.Bot;
using Telegram.Bot.Types.Enums;
using SupportGateway.Core.Pipeline;
using SupportGateway.Host.Health;

namespace SupportGateway.Host.Channels.Telegram;

public enum TelegramMode { Polling, Webhook }

/// <summary><c>SupportGateway:Channels:Telegram</c>. The channel is on when <see cref="BotToken"/> is set.</summary>
public sealed class TelegramOptions
{
    public const string Section = "SupportGateway:Channels:Telegram";

    /// <summary>From @BotFather. It is in every Bot API URL, so it never appears in a log.</summary>
    public string? BotToken { get; set; }

    /// <summary>The Bot API server: Telegram's, a local Bot API server, or a test double (scheme, host and port; Telegram.Bot drops a path).</summary>
    public string ApiBaseUrl { get; set; } = "https://api.telegram.org";

    public TelegramMode Mode { get; set; } = TelegramMode.Polling;

    /// <summary>Webhook mode: the public HTTPS address of <c>/webhooks/telegram</c>, registered with setWebhook at start.</summary>
    public string? WebhookUrl { get; set; }

    /// <summary>Webhook mode: Telegram sends it in X-Telegram-Bot-Api-Secret-Token; anything else is refused.</summary>
    public string? WebhookSecret { get; set; }

    /// <summary>Polling: how long one getUpdates waits for news.</summary>
    public TimeSpan PollTimeout { get; set; } = TimeSpan.FromSeconds(25);

    /// <summary>Customer groups bound by configuration: each chat id to an organisation's account number. Agents may also bind with /bind.</summary>
    public List<TelegramGroupOptions> Groups { get; set; } = [];

    /// <summary>Telegram user ids of support staff: they may bind a group to an organisation with <c>/bind ACCOUNT</c>.</summary>
    public List<long> AgentUserIds { get; set; } = [];

    public bool Enabled => !string.IsNullOrWhiteSpace(BotToken);

    public static readonly UpdateType[] AllowedUpdates = [UpdateType.Message, UpdateType.EditedMessage, UpdateType.CallbackQuery];
}

public sealed class TelegramGroupOptions
{
    /// <summary>The group's chat id (negative; supergroups start with -100).</summary>
    public long ChatId { get; set; }

    /// <summary>The organisation's account number, as in <c>SupportGateway:Organisations</c>.</summary>
    public string Organisation { get; set; } = "";
}

internal sealed class TelegramOptionsValidator : IValidateOptions<TelegramOptions>
{
    public ValidateOptionsResult Validate(string? name, TelegramOptions options)
    {
        var failures = new List<string>();
        if (options.Enabled)
        {
            // The digits before the colon are the bot's id; the token itself is never repeated in a message.
            if (options.BotToken!.Split(':') is not [var id, { Length: > 0 }] || id.Length is 0 or > 16 || !long.TryParse(id, out _))
                failures.Add($"{TelegramOptions.Section}:BotToken: not a bot token from @BotFather (digits, a colon, then the secret)");
            if (!Uri.TryCreate(options.ApiBaseUrl, UriKind.Absolute, out var api) || api.Scheme is not ("http" or "https"))
                failures.Add($"{TelegramOptions.Section}:ApiBaseUrl: '{options.ApiBaseUrl}' is not an absolute http(s) URL");
            else if (api.AbsolutePath != "/" || api.Query.Length > 0)
                failures.Add($"{TelegramOptions.Section}:ApiBaseUrl: '{options.ApiBaseUrl}' has a path; Telegram.Bot takes scheme, host and port only");
            if (options.Mode == TelegramMode.Webhook && (options.WebhookSecret?.Length ?? 0) < 16)
                failures.Add($"{TelegramOptions.Section}:WebhookSecret: must be at least 16 characters in Webhook mode");
            if (options.Mode == TelegramMode.Webhook && !Uri.TryCreate(options.WebhookUrl, UriKind.Absolute, out _))
                failures.Add($"{TelegramOptions.Section}:WebhookUrl: the public https URL of /webhooks/telegram is required in Webhook mode");
            foreach (var group in options.Groups.Where(g => g.ChatId >= 0 || string.IsNullOrWhiteSpace(g.Organisation)))
                failures.Add($"{TelegramOptions.Section}:Groups: chat {group.ChatId} needs a negative ChatId and an Organisation");
            if (options.PollTimeout < TimeSpan.Zero || options.PollTimeout > TimeSpan.FromSeconds(50))
                failures.Add($"{TelegramOptions.Section}:PollTimeout: must be between 0 and 50 seconds");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

internal static class TelegramChannel
{
    private const string HttpClientName = "telegram";

    public static IHostApplicationBuilder AddTelegramChannel(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<TelegramOptions>().BindConfiguration(TelegramOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TelegramOptions>, TelegramOptionsValidator>();
        services.AddHttpClient(HttpClientName, http =>
            {
                // Each call has its own timeout (a long poll waits longer); nothing the Bot API sends exceeds a 20 MB file.
                http.Timeout = Timeout.InfiniteTimeSpan;
                http.MaxResponseContentBufferSize = PacedBotClient.MaxDownload + (1 << 20);
            })
            // The token is part of every Bot API URL: the factory's request logging would write it to the log.
            .RemoveAllLoggers();
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<TelegramOptions>>().Value;
            // Off, the channel still has a client (nothing calls it); Telegram.Bot wants a token of the right shape.
            var bot = new TelegramBotClientOptions(options.Enabled ? options.BotToken! : "0:off", options.ApiBaseUrl);
            return new PacedBotClient(bot, sp.GetRequiredService<IHttpClientFactory>().CreateClient(HttpClientName), sp.GetRequiredService<TimeProvider>());
        });
        services.AddSingleton<IInboundNormalizer, TelegramNormalizer>();
        services.AddSingleton<TelegramBotIdentity>();
        services.AddSingleton<TelegramMedia>();
        services.TryAddSingleton<ChatGroups>();
        services.AddSingleton<IInboundFilter, TelegramFilter>();
        services.AddSingleton<IOutboundSender, TelegramSender>();
        services.AddSingleton<IChannelStatus, TelegramStatus>();
        services.AddHostedService<TelegramReceiver>();
        return builder;
    }

    private sealed class TelegramStatus(IOptions<TelegramOptions> options) : IChannelStatus
    {
        public string Channel => TelegramNormalizer.Channel;

        public (ChannelState, string) Initial() => options.Value.Enabled
            ? (ChannelState.Up, $"{options.Value.Mode.ToString().ToLowerInvariant()} via {options.Value.ApiBaseUrl}")
            : (ChannelState.Off, $"no {TelegramOptions.Section}:BotToken");
    }
}
