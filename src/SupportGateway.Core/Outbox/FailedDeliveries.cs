using System.Globalization;
using System.Net.Sockets;
using Polly.Timeout;
using SupportGateway.Core.Storage;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Core.Outbox;

/// <summary>
/// A delivery given up is never silent: the row keeps its last error and the time, the ticket gets an internal note
/// and an audit entry, and the agents are mailed (or, for a recipient who refused the channel, told that the contact is
/// unreachable). <c>outbox retry</c> queues it again.
/// </summary>
public sealed class FailedDeliveries(OutboxStore outbox, AgentNotice notice, Unreachability unreachability, TicketEvents events)
{
    public async Task GiveUpAsync(DbSession session, OutboxRow row, TicketRow? ticket, MessageRow? message, Exception error, string reason, long now,
        CancellationToken cancellationToken)
    {
        await outbox.MarkFailedAsync(session, row.Id, reason, now, cancellationToken);
        if (ticket is null)
            return;
        await events.RaiseAsync(session, ticket, TicketEvent.DeliveryFailed, row.MessageId, now, cancellationToken);
        if (error is RecipientUnreachableException
            && await unreachability.MarkAsync(session, ticket, row.Channel, row.Recipient, reason, now, cancellationToken))
            return;
        var how = error is PermanentDeliveryException ? "refused for good / отказ без повторов"
            : $"tried since / попытки с {Time(row.QueuedAt)}";
        var preview = message is null ? "" : $" «{Preview(message.Text)}»";
        var text = $"Not delivered on {row.Channel} to {row.Recipient}: message {row.MessageId}{preview} of {Time(message?.CreatedAt ?? row.CreatedAt)}. " +
            $"Last error: {reason} ({how}). Fix the cause, then `outbox retry {ticket.Number}` sends it again.\n" +
            $"Не доставлено через {row.Channel} ({row.Recipient}): сообщение {row.MessageId}. Ошибка: {reason}. " +
            $"Устраните причину и выполните `outbox retry {ticket.Number}`, чтобы отправить его снова.";
        await notice.PostAsync(session, ticket, new AgentNoticeText(row.Channel, text, "delivery_failed", row.Channel, row.Recipient), now, cancellationToken,
            quietChannel: row.Channel);
    }

    /// <summary>What went wrong in plain words: the provider's own refusal as it said it, or what failed on the way.</summary>
    public static string Describe(Exception error, TimeSpan sendTimeout)
    {
        if (error is TimeoutRejectedException or TimeoutException)
            return $"no answer within {sendTimeout.TotalSeconds.ToString("0", CultureInfo.InvariantCulture)} s";
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e is SocketException socket)
                return $"could not connect ({socket.Message})";
        }
        return error.Message;
    }

    private static string Time(long ms) =>
        DateTimeOffset.FromUnixTimeMilliseconds(ms).ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    private static string Preview(string text)
    {
        var line = string.Join(' ', text.Split((char[])['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries)).Trim();
        return line.Length <= 80 ? line : line[..79] + "…";
    }
}
