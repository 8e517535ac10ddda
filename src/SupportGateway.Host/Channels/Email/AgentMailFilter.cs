using SupportGateway.Core.Outbox;
using SupportGateway.Core.Pipeline;
using SupportGateway.Core.Tickets;
using SupportGateway.Host.Agents;

namespace SupportGateway.Host.Channels.Email;

/// <summary>
/// Mail from a configured agent is an answer, never a customer request. With a valid reply token it runs its
/// commands and goes to the customer on the ticket's own channel (or stays an internal note with #internal), in the
/// transaction that stores the mail. Without one, or with a command that fails, nothing reaches the customer: the
/// mail is recorded on the ticket as a flagged note and the agent is told why by mail.
/// </summary>
internal sealed class AgentMailFilter(
    Microsoft.Extensions.Options.IOptions<EmailOptions> options,
    AgentDirectory agents,
    AgentMailTokens tokens,
    TicketService service,
    TicketStore tickets,
    TicketNumberFormat numbers,
    MessageStore messages,
    OutboxStore outbox,
    MailSubmission submission,
    TimeProvider time,
    ILogger<AgentMailFilter> logger) : IInboundFilter
{
    public int Order => 300;


    public async ValueTask RunAsync(InboundContext context, CancellationToken cancellationToken)
    {
        var message = context.Message;
        if (message.Channel != EmailNormalizer.Channel || message.IsAutoSubmitted || message.IsBounce || agents.FindByEmail(message.Sender.Email) is not { } agent)
            return;

        string? number = null;
        foreach (var (candidate, token) in AgentMailTokens.Candidates(message.Hints.ReplyTo.Concat(message.Recipients)))
        {
            if (await service.FindAsync(context.Session, candidate, cancellationToken) is { } tagged && tokens.IsValid(tagged, token))
            {
                number = tagged.Number;
                break;
            }
        }
        if (number is null)
        {
            await RefuseAsync(context, agent, numbers.FindFirst(message.Subject) is { } seq ? numbers.Render(seq) : null,
                "it carries no valid reply token: answer a notification from the gateway (reply, not a new mail or a forward), so that its address or references come back",
                "в нём нет действительного ключа ответа: отвечайте на уведомление шлюза (ответом, а не новым письмом или пересылкой)", cancellationToken);
            return;
        }

        var commands = ReplyCommands.Parse(message.Text, agent.Email);
        if (commands.Errors.Count > 0)
        {
            await RefuseAsync(context, agent, number, string.Join("; ", commands.Errors), "неизвестная или неверная команда", cancellationToken);
            return;
        }
        if (commands.Changes.Assignee is { Length: > 0 } assignee && agents.FindByEmail(assignee) is null)
        {
            await RefuseAsync(context, agent, number, $"#assign: '{assignee}' is not a configured agent", "#assign: такого агента нет", cancellationToken);
            return;
        }
        var actor = $"agent:{agent.Email}";
        if (commands.HasChanges)
        {
            var changed = await service.UpdateAsync(context.Session, number, actor, commands.Changes, cancellationToken);
            if (changed.Status != CommandStatus.Ok)
            {
                await RefuseAsync(context, agent, number, changed.Error ?? changed.Status.ToString(), "команда не выполнена", cancellationToken);
                return;
            }
        }
        var ticket = await service.FindAsync(context.Session, number, cancellationToken);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var line in commands.Lines)
            await tickets.AuditAsync(context.Session, new AuditRow { TicketId = ticket!.Id, At = now, Actor = actor, Action = "mail_command", NewValue = line }, cancellationToken);
        if (commands.Text.Length > 0 || message.Attachments.Count > 0)
        {
            var reply = await service.ReplyAsync(context.Session, number, agent.Email, agent.Name, commands.Text, commands.Internal, message.Attachments, cancellationToken);
            if (reply.Status != CommandStatus.Ok)
                throw new InvalidOperationException($"the reply to {number} failed: {reply.Error}");
        }
        logger.LogInformation("Agent {Agent} answered {Ticket} by mail ({Commands} commands{Internal})", agent.Email, number, commands.Lines.Count,
            commands.Internal ? ", internal" : "");
        context.DroppedBecause = $"an agent's answer to {number}, handled";
    }

    /// <summary>Records the refused mail on the ticket (internal, flagged) and queues the explanation to the agent.</summary>
    private async Task RefuseAsync(InboundContext context, AgentOptions agent, string? number, string reason, string reasonRu, CancellationToken cancellationToken)
    {
        context.DroppedBecause = $"agent mail not relayed: {reason}";
        logger.LogWarning("Mail from agent {Agent} was not relayed to the customer: {Reason}", agent.Email, reason);
        if (number is null || await service.FindAsync(context.Session, number, cancellationToken) is not { } ticket)
        {
            // No ticket can hold a queued explanation: it is sent once the mail is committed.
            if (options.Value.AgentMailbox is { } mailbox)
            {
                var subject = context.Message.Subject ?? "";
                context.AfterCommit = ct => AgentNotificationSender.ExplainAsync(submission, mailbox, agent.Email, subject, reason, ct);
            }
            return;
        }
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var text = $"Your mail to {ticket.Number} was not sent to the customer: {reason}.\r\n" +
            $"Ваше письмо по {ticket.Number} не отправлено клиенту: {reasonRu}.\r\n\r\n" +
            $"Subject: {context.Message.Subject}\r\n\r\n{context.Message.Text}";
        var noteId = await messages.InsertAsync(context.Session, new MessageRow
        {
            TicketId = ticket.Id, Direction = "out", AuthorKind = "system", Author = "system", Channel = AgentNotifier.ChannelName,
            Text = text, Internal = true, InboundId = context.RawId, CreatedAt = now,
        }, cancellationToken);
        await tickets.AuditAsync(context.Session, new AuditRow
        {
            TicketId = ticket.Id, At = now, Actor = $"agent:{agent.Email}", Action = "agent_mail_refused", NewValue = reason,
        }, cancellationToken);
        await outbox.EnqueueAsync(context.Session, noteId, ticket.Id, AgentNotifier.ChannelName, ticket.Account, agent.Email, now, cancellationToken);
    }
}
