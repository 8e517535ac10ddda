using SupportGateway.Core.Contacts;
using SupportGateway.Core.Pipeline;
using SupportGateway.Core.Storage;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Host.Channels;

/// <summary>How a channel tells a newly bound group to open a request, in both languages.</summary>
internal sealed record GroupHowTo(string Russian, string English);

/// <summary>
/// Customer groups on the chat channels (a Telegram group, a WhatsApp Cloud API group), the part both share. A group
/// is bound to an organisation by configuration or by a support agent writing <c>/bind ACCOUNT</c> in it
/// (<c>conversation_bindings</c>); its members then write for that organisation and may continue each other's tickets,
/// as colleagues from a configured mail domain may, while each member's problem is a ticket of their own. The channel
/// decides who is an agent, which messages count and how a reply reaches the group; the command, the binding and the
/// replies in Russian and English are here. (No method is called BindAsync: minimal APIs would take the class for a
/// parameter that binds itself.)
/// </summary>
internal sealed class ChatGroups(ContactStore contacts, TimeProvider time)
{
    public const string BindCommand = "/bind";

    /// <summary>The notice an unbound group gets (once, where every message in it reaches us).</summary>
    public const string UnboundNotice = "unbound";

    /// <summary>
    /// The account named after <c>/bind</c> ("" when none is), or null when the text is not the command.
    /// <c>/bind@support_bot ACME-1</c>, Telegram's form of a command addressed to one bot, counts too.
    /// </summary>
    public static string? BindTarget(string text)
    {
        var trimmed = text.TrimStart();
        if (!trimmed.StartsWith(BindCommand, StringComparison.OrdinalIgnoreCase))
            return null;
        var rest = trimmed[BindCommand.Length..];
        if (rest.StartsWith('@'))
            rest = rest.IndexOfAny([' ', '\n', '\t']) is var end and >= 0 ? rest[end..] : "";
        else if (rest.Length > 0 && !char.IsWhiteSpace(rest[0]))
            return null; // "/binder" is not the command
        return rest.Trim();
    }

    /// <summary>Russian when the channel says so, or when it says nothing and the text is Cyrillic.</summary>
    public static bool Russian(InboundMessage message) => message.Language is { } language
        ? language.StartsWith("ru", StringComparison.OrdinalIgnoreCase)
        : CustomerLanguage.HasCyrillic(message.Text);

    /// <summary>The organisation a group writes for: the configured account first, else a binding made with /bind or the API.</summary>
    public async Task<long?> OrganisationOfAsync(SqlScope db, string channel, string conversation, string? configuredAccount,
        CancellationToken cancellationToken) =>
        configuredAccount is { Length: > 0 } account
            ? await contacts.OrganisationByAccountAsync(db, account, time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken)
            : await contacts.BoundOrganisationAsync(db, channel, conversation, cancellationToken);

    /// <summary>
    /// <c>/bind ACCOUNT</c> in a group: only support staff may; the organisation is the one with that account number
    /// (created when new, as an e-mail domain's would be). The reply for the group, and the organisation when bound.
    /// </summary>
    public async Task<(string Reply, long? OrganisationId)> BindCommandAsync(SqlScope db, string channel, string conversation, string account, bool byAgent,
        string boundBy, bool russian, GroupHowTo howTo, CancellationToken cancellationToken)
    {
        if (!byAgent)
            return (russian ? "Подключать группы может только сотрудник поддержки." : "Only support staff can connect a group.", null);
        if (account.Length is 0 or > 64)
            return (russian ? "Укажите номер договора: /bind НОМЕР" : "Name the account: /bind ACCOUNT_NUMBER", null);
        var organisation = await BindGroupAsync(db, channel, conversation, account, boundBy, cancellationToken);
        return (russian ? $"Группа подключена к поддержке ({account}). {howTo.Russian}" : $"This group is now connected to support ({account}). {howTo.English}",
            organisation);
    }

    /// <summary>Binds the group to the organisation with this account number, whoever asked (an agent's /bind, the agent API).</summary>
    public async Task<long> BindGroupAsync(SqlScope db, string channel, string conversation, string account, string boundBy, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var organisation = await contacts.OrganisationByAccountAsync(db, account, now, cancellationToken);
        await BindGroupAsync(db, channel, conversation, organisation, boundBy, cancellationToken);
        return organisation;
    }

    public async Task BindGroupAsync(SqlScope db, string channel, string conversation, long organisationId, string boundBy, CancellationToken cancellationToken)
    {
        await contacts.BindConversationAsync(db, channel, conversation, organisationId, boundBy, time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken);
        await contacts.ForgetNoticesAsync(db, channel, conversation, cancellationToken);
    }

    /// <summary>The group is gone (deleted, ended): its binding ends, and a group of that id would be told again how to bind.</summary>
    public async Task UnbindGroupAsync(SqlScope db, string channel, string conversation, CancellationToken cancellationToken)
    {
        await contacts.UnbindConversationAsync(db, channel, conversation, cancellationToken);
        await contacts.ForgetNoticesAsync(db, channel, conversation, cancellationToken);
    }

    /// <summary>True the first time an unbound group writes: it is told how to bind once, not at every message.</summary>
    public Task<bool> FirstUnboundMessageAsync(SqlScope db, string channel, string conversation, CancellationToken cancellationToken) =>
        contacts.NoticeOnceAsync(db, channel, conversation, UnboundNotice, time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken);

    public static string NotBound(bool russian) => russian
        ? "Эта группа ещё не подключена к поддержке. Попросите сотрудника поддержки подключить её командой /bind НОМЕР_ДОГОВОРА."
        : "This group is not connected to support yet. Ask your support team to connect it with /bind ACCOUNT_NUMBER.";
}
