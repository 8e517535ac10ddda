using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using SupportGateway.Core.Outbox;
using SupportGateway.Core.Sla;
using SupportGateway.Core.Tickets;
using SupportGateway.Host.Agents;

namespace SupportGateway.Host.Channels.Email;

/// <summary>
/// The reply token of a ticket: an HMAC of its number under <see cref="AgentNotificationOptions.Secret"/>, so only
/// this gateway can produce it. Notifications carry it where mail clients keep it when answering: in their
/// Message-ID (echoed in In-Reply-To/References) and in a plus-addressed Reply-To.
/// </summary>
internal sealed partial class AgentMailTokens(IOptions<EmailOptions> options)
{
    /// <summary>Bound to the ticket's creation time too, so a number reused after a reinstall gets a new token.</summary>
    public string Token(TicketRow ticket)
    {
        var key = Encoding.UTF8.GetBytes(options.Value.AgentNotifications.Secret ?? "");
        var mac = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"reply:{ticket.Number.ToUpperInvariant()}:{ticket.CreatedAt}"));
        return Convert.ToHexStringLower(mac)[..20];
    }

    /// <summary>The root every notification of a ticket references, so mail clients thread them together.</summary>
    public string ThreadId(TicketRow ticket, string domain) => $"{ticket.Number}.{Token(ticket)}@{domain}";

    public string MessageId(TicketRow ticket, string unique, string domain) => $"{ticket.Number}.{Token(ticket)}.{unique}@{domain}";

    public string ReplyAddress(TicketRow ticket, MailboxOptions mailbox)
    {
        var local = mailbox.Address[..mailbox.Address.IndexOf('@')];
        var plus = local.IndexOf('+');
        return $"{(plus < 0 ? local : local[..plus])}+{ticket.Number}.{Token(ticket)}@{mailbox.Domain}";
    }

    /// <summary>Every "number.token" pair found in Message-IDs and addresses; <see cref="IsValid"/> checks one against its ticket.</summary>
    public static IEnumerable<(string Number, string Token)> Candidates(IEnumerable<string> idsAndAddresses) =>
        idsAndAddresses.SelectMany(c => Tagged().Matches(c)).Select(m => (m.Groups["number"].Value.ToUpperInvariant(), m.Groups["token"].Value.ToLowerInvariant()));

    public bool IsValid(TicketRow ticket, string token) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Token(ticket)), Encoding.ASCII.GetBytes(token));

    [GeneratedRegex(@"(?<number>[A-Za-z0-9]+-\d+)\.(?<token>[0-9a-fA-F]{20})(?![0-9a-fA-F])")]
    private static partial Regex Tagged();
}

/// <summary>Agents hear of every new ticket and customer follow-up: the team address, and the assignee.</summary>
internal sealed class AgentNotifier(IOptions<EmailOptions> options, AgentDirectory agents) : IAgentNotifier
{
    public const string ChannelName = "agentmail";

    public string Channel => ChannelName;

    public IReadOnlyList<string> Recipients(TicketRow ticket)
    {
        var settings = options.Value;
        if (settings.Mailboxes.Count == 0)
            return [];
        var recipients = new List<string>();
        if (settings.AgentNotifications.To is { Length: > 0 } team)
            recipients.Add(team);
        if (settings.AgentNotifications.NotifyAssignee && agents.FindByEmail(ticket.Assignee) is { } assignee
            && !recipients.Contains(assignee.Email, StringComparer.OrdinalIgnoreCase))
            recipients.Add(assignee.Email);
        return recipients;
    }
}

/// <summary>
/// Sends agents' mail: a notification for a customer message (the text, the ticket's fields and the files), or,
/// for a system message, the explanation of why an agent's mail was not relayed.
/// </summary>
internal sealed class AgentNotificationSender(IOptionsMonitor<EmailOptions> options, AgentMailTokens tokens, MailSubmission submission,
    SlaCatalog sla, TimeProvider time) : IOutboundSender
{
    public string Channel => AgentNotifier.ChannelName;

    public int Concurrency => options.CurrentValue.AgentMailbox?.Smtp.Connections ?? 1;

    public async Task<DeliveryReceipt> SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        var mailbox = options.CurrentValue.AgentMailbox ?? throw new PermanentDeliveryException("no mailbox is configured for agent notifications");
        var ticket = message.Ticket;
        var messageId = tokens.MessageId(ticket, message.IdempotencyKey, mailbox.Domain);
        var notification = message.Message.AuthorKind == "customer";
        var subject = notification ? $"[{ticket.Number}] {ticket.Subject}"
            : $"[{ticket.Number}] {Details(message.Message).GetValueOrDefault(SlaEscalation.SubjectKey) ?? $"Not sent / не отправлено: {ticket.Subject}"}";
        var outgoing = MailSubmission.Create(mailbox, message.Recipient, subject, messageId,
            ("Auto-Submitted", "auto-generated"), ("X-Auto-Response-Suppress", "All"), ("X-SupportGateway-Ticket", ticket.Number));
        outgoing.ReplyTo.Add(new MimeKit.MailboxAddress(mailbox.DisplayName ?? "", tokens.ReplyAddress(ticket, mailbox)));
        outgoing.InReplyTo = tokens.ThreadId(ticket, mailbox.Domain);
        outgoing.References.Add(tokens.ThreadId(ticket, mailbox.Domain));
        outgoing.Body = await submission.BodyAsync(notification ? Notification(message, DueLine(ticket)) : message.Message.Text, html: null,
            notification ? message : null, cancellationToken);
        await submission.SubmitAsync(mailbox, outgoing, message.Recipient, cancellationToken);
        return new DeliveryReceipt(messageId);
    }

    /// <summary>The explanation for an agent's mail that named no ticket, so none could hold a queued one.</summary>
    public static Task ExplainAsync(MailSubmission submission, MailboxOptions mailbox, string agentEmail, string subject, string reason,
        CancellationToken cancellationToken)
    {
        var mail = MailSubmission.Create(mailbox, agentEmail, $"Not sent / не отправлено: {subject}", messageId: null,
            ("Auto-Submitted", "auto-replied"), ("X-Auto-Response-Suppress", "All"));
        mail.Body = new MimeKit.TextPart("plain")
        {
            Text = $"Your mail \"{subject}\" was not sent to any customer: {reason}.\r\n" +
                $"Ваше письмо «{subject}» не отправлено клиенту: ответ должен быть ответом на уведомление шлюза о заявке.\r\n",
        };
        return submission.SubmitAsync(mailbox, mail, agentEmail, cancellationToken);
    }

    /// <summary>What the agent reads: the customer's words first, then the ticket, then how to answer.</summary>
    private static string Notification(OutboundMessage message, string dueLine)
    {
        var ticket = message.Ticket;
        var text = new StringBuilder();
        text.Append(message.Message.Text.TrimEnd()).Append("\r\n\r\n");
        if (message.Message.Signature is { Length: > 0 } signature)
            text.Append(signature.TrimEnd()).Append("\r\n\r\n");
        text.Append("-- \r\n");
        text.Append($"{ticket.Number} · {ticket.Status} · {ticket.Priority} · {ticket.Type}\r\n");
        text.Append(dueLine).Append("\r\n");
        text.Append($"{message.Message.Author} via {ticket.Channel}{(ticket.Assignee is { } a ? $" · assigned to {a}" : "")}\r\n");
        text.Append("Reply to this mail to answer the customer. Commands on the first lines: #status, #resolve, #priority, #type, #assign, #internal.\r\n");
        text.Append("Ответьте на это письмо, чтобы ответить клиенту. Команды в первых строках: #статус, #решено, #приоритет, #тип, #назначить, #внутр.\r\n");
        return text.ToString();
    }

    /// <summary>The service level as the agent needs it: when the ticket is due and how much business time is left.</summary>
    private string DueLine(Core.Tickets.TicketRow ticket)
    {
        var policy = sla.Policy(ticket.SlaPolicy);
        if (ticket.SlaDueAt is not { } dueMs)
            return $"SLA {policy.Name}: paused, waiting for the customer / пауза, ждём клиента";
        var due = NodaTime.Instant.FromUnixTimeMilliseconds(dueMs);
        var now = NodaTime.Instant.FromDateTimeOffset(time.GetUtcNow());
        var left = due > now ? SlaEscalation.Left(policy.Calendar.BusinessTimeBetween(now, due)) : "0 min";
        return $"SLA {policy.Name}: due / срок {CalendarOptions.Format(due, policy.Calendar.Zone)} · left / осталось {left}{(due <= now ? " · BREACHED / НАРУШЕН" : "")}";
    }

    private static Dictionary<string, string> Details(Core.Tickets.MessageRow message) =>
        message.TechnicalDetails is { } json ? JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? [] : [];
}
