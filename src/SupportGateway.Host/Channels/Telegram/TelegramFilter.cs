using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using SupportGateway.Core.Contacts;
using SupportGateway.Core.Pipeline;
using SupportGateway.Core.Tickets;
using Telegram.Bot;
using Telegram.Bot.Types.ReplyMarkups;

namespace SupportGateway.Host.Channels.Telegram;

/// <summary>The bot's own id (the number before the colon in its token) and its @username (from getMe, once).</summary>
internal sealed class TelegramBotIdentity(IOptions<TelegramOptions> options, PacedBotClient bot, TimeProvider time)
{
    private DateTimeOffset _lastTry;

    public long Id { get; } = long.TryParse((options.Value.BotToken ?? "").Split(':')[0], out var id) ? id : 0;

    /// <summary>"@name_bot" in lower case; null while getMe has not answered.</summary>
    public string? Username { get; private set; }

    /// <summary>Asks getMe unless known (at most once a minute while Telegram does not answer). Never called inside a transaction.</summary>
    public async ValueTask LoadAsync(CancellationToken cancellationToken)
    {
        if (Username is not null || time.GetUtcNow() - _lastTry < TimeSpan.FromMinutes(1))
            return;
        _lastTry = time.GetUtcNow();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            var me = await bot.GetMe(timeout.Token);
            Username = "@" + me.Username?.ToLowerInvariant();
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException("getMe did not answer within 5 s");
        }
    }
}

/// <summary>
/// What the bot decides before the ticket core: updates that are not messages and messages from bots are dropped;
/// in a group, only messages addressed to the bot count (a mention, a reply to the bot, a command, or anything in a
/// forum topic that already has a ticket), and only in groups bound to an organisation; the commands /start, /new,
/// /status, /close and /bind; the resolution buttons; files are fetched. Answers that belong to no ticket go right
/// after the commit.
/// </summary>
internal sealed class TelegramFilter(PacedBotClient bot, TelegramMedia media, TelegramBotIdentity identity, TicketStore tickets, ContactStore contacts,
    TicketService service, ChatGroups groups, IOptions<TelegramOptions> options) : IInboundFilter
{
    private static readonly GroupHowTo HowTo = new("Упомяните бота или ответьте на его сообщение, чтобы создать обращение.",
        "Mention the bot or reply to it to open a request.");

    public int Order => 250;

    public async ValueTask RunAsync(InboundContext context, CancellationToken cancellationToken)
    {
        var message = context.Message;
        if (message.Channel != TelegramNormalizer.Channel)
            return;
        var details = message.TechnicalDetails ?? new Dictionary<string, string>();
        var kind = details.GetValueOrDefault(TelegramNormalizer.Kind);
        if (kind is not ("message" or "edit" or "callback"))
        {
            context.DroppedBecause = "a Telegram update that is not a message";
            return;
        }
        if (message.IsAutoSubmitted)
        {
            context.DroppedBecause = "a message from a bot";
            return;
        }
        var reply = new Replier(bot, message);
        if (kind == "callback")
        {
            await CallbackAsync(context, details, reply, cancellationToken);
            return;
        }
        var command = details.GetValueOrDefault(TelegramNormalizer.Command);
        if (details.GetValueOrDefault(TelegramNormalizer.ChatType) != "private" && !await GroupAsync(context, details, command, reply, cancellationToken))
            return;

        if (command is not null && await CommandAsync(context, command, reply, cancellationToken))
            return;
        if (kind == "message" && details.TryGetValue(TelegramNormalizer.Files, out var files))
            await FetchFilesAsync(context, files, reply, cancellationToken);
    }

    /// <summary>The bot's commands; true when the message was one (it is consumed, and answered after the commit).</summary>
    private async Task<bool> CommandAsync(InboundContext context, string command, Replier reply, CancellationToken cancellationToken)
    {
        var message = context.Message;
        switch (command)
        {
            case "/new" when message.Text.Length > 0:
                return false; // "/new text" opens the new request at once
            case "/new":
                context.DroppedBecause = "/new";
                await tickets.DetachConversationAsync(context.Session, message.Channel, message.Hints.ConversationKey!, cancellationToken);
                context.AfterCommit = reply.Text(NewRequestPrompt.Text(reply.Russian));
                return true;
            case "/status":
                context.DroppedBecause = "/status";
                context.AfterCommit = reply.Text(await StatusAsync(context, reply.Russian, cancellationToken));
                return true;
            case "/close":
                context.DroppedBecause = "/close";
                context.AfterCommit = reply.Text(await CloseAsync(context, reply.Russian, cancellationToken));
                return true;
            default:
                // /start, /help and anything unknown get the greeting with the commands; none opens a ticket.
                context.DroppedBecause = command;
                context.AfterCommit = reply.Text(reply.Russian
                    ? "Здравствуйте! Это служба поддержки. Опишите проблему одним сообщением — мы зарегистрируем обращение и пришлём его номер.\n/new — новое обращение, /status — ваши обращения, /close — закрыть текущее."
                    : "Hello! This is customer support. Describe your problem in one message and we will register it and send you its number.\n/new starts a new request, /status lists yours, /close closes the current one.");
                return true;
        }
    }

    /// <summary>Group rules; false when the message is not for a ticket (the context says why).</summary>
    private async Task<bool> GroupAsync(InboundContext context, IReadOnlyDictionary<string, string> details, string? command, Replier reply,
        CancellationToken cancellationToken)
    {
        var message = context.Message;
        var chat = reply.Chat.ToString(CultureInfo.InvariantCulture);
        var username = identity.Username;
        var mentions = details.GetValueOrDefault(TelegramNormalizer.Mentions)?.Split(' ') ?? [];
        // Bot usernames end in "bot"; while getMe has not answered, a mention of any bot counts.
        var mentioned = mentions.Any(m => username is null ? m.EndsWith("bot", StringComparison.Ordinal) : m == username);
        var addressed = mentioned
            || details.GetValueOrDefault(TelegramNormalizer.RepliedTo) == identity.Id.ToString(CultureInfo.InvariantCulture)
            || (command is not null
                && (details.GetValueOrDefault(TelegramNormalizer.CommandTarget) is not { } target || username is null || target == username))
            || (details.ContainsKey(TelegramNormalizer.Thread)
                && await tickets.FindActiveInConversationAsync(context.Session, message.Channel, message.Hints.ConversationKey!, cancellationToken) is not null)
            || (details.GetValueOrDefault(TelegramNormalizer.Kind) == "edit"
                && await tickets.FindByMessageExternalIdAsync(context.Session, message.Channel, message.Hints.ReplyTo.Take(1).ToList(), cancellationToken) is not null);
        if (!addressed)
        {
            context.DroppedBecause = "a group message not addressed to the bot";
            return false;
        }
        if (command == ChatGroups.BindCommand)
        {
            context.DroppedBecause = "/bind";
            var byAgent = options.Value.AgentUserIds.Contains(long.Parse(message.Sender.Identity, CultureInfo.InvariantCulture));
            var (text, _) = await groups.BindCommandAsync(context.Session, TelegramNormalizer.Channel, chat, ChatGroups.BindTarget(message.Text) ?? "", byAgent,
                $"telegram:{message.Sender.Identity}", reply.Russian, HowTo, cancellationToken);
            context.AfterCommit = reply.Text(text);
            return false;
        }
        var organisation = await OrganisationOfAsync(context, reply.Chat, cancellationToken);
        if (organisation is null)
        {
            context.DroppedBecause = "a group not bound to an organisation";
            context.AfterCommit = reply.Text(ChatGroups.NotBound(reply.Russian));
            return false;
        }
        // Members of a bound group write for its organisation and may continue each other's tickets.
        context.DomainOrganisationId = organisation;
        if (mentioned)
            context.Message = message with { Text = WithoutMentions(message.Text, username) };
        return true;
    }

    private Task<long?> OrganisationOfAsync(InboundContext context, long chat, CancellationToken cancellationToken) =>
        groups.OrganisationOfAsync(context.Session, TelegramNormalizer.Channel, chat.ToString(CultureInfo.InvariantCulture),
            options.Value.Groups.FirstOrDefault(g => g.ChatId == chat)?.Organisation, cancellationToken);

    /// <summary>
    /// A resolution button: Telegram's spinner stops and the buttons come off; the verdict goes on to the ticket the
    /// button names, if the one who pressed it takes part in it (or is in the group bound to its organisation).
    /// </summary>
    private async Task CallbackAsync(InboundContext context, IReadOnlyDictionary<string, string> details, Replier reply, CancellationToken cancellationToken)
    {
        var message = context.Message;
        var callbackId = details[TelegramNormalizer.CallbackId];
        var prompt = details.GetValueOrDefault(TelegramNormalizer.CallbackMessage)?.Split(':');
        var counts = message.Verdict != CustomerVerdict.None && await MayAnswerAsync(context, reply, cancellationToken);
        if (!counts)
            context.DroppedBecause = "a button that is not ours, or for a ticket the user does not take part in";
        context.AfterCommit = async ct =>
        {
            await bot.AnswerCallbackQuery(callbackId, counts ? message.Text : null, cancellationToken: ct);
            if (counts && prompt is [var chat, var id])
            {
                await bot.EditMessageReplyMarkup(long.Parse(chat, CultureInfo.InvariantCulture), int.Parse(id, CultureInfo.InvariantCulture),
                    new InlineKeyboardMarkup(), cancellationToken: ct);
            }
        };
    }

    private async Task<bool> MayAnswerAsync(InboundContext context, Replier reply, CancellationToken cancellationToken)
    {
        var message = context.Message;
        if (await service.FindAsync(context.Session, message.Hints.TicketNumber!, cancellationToken) is not { } ticket)
            return false;
        if (reply.Chat < 0 && await OrganisationOfAsync(context, reply.Chat, cancellationToken) is { } organisation)
        {
            context.DomainOrganisationId = organisation;
            if (ticket.OrganisationId == organisation)
                return true;
        }
        return await contacts.FindByIdentityAsync(context.Session, message.Channel, message.Sender.Identity, cancellationToken) is { } contact
            && await tickets.IsParticipantAsync(context.Session, ticket.Id, contact, cancellationToken);
    }

    private async Task<string> StatusAsync(InboundContext context, bool russian, CancellationToken cancellationToken)
    {
        var message = context.Message;
        var contact = await contacts.FindByIdentityAsync(context.Session, message.Channel, message.Sender.Identity, cancellationToken);
        var open = contact is { } id
            ? (await tickets.ListForContactAsync(context.Session, id, 50, cancellationToken)).Where(t => t.StatusValue != TicketStatus.Closed).Take(10).ToList()
            : [];
        if (open.Count == 0)
            return russian ? "Открытых обращений нет. Опишите проблему, чтобы создать новое." : "You have no open requests. Describe a problem to open one.";
        var text = new StringBuilder(russian ? "Ваши открытые обращения:\n" : "Your open requests:\n");
        foreach (var ticket in open)
            text.Append($"{ticket.Number} — {ticket.Subject} — {StatusName(ticket.StatusValue, russian)}\n");
        return text.ToString().TrimEnd();
    }

    private async Task<string> CloseAsync(InboundContext context, bool russian, CancellationToken cancellationToken)
    {
        var message = context.Message;
        var contact = await contacts.FindByIdentityAsync(context.Session, message.Channel, message.Sender.Identity, cancellationToken);
        var active = await tickets.FindActiveInConversationAsync(context.Session, message.Channel, message.Hints.ConversationKey!, cancellationToken);
        if (active is null || contact is not { } id
            || !(await tickets.IsParticipantAsync(context.Session, active.Id, id, cancellationToken)
                 || (context.DomainOrganisationId is { } organisation && active.OrganisationId == organisation)))
            return russian ? "Здесь нет открытого обращения, которое можно закрыть." : "There is no open request here to close.";
        var result = await service.UpdateAsync(context.Session, active.Number, $"customer:{id}", new TicketChanges(Status: TicketStatus.Closed), cancellationToken);
        return result.Status != CommandStatus.Ok ? result.Error!
            : russian ? $"Обращение {active.Number} закрыто. Если проблема вернётся, просто напишите." : $"Request {active.Number} is closed. If the problem comes back, just write.";
    }

    private async Task FetchFilesAsync(InboundContext context, string files, Replier reply, CancellationToken cancellationToken)
    {
        var refs = JsonSerializer.Deserialize<List<TelegramFileRef>>(files) ?? [];
        var (attachments, notes, tooBig) = await media.DownloadAsync(refs, cancellationToken);
        var message = context.Message;
        var kept = message.TechnicalDetails!.Where(d => d.Key != TelegramNormalizer.Files || notes.Count > 0).ToDictionary();
        context.Message = message with
        {
            Attachments = [.. message.Attachments, .. attachments],
            Text = notes.Count == 0 ? message.Text : $"{message.Text}\n{string.Join('\n', notes)}".Trim(),
            TechnicalDetails = kept,
        };
        if (tooBig.Count > 0)
        {
            var names = string.Join(", ", tooBig);
            context.AfterCommit = reply.Text(reply.Russian
                ? $"Файл {names} больше 20 МБ — Telegram не даёт боту его получить. Пришлите его, пожалуйста, ссылкой или по электронной почте."
                : $"The file {names} is over 20 MB, which Telegram does not let a bot receive. Please send it as a link or by e-mail.");
        }
    }

    private static string WithoutMentions(string text, string? username)
    {
        var words = text.Split(' ');
        return string.Join(' ', words.Where(w => !(w.StartsWith('@') && (username is null ? w.EndsWith("bot", StringComparison.OrdinalIgnoreCase)
            : w.Equals(username, StringComparison.OrdinalIgnoreCase))))).Trim();
    }

    private static string StatusName(TicketStatus status, bool russian) => (status, russian) switch
    {
        (TicketStatus.New, true) => "зарегистрировано",
        (TicketStatus.InProgress, true) => "в работе",
        (TicketStatus.Clarification, true) => "ждёт вашего ответа",
        (TicketStatus.Resolved, true) => "решено, ждёт подтверждения",
        (TicketStatus.New, false) => "registered",
        (TicketStatus.InProgress, false) => "in progress",
        (TicketStatus.Clarification, false) => "waiting for your answer",
        (TicketStatus.Resolved, false) => "solved, waiting for your confirmation",
        _ => WireName.Of(status),
    };

    /// <summary>Answers into the chat (and forum topic) the message came from, as a reply to it.</summary>
    private sealed class Replier(PacedBotClient bot, InboundMessage message)
    {
        public bool Russian { get; } = ChatGroups.Russian(message);

        public long Chat { get; } = long.Parse((message.Hints.ReplyAddress ?? message.Sender.Identity).Split(':')[0], CultureInfo.InvariantCulture);

        private int? ThreadId => message.Hints.ReplyAddress?.Split(':') is [_, var thread] ? int.Parse(thread, CultureInfo.InvariantCulture) : null;

        private int? MessageId => message.TechnicalDetails?.GetValueOrDefault(TelegramNormalizer.MessageId) is { } id ? int.Parse(id, CultureInfo.InvariantCulture) : null;

        public Func<CancellationToken, Task> Text(string text) => ct => bot.SendMessage(Chat, text, messageThreadId: ThreadId,
            replyParameters: MessageId is { } id && Chat < 0 ? TelegramSender.Reply(id) : null, cancellationToken: ct);
    }
}
