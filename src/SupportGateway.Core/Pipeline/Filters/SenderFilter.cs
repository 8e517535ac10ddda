using SupportGateway.Core.Contacts;

namespace SupportGateway.Core.Pipeline.Filters;

/// <summary>
/// Finds the contact behind the channel identity, creating it on first contact. Identities are
/// never merged on a self-declared email: a web chat visitor who types someone's address must not
/// see that person's tickets.
/// </summary>
public sealed class SenderFilter(ContactStore contacts, Microsoft.Extensions.Options.IOptions<List<OrganisationOptions>> organisations, TimeProvider time)
    : IInboundFilter
{
    public int Order => 400;

    public async ValueTask RunAsync(InboundContext context, CancellationToken cancellationToken)
    {
        if (context.Automatic is not null)
            return;
        var message = context.Message;
        var sender = message.Sender;
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        // The channel's account number (a mailbox's organisation, the product's user) first, else the sender's mail domain.
        var account = sender.AccountNumber is { Length: > 0 } declared ? declared.Trim()
            : OrganisationOptions.ByEmail(organisations.Value, sender.Email)?.AccountNumber;
        // A channel filter that knows the organisation for certain (a bound Telegram group) has set it already.
        long? organisationId = context.DomainOrganisationId ?? (account is { Length: > 0 }
            ? await contacts.OrganisationByAccountAsync(context.Session, account, now, cancellationToken)
            : null);
        context.DomainOrganisationId ??= sender.AccountNumber is not { Length: > 0 } ? organisationId : null;

        var copied = new List<long>();
        foreach (var identity in message.CopiedTo.Where(i => !string.Equals(i, sender.Identity, StringComparison.OrdinalIgnoreCase)).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            copied.Add((await contacts.FindContactByIdentityAsync(context.Session, message.Channel, identity, cancellationToken))?.Id
                ?? await contacts.CreateWithIdentityAsync(context.Session, message.Channel, identity,
                    new ContactRow { Email = identity.Contains('@') ? identity : null, CreatedAt = now }, cancellationToken));
        }
        context.CopiedContactIds = copied;

        var existing = await contacts.FindContactByIdentityAsync(context.Session, message.Channel, sender.Identity, cancellationToken);
        if (existing is null)
        {
            context.ContactId = await contacts.CreateWithIdentityAsync(context.Session, message.Channel, sender.Identity, new ContactRow
            {
                Name = sender.Name, Email = sender.Email, Phone = sender.Phone, OrganisationId = organisationId, CreatedAt = now,
            }, cancellationToken);
            context.OrganisationId = organisationId;
            context.ContactName = sender.Name;
            return;
        }

        context.ContactId = existing.Id;
        context.ContactName = sender.Name ?? existing.Name;
        if (existing.UnreachableAt is not null)
            await contacts.MarkReachableAsync(context.Session, message.Channel, sender.Identity, cancellationToken);
        context.OrganisationId = existing.OrganisationId ?? organisationId;
        if (Fills(existing.Name, sender.Name) || Fills(existing.Email, sender.Email) || Fills(existing.Phone, sender.Phone)
            || (existing.OrganisationId is null && organisationId is not null))
        {
            await contacts.EnrichAsync(context.Session, existing.Id, sender.Name, sender.Email, sender.Phone, organisationId, cancellationToken);
        }
    }

    private static bool Fills(string? known, string? told) => known is null && told is not null;
}
