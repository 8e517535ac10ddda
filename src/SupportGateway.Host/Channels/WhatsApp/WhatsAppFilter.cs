using SupportGateway.Core.Contacts;
using SupportGateway.Core.Pipeline;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Host.Channels.WhatsApp;

/// <summary>
/// A WhatsApp private chat's rules before the ticket core, for both providers. <c>/new</c>, "новая заявка" or "new
/// request" starts a new request: with text after it, that text opens it; alone, the chat lets go of its ticket, the
/// customer is asked to describe the problem (<see cref="NewRequestPrompt"/>, as on Telegram) and the next message opens one. A resolution button counts only from someone who takes part in the ticket it names. A
/// ticket number in the text, a reply to one of our messages and thanks after a resolution are the core's follow-up
/// rules (<see cref="Core.Pipeline.Filters.FollowUpFilter"/>), the same as on every channel.
/// </summary>
internal sealed class WhatsAppFilter(TicketStore tickets, TicketService service, ContactStore contacts, IEnumerable<IWhatsAppProvider> providers) : IInboundFilter
{
    private static readonly string[] NewRequest = ["/new", "новая заявка", "новое обращение", "new request"];

    public int Order => 250;

    public async ValueTask RunAsync(InboundContext context, CancellationToken cancellationToken)
    {
        var message = context.Message;
        if (message.Channel != WhatsAppChannel.Name)
            return;
        if (message.Verdict != CustomerVerdict.None)
        {
            if (!await TakesPartAsync(context, message.Hints.TicketNumber, cancellationToken))
                context.DroppedBecause = "a resolution button for a ticket the sender does not take part in";
            return;
        }
        if (StartsNew(message.Text) is not { } rest)
            return;
        if (rest.Length == 0 && message.Attachments.Count == 0)
        {
            // Nothing to open yet: the conversation forgets its ticket, so what the customer writes next is a new request;
            // the customer is asked for it.
            context.DroppedBecause = "a request to start a new ticket";
            var key = message.Hints.ConversationKey;
            var active = key is null ? null : await tickets.FindActiveInConversationAsync(context.Session, message.Channel, key, cancellationToken);
            if (key is not null)
                await tickets.DetachConversationAsync(context.Session, message.Channel, key, cancellationToken);
            var russian = CustomerLanguage.HasCyrillic(message.Text) ? true : active?.Language switch { "ru" => true, null => (bool?)null, _ => false };
            if (providers.FirstOrDefault(p => p.Enabled && p.Name == message.Account) is { } provider && message.Hints.ReplyAddress is { } to)
                context.AfterCommit = ct => provider.SendTextAsync(to, NewRequestPrompt.Text(russian), ct);
            return;
        }
        context.Message = message with { Text = rest, Hints = message.Hints with { StartNew = true } };
    }

    /// <summary>The text after the words that ask for a new request, or null when it does not start with them.</summary>
    internal static string? StartsNew(string text)
    {
        var trimmed = text.TrimStart();
        foreach (var words in NewRequest)
        {
            if (!trimmed.StartsWith(words, StringComparison.OrdinalIgnoreCase))
                continue;
            var rest = trimmed[words.Length..];
            // "/newest" or "new requests pile up" are not the command.
            if (rest.Length > 0 && char.IsLetterOrDigit(rest[0]))
                continue;
            return rest.TrimStart(' ', ':', '.', '!', '-', '—', ',', '\n', '\r', '\t').Trim();
        }
        return null;
    }

    private async Task<bool> TakesPartAsync(InboundContext context, string? number, CancellationToken cancellationToken) =>
        number is not null
        && await service.FindAsync(context.Session, number, cancellationToken) is { } ticket
        && await contacts.FindByIdentityAsync(context.Session, context.Message.Channel, context.Message.Sender.Identity, cancellationToken) is { } contact
        && await tickets.IsParticipantAsync(context.Session, ticket.Id, contact, cancellationToken);
}
