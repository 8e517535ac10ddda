using SupportGateway.Core.Outbox;
using SupportGateway.Core.Pipeline;
using SupportGateway.Core.Storage;

namespace SupportGateway.Host.Channels.WhatsApp;

/// <summary>
/// WhatsApp's customer-service window: free text reaches a customer only within 24 hours of their last message;
/// after that only an approved template does. The gateway decides from the messages it stored, so no free text is
/// attempted that the provider would refuse (and Twilio's 63016 or Meta's 131047 are the same case, arriving late).
/// </summary>
internal sealed class WhatsAppWindow(Database database, TimeProvider time)
{
    public static readonly TimeSpan Length = TimeSpan.FromHours(24);

    /// <summary>The purpose of the approved template sent instead of an answer held by the window.</summary>
    public const string Template = "window";

    /// <summary>How much of the answer the template carries (Meta's body parameters take at most 1,024; a preview is enough).</summary>
    public const int PreviewLength = 100;

    // Every WhatsApp identity of the customer's contact counts: one person, one window per number they write from.
    private const string LastInboundSql = """
        SELECT MAX(m.created_at) FROM messages m
        JOIN contact_identities ci ON ci.contact_id = m.contact_id
        WHERE ci.channel = 'whatsapp' AND ci.identity = @recipient AND m.channel = 'whatsapp' AND m.direction = 'in'
        """;

    // A group's window is the group's: any member writing opens it for the whole group (Meta's Groups API pricing).
    // Each member's tickets are in conversations "group:{id}:u{member}", a range of the conversation index.
    private const string LastInGroupSql = """
        SELECT MAX(m.created_at) FROM tickets t
        JOIN messages m ON m.ticket_id = t.id
        WHERE t.channel = 'whatsapp' AND t.conversation_key >= @from AND t.conversation_key < @to AND m.direction = 'in'
        """;

    public async Task<bool> IsOpenAsync(string recipient, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var db = new SqlScope(connection);
        var last = WhatsAppNumbers.GroupOf(recipient) is { } group
            ? await db.ScalarAsync<long?>(LastInGroupSql, new { from = WhatsAppNumbers.GroupConversation(group, ""), to = WhatsAppNumbers.GroupConversation(group, "") + '\uffff' },
                cancellationToken)
            : await db.ScalarAsync<long?>(LastInboundSql, new { recipient }, cancellationToken);
        return last is { } at && time.GetUtcNow() - DateTimeOffset.FromUnixTimeMilliseconds(at) < Length;
    }

    /// <summary>The start of an answer, on a word boundary where one is near, as the template's second parameter.</summary>
    public static string Preview(string text)
    {
        var flat = string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        if (flat.Length <= PreviewLength)
            return flat;
        var cut = flat.LastIndexOf(' ', PreviewLength - 1);
        return flat[..(cut > PreviewLength / 2 ? cut : PreviewLength - 1)] + "…";
    }

    public static string AgentsNote(string recipient, bool templateSent) =>
        $"The answer was not sent on WhatsApp to {recipient}: the customer's last message is more than 24 hours old, and WhatsApp then allows only " +
        (templateSent ? "an approved template. The template asking them to reply went out; " : "an approved template, and none is configured (Templates:window); ") +
        "the answer is held and goes out as soon as the customer writes again. Reach them another way if it is urgent.\n" +
        $"Ответ не отправлен в WhatsApp ({recipient}): клиент писал больше 24 часов назад, а тогда WhatsApp пропускает только одобренный шаблон. " +
        (templateSent ? "Шаблон с просьбой ответить отправлен; " : "Шаблон (Templates:window) не настроен; ") +
        "ответ ждёт и уйдёт, как только клиент напишет. Если срочно, свяжитесь с ним иначе.";
}

/// <summary>
/// A customer's message opens the window again: the answers held for them are made due in the same transaction as
/// the message, and the outbox is signalled after the commit (the processor signals for every message it handles).
/// </summary>
internal sealed class WhatsAppWindowFilter(OutboxStore outbox, TimeProvider time) : IInboundFilter
{
    // After the event filter (statuses and reactions are not the customer writing), before anything may drop the message.
    public int Order => 200;

    public async ValueTask RunAsync(InboundContext context, CancellationToken cancellationToken)
    {
        if (context.Message is not { Channel: WhatsAppChannel.Name, Sender.Identity: { Length: > 0 } identity } message)
            return;
        await outbox.ReleaseHeldAsync(context.Session, WhatsAppChannel.Name, identity, time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken);
        // A member writing in a group opens the group's window: what was held for the group goes too.
        if (WhatsAppNumbers.GroupOf(message.Hints.ReplyAddress) is not null)
            await outbox.ReleaseHeldAsync(context.Session, WhatsAppChannel.Name, message.Hints.ReplyAddress!, time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken);
    }
}

/// <summary>The provider refused free text because the window is closed (Twilio 63016, Meta 131047).</summary>
internal sealed class WhatsAppWindowClosedException(string message, Exception inner) : Exception(message, inner);
