using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using SupportGateway.Core.Outbox;
using SupportGateway.Core.Pipeline;
using SupportGateway.Core.Storage;
using SupportGateway.Core.Tickets;
using SupportGateway.Host.Health;
using SupportGateway.Host.Http;
using Telegram.Bot;
using Telegram.Bot.Exceptions;
using Telegram.Bot.Requests;
using Telegram.Bot.Types;
using Telegram.Bot.Types.ReplyMarkups;

namespace SupportGateway.Host.Channels.Telegram;

/// <summary>
/// Gets updates in. Polling: getUpdates, each update stored and processed (committed) before the offset moves past
/// it, so a crash repeats updates and update_id dedupes them; nothing is confirmed to Telegram before it is safe.
/// Webhook: registers the webhook; <see cref="TelegramWebhook"/> takes the updates. Both register the commands.
/// Telegram.Bot's own polling receiver is not used: it confirms updates before they are stored.
/// </summary>
internal sealed class TelegramReceiver(IOptions<TelegramOptions> options, PacedBotClient bot, TelegramBotIdentity identity, InboundProcessor processor, ChannelHealth health,
    ExclusiveWork exclusive, TimeProvider time, ILogger<TelegramReceiver> logger) : BackgroundService
{
    /// <summary>getUpdates answers one caller per bot (a second one gets 409 Conflict): one instance polls at a time.</summary>
    public const string PollingWork = "telegram:polling";

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        options.Value is { Enabled: true, Mode: TelegramMode.Polling }
            ? exclusive.RunAsync(PollingWork, ReceiveAsync, stoppingToken,
                () => health.Report(TelegramNormalizer.Channel, ChannelState.Up, "polled by another instance"))
            : ReceiveAsync(stoppingToken);

    private async Task ReceiveAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.Enabled)
            return;
        var delay = TimeSpan.FromSeconds(1);
        var registered = false;
        int? offset = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!registered)
                {
                    await RegisterAsync(settings, stoppingToken);
                    registered = true;
                    health.Report(TelegramNormalizer.Channel, ChannelState.Up, settings.Mode == TelegramMode.Webhook ? $"webhook {settings.WebhookUrl}" : "polling");
                    if (settings.Mode == TelegramMode.Webhook)
                        return;
                }
                var updates = await bot.GetRawUpdatesAsync(new GetUpdatesRequest
                {
                    Offset = offset, Timeout = (int)settings.PollTimeout.TotalSeconds, AllowedUpdates = TelegramOptions.AllowedUpdates,
                }, stoppingToken);
                foreach (var update in updates)
                {
                    var id = update.GetProperty("update_id").GetInt32();
                    var result = await processor.IngestAsync(TelegramNormalizer.ToRaw(JsonSerializer.SerializeToUtf8Bytes(update), id), stoppingToken);
                    logger.LogDebug("Telegram update {UpdateId}: {Outcome} {Ticket}", id, result.Outcome, result.TicketNumber);
                    offset = id + 1;
                }
                if (delay > TimeSpan.FromSeconds(1))
                    health.Report(TelegramNormalizer.Channel, ChannelState.Up, "polling");
                delay = TimeSpan.FromSeconds(1);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                health.Report(TelegramNormalizer.Channel, ChannelState.Down, $"{ex.GetType().Name}: {ex.Message}; retrying in {delay.TotalSeconds:0} s");
                logger.LogWarning("Telegram: {Error}; retrying in {Delay}", ex.Message, delay);
                await Task.Delay(delay, time, stoppingToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromMinutes(1).Ticks));
            }
        }
    }

    private async Task RegisterAsync(TelegramOptions settings, CancellationToken cancellationToken)
    {
        await identity.LoadAsync(cancellationToken);
        BotCommand[] en = [new("new", "Start a new request"), new("status", "My open requests"), new("close", "Close the current request"),
            new("start", "How to write to support")];
        BotCommand[] ru = [new("new", "Новое обращение"), new("status", "Мои открытые обращения"), new("close", "Закрыть текущее обращение"),
            new("start", "Как написать в поддержку")];
        await bot.SetMyCommands(en, cancellationToken: cancellationToken);
        await bot.SetMyCommands(ru, languageCode: "ru", cancellationToken: cancellationToken);
        if (settings.Mode == TelegramMode.Webhook)
            await bot.SetWebhook(settings.WebhookUrl!, secretToken: settings.WebhookSecret, allowedUpdates: TelegramOptions.AllowedUpdates, cancellationToken: cancellationToken);
        else
            await bot.DeleteWebhook(cancellationToken: cancellationToken);
    }
}

/// <summary>
/// <c>POST /webhooks/telegram</c>: the secret is checked in constant time, the update is stored as received, and 200
/// goes back at once. Only its update_id is read here; the normaliser reads the stored body with Telegram.Bot's model.
/// </summary>
internal static class TelegramWebhook
{
    /// <summary>A Bot API Update (core.telegram.org/bots/api#update); only its update_id is read before it is stored.</summary>
    internal sealed record TelegramUpdate([property: System.Text.Json.Serialization.JsonPropertyName("update_id")] int UpdateId);

    private const string SecretHeader = "X-Telegram-Bot-Api-Secret-Token";

    public static IEndpointRouteBuilder MapTelegramWebhook(this IEndpointRouteBuilder app)
    {
        app.MapPost("/webhooks/telegram", async Task<IResult> (HttpContext http, IOptions<TelegramOptions> options, InboundProcessor processor, CancellationToken ct) =>
        {
            var settings = options.Value;
            if (!settings.Enabled || settings.Mode != TelegramMode.Webhook)
                return Problems.NotFound("The Telegram webhook is not enabled here.");
            if (!Secrets.FixedTimeEquals(http.Request.Headers[SecretHeader].ToString(), settings.WebhookSecret ?? ""))
                return Problems.Unauthorized($"Wrong or missing {SecretHeader}.");
            // The Bot API posts updates as application/json; anything else is not Telegram.
            if (!http.Request.HasJsonContentType())
                return Problems.UnsupportedType("application/json");
            // Updates are small; anything near a megabyte is not one.
            const int limit = 1 << 20;
            if (await RequestBody.ReadBytesAsync(http.Request, limit, ct) is not { } body)
                return Problems.TooLarge("A Telegram update is far smaller than this body.");
            int updateId;
            try
            {
                using var json = JsonDocument.Parse(body);
                // The Bot API's update_id is a 32-bit integer, as Telegram.Bot reads it.
                updateId = json.RootElement.GetProperty("update_id").GetInt32();
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                return Problems.BadRequest("The body is not a Telegram Update (no 32-bit update_id).", "update_id");
            }
            await processor.StoreAsync(TelegramNormalizer.ToRaw(body, updateId), ct);
            return TypedResults.Ok();
        }).WithTags("Webhooks").WithSummary("Telegram's updates in webhook mode, stored before 200")
            .Reads(Microsoft.OpenApi.ParameterLocation.Header, SecretHeader)
            .Accepts<TelegramUpdate>("application/json").Produces(StatusCodes.Status200OK).ProducesProblems(StatusCodes.Status400BadRequest,
                StatusCodes.Status401Unauthorized, StatusCodes.Status404NotFound, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType);
        return app;
    }
}

/// <summary>
/// Answers on Telegram: sendMessage to the ticket's chat (and forum topic), as a reply to the customer's last message;
/// files follow as sendPhoto or sendDocument; a resolution notice carries the "solved / not solved" buttons. A 403
/// (the user blocked the bot, or the account is gone) makes the contact unreachable; a 400 will not get better either.
/// Anything else (a 5xx or no answer after the client's retries) is left to the outbox to try again later.
/// </summary>
internal sealed class TelegramSender(PacedBotClient bot, OutboundFiles files) : IOutboundSender
{
    public string Channel => TelegramNormalizer.Channel;

    public async Task<DeliveryReceipt> SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        // "chat" or, for a forum topic, "chat:thread".
        var address = message.Recipient.Split(':');
        var chat = long.Parse(address[0], CultureInfo.InvariantCulture);
        int? thread = address is [_, var t] ? int.Parse(t, CultureInfo.InvariantCulture) : null;
        var replyTo = message.InReplyTo is { Channel: TelegramNormalizer.Channel, ExternalId: { } id } && id.Split(':') is [_, var messageId, ..]
            && int.TryParse(messageId, CultureInfo.InvariantCulture, out var to)
            ? Reply(to)
            : null;
        try
        {
            // Telegram takes 4,096 characters per message: a longer answer goes in parts, the buttons on the last. A
            // mail with only files attached has no text to send: the first file answers the customer instead.
            var parts = string.IsNullOrWhiteSpace(message.Message.Text) ? [] : TextParts.Split(message.Message.Text, MaxText);
            Message? first = null;
            for (var i = 0; i < parts.Count; i++)
            {
                var part = await bot.SendMessage(chat, parts[i], messageThreadId: thread, replyParameters: i == 0 ? replyTo : null,
                    replyMarkup: i == parts.Count - 1 ? Buttons(message) : null, cancellationToken: cancellationToken);
                first ??= part;
            }
            foreach (var (file, content) in await files.LoadAsync(message, cancellationToken))
            {
                var follows = first is null ? replyTo : Reply(first.MessageId);
                // Built for each attempt: a send reads the upload's stream to the end and disposes it.
                Message sent;
                if (TelegramMedia.IsPhoto(file.ContentType, content.LongLength))
                {
                    sent = await bot.SendAsync(() => new SendPhotoRequest
                    {
                        ChatId = chat, Photo = InputFile.FromStream(new MemoryStream(content), file.FileName), MessageThreadId = thread, ReplyParameters = follows,
                    }, cancellationToken);
                }
                else
                {
                    sent = await bot.SendAsync(() => new SendDocumentRequest
                    {
                        ChatId = chat, Document = InputFile.FromStream(new MemoryStream(content), file.FileName), MessageThreadId = thread, ReplyParameters = follows,
                    }, cancellationToken);
                }
                first ??= sent;
            }
            return new DeliveryReceipt(first is null ? null : $"{chat}:{first.MessageId}");
        }
        catch (ApiRequestException ex) when (ex.ErrorCode == 429)
        {
            throw new DeliveryThrottledException($"Telegram: {ex.Message}", TimeSpan.FromSeconds(ex.Parameters?.RetryAfter ?? 1), ex);
        }
        catch (ApiRequestException ex) when (ex.ErrorCode == 403)
        {
            throw new RecipientUnreachableException($"Telegram refused: {ex.Message}", ex);
        }
        catch (ApiRequestException ex) when (ex.ErrorCode == 400)
        {
            throw new PermanentDeliveryException($"Telegram refused: {ex.Message}", ex);
        }
    }

    /// <summary>As a reply to a message, sent even when that message is gone.</summary>
    public static ReplyParameters Reply(int messageId) => new() { MessageId = messageId, AllowSendingWithoutReply = true };

    public const int MaxText = 4096;

    /// <summary>The resolution notice asks with two buttons, in the ticket's language.</summary>
    private static InlineKeyboardMarkup? Buttons(OutboundMessage message)
    {
        if (message.Message.TechnicalDetails is not { } json
            || System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(json)?.GetValueOrDefault(TicketTransitions.PromptKey) != TicketTransitions.ResolutionPrompt)
            return null;
        var russian = message.Ticket.Language == "ru";
        return new InlineKeyboardMarkup([[
            InlineKeyboardButton.WithCallbackData(russian ? "Решено ✅" : "Solved ✅", TelegramNormalizer.VerdictData(CustomerVerdict.Confirms, message.Ticket.Number)),
            InlineKeyboardButton.WithCallbackData(russian ? "Не решено ❌" : "Not solved ❌", TelegramNormalizer.VerdictData(CustomerVerdict.Rejects, message.Ticket.Number)),
        ]]);
    }
}
