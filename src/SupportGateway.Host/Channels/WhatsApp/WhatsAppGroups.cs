using System.Text.Json;
using Microsoft.Extensions.Options;
using SupportGateway.Core.Pipeline;
using SupportGateway.Core.Storage;

namespace SupportGateway.Host.Channels.WhatsApp;

/// <summary>
/// A message in a Cloud API group (it carries <c>group_id</c>; the sender is the member who wrote). Only a group
/// bound to an organisation, by <c>Groups</c> in the configuration or by <c>/bind ACCOUNT</c> from one of the
/// <c>AgentNumbers</c>, reaches the ticket core: its members then write for that organisation and may continue each
/// other's tickets, and each member's problem is their own ticket (the normaliser gave each member a conversation of
/// their own in the group, and answers go to the group). Every message in a group reaches us, addressed or not, so an
/// unbound group is told how to bind once, not at every message; and support staff talking in a customer's group
/// open no tickets. Replies that belong to no ticket go to the group right after the commit.
/// </summary>
internal sealed class WhatsAppGroupFilter(ChatGroups groups, WhatsAppGroupStore store, CloudApiClient api, IOptions<WhatsAppOptions> options)
    : IInboundFilter
{
    private static readonly GroupHowTo HowTo = new("Опишите здесь свою проблему — у каждого участника будет своё обращение.",
        "Describe your problem here; each member gets a request of their own.");

    // After the Twilio file fetch (240), before the private-chat rules (250), which then work on the member's own conversation.
    public int Order => 245;

    public async ValueTask RunAsync(InboundContext context, CancellationToken cancellationToken)
    {
        var message = context.Message;
        if (message is not { Channel: WhatsAppChannel.Name, Account: CloudNormalizer.Account }
            || message.TechnicalDetails?.GetValueOrDefault(CloudNormalizer.GroupId) is not { } group)
            return;
        var settings = options.Value;
        var byAgent = settings.AgentNumbers.Any(n => WhatsAppNumbers.ToE164(n) is { } agent && agent == message.Sender.Identity);
        var russian = ChatGroups.Russian(message);
        if (ChatGroups.BindTarget(message.Text) is { } account)
        {
            context.DroppedBecause = "/bind";
            var (reply, organisation) = await groups.BindCommandAsync(context.Session, WhatsAppChannel.Name, group, account, byAgent,
                $"whatsapp:{message.Sender.Identity}", russian, HowTo, cancellationToken);
            if (organisation is { } bound)
                await store.SetOrganisationAsync(context.Session, group, bound, cancellationToken);
            context.AfterCommit = Reply(group, message.ExternalId, reply);
            return;
        }
        var configured = settings.Groups.FirstOrDefault(g => g.GroupId == group)?.Organisation;
        if (await groups.OrganisationOfAsync(context.Session, WhatsAppChannel.Name, group, configured, cancellationToken) is not { } organisationId)
        {
            context.DroppedBecause = "a message in a WhatsApp group not bound to an organisation";
            if (await groups.FirstUnboundMessageAsync(context.Session, WhatsAppChannel.Name, group, cancellationToken))
                context.AfterCommit = Reply(group, message.ExternalId, ChatGroups.NotBound(russian));
            return;
        }
        if (byAgent)
        {
            context.DroppedBecause = "a support agent's message in a customer's WhatsApp group";
            return;
        }
        context.DomainOrganisationId = organisationId;
    }

    /// <summary>A text to the group, quoting the message it answers. Groups take text and media only, never buttons.</summary>
    private Func<CancellationToken, Task> Reply(string group, string answers, string text) => async ct =>
    {
        var quoted = answers.StartsWith("wa:wamid.", StringComparison.Ordinal) ? new CloudContext(answers[3..]) : null;
        await api.SendAsync(new SendMessage(options.Value.Cloud.PhoneNumberId!, WhatsAppNumbers.GroupAddress(group), "text")
        {
            Text = new CloudText(text), Context = quoted,
        }, ct);
    };
}

/// <summary>
/// The Groups API's webhooks, stored first and processed here like every delivery: a group Meta created is given its
/// id and invite link and is bound to the organisation it was asked for (by <see cref="WhatsAppGroupEndpoints"/>);
/// a deleted group is unbound; participants joining and leaving are kept (<c>whatsapp_group_members</c>); every event
/// is recorded as it came (<c>whatsapp_group_events</c>). None opens a ticket or makes a contact.
/// </summary>
internal sealed class CloudGroupEventFilter(WhatsAppGroupStore store, ChatGroups groups, TimeProvider time, ILogger<CloudGroupEventFilter> logger)
    : IInboundFilter
{
    // Before the other Cloud events (150) and long before the sender is identified.
    public int Order => 140;

    public async ValueTask RunAsync(InboundContext context, CancellationToken cancellationToken)
    {
        if (context.Message is not { Channel: WhatsAppChannel.Name, Account: CloudNormalizer.Account, TechnicalDetails: { } details }
            || details.GetValueOrDefault(CloudNormalizer.Kind) != "group_event")
            return;
        var field = details[CloudNormalizer.GroupField];
        var change = JsonSerializer.Deserialize<CloudGroupEvent>(details[CloudNormalizer.GroupEvent])!;
        var type = change.Type ?? "unknown";
        context.DroppedBecause = $"a WhatsApp group event ({type})";
        var (db, now) = ((SqlScope)context.Session, time.GetUtcNow().ToUnixTimeMilliseconds());
        var error = change.Errors is { Count: > 0 } errors ? string.Join("; ", errors) : null;
        var group = change.GroupId is { Length: > 0 } id ? id : null;
        Task Record(string? participant, string? detail) => store.RecordAsync(db, group, change.RequestId, field, type, participant, detail, now, cancellationToken);

        switch (type)
        {
            case "group_create" when error is null && group is not null:
                var created = await store.CreatedAsync(db, change.RequestId, group, change.Subject, change.InviteLink, now, cancellationToken);
                // Asked for by the agent API, and the request known: bound now (else when the endpoint records the request).
                if (created.OrganisationId is { } organisation)
                    await groups.BindGroupAsync(db, WhatsAppChannel.Name, group, organisation, created.RequestedBy ?? "api", cancellationToken);
                await Record(null, change.InviteLink);
                return;
            case "group_create":
                if (change.RequestId is { } request)
                    await store.FailedAsync(db, request, error ?? "no group id in the webhook", now, cancellationToken);
                logger.LogWarning("WhatsApp could not create group {RequestId}: {Error}", change.RequestId, error);
                await Record(null, error);
                return;
            case "group_delete" when error is null && group is not null:
                await store.SetStateAsync(db, group, WhatsAppGroupStore.Deleted, now, cancellationToken);
                await groups.UnbindGroupAsync(db, WhatsAppChannel.Name, group, cancellationToken);
                await Record(null, null);
                return;
            case "group_participants_add" when group is not null:
                foreach (var number in (change.Added ?? []).Select(p => p.Number).OfType<string>())
                {
                    var count = await store.JoinAsync(db, group, number, now, cancellationToken);
                    await Record(number, count > CreateGroup.MaxParticipants
                        ? $"{change.Reason}; {count} participants, over WhatsApp's {CreateGroup.MaxParticipants}"
                        : change.Reason);
                }
                return;
            case "group_participants_remove" when group is not null:
                foreach (var number in (change.Removed ?? []).Select(p => p.Number).OfType<string>())
                {
                    await store.LeaveAsync(db, group, number, now, cancellationToken);
                    await Record(number, change.InitiatedBy == "participant" ? "left" : $"removed by {change.InitiatedBy ?? "the business"}");
                }
                foreach (var failed in change.Failed ?? [])
                    await Record(failed.Number, error ?? "not removed");
                return;
            case "group_join_request_created" when group is not null:
                var members = (await store.MembersAsync(db, group, cancellationToken)).Count;
                await Record(WhatsAppNumbers.ToE164(change.WaId) ?? change.WaId,
                    members >= CreateGroup.MaxParticipants ? $"join request {change.JoinRequestId}; the group is full ({members})" : $"join request {change.JoinRequestId}");
                return;
            case "group_suspend" when group is not null:
                await store.SetStateAsync(db, group, WhatsAppGroupStore.Suspended, now, cancellationToken);
                await Record(null, null);
                return;
            case "group_suspend_cleared" when group is not null:
                await store.SetStateAsync(db, group, WhatsAppGroupStore.Active, now, cancellationToken);
                await Record(null, null);
                return;
            default:
                await Record(WhatsAppNumbers.ToE164(change.WaId) ?? change.WaId, error);
                return;
        }
    }
}

/// <summary>A group the gateway asked Meta for, or learnt of from a webhook.</summary>
internal sealed record WhatsAppGroupRow
{
    public long Id { get; init; }
    public string? RequestId { get; init; }
    public string? GroupId { get; init; }
    public long? OrganisationId { get; init; }
    public string? Subject { get; init; }
    public string? InviteLink { get; init; }
    public string State { get; init; } = "";
    public string? Error { get; init; }
    public string? RequestedBy { get; init; }
    public long CreatedAt { get; init; }
    public long UpdatedAt { get; init; }
}

/// <summary><c>whatsapp_groups</c>, their members and their events.</summary>
internal sealed class WhatsAppGroupStore
{
    public const string Requested = "requested";
    public const string Active = "active";
    public const string Failed = "failed";
    public const string Deleted = "deleted";
    public const string Suspended = "suspended";

    private const string Columns = "id, request_id, group_id, organisation_id, subject, invite_link, state, error, requested_by, created_at, updated_at";

    /// <summary>The agent API asked for a group: the request is kept with its organisation, whether or not Meta's webhook came first.</summary>
    public async Task<WhatsAppGroupRow> RequestedAsync(SqlScope db, string requestId, long organisationId, string subject, string requestedBy, long now,
        CancellationToken cancellationToken) =>
        await db.SingleOrDefaultAsync<WhatsAppGroupRow>($"""
            INSERT INTO whatsapp_groups (request_id, organisation_id, subject, state, requested_by, created_at, updated_at)
            VALUES (@requestId, @organisationId, @subject, '{Requested}', @requestedBy, @now, @now)
            ON CONFLICT (request_id) DO UPDATE SET organisation_id = excluded.organisation_id, requested_by = excluded.requested_by,
                subject = COALESCE(whatsapp_groups.subject, excluded.subject), updated_at = excluded.updated_at
            RETURNING {Columns}
            """, new { requestId, organisationId, subject, requestedBy, now }, cancellationToken) ?? throw new InvalidOperationException("no row returned");

    /// <summary>Meta created the group: its id and link, on the request's row (made here when the webhook is first).</summary>
    public async Task<WhatsAppGroupRow> CreatedAsync(SqlScope db, string? requestId, string groupId, string? subject, string? inviteLink, long now,
        CancellationToken cancellationToken) =>
        await db.SingleOrDefaultAsync<WhatsAppGroupRow>($"""
            INSERT INTO whatsapp_groups (request_id, group_id, subject, invite_link, state, created_at, updated_at)
            VALUES (@requestId, @groupId, @subject, @inviteLink, '{Active}', @now, @now)
            ON CONFLICT ({(requestId is null ? "group_id" : "request_id")}) DO UPDATE SET group_id = excluded.group_id,
                subject = COALESCE(excluded.subject, whatsapp_groups.subject), invite_link = COALESCE(excluded.invite_link, whatsapp_groups.invite_link),
                state = excluded.state, error = NULL, updated_at = excluded.updated_at
            RETURNING {Columns}
            """, new { requestId, groupId, subject, inviteLink, now }, cancellationToken) ?? throw new InvalidOperationException("no row returned");

    public Task FailedAsync(SqlScope db, string requestId, string error, long now, CancellationToken cancellationToken) =>
        db.ExecuteAsync($"""
            INSERT INTO whatsapp_groups (request_id, state, error, created_at, updated_at) VALUES (@requestId, '{Failed}', @error, @now, @now)
            ON CONFLICT (request_id) DO UPDATE SET state = excluded.state, error = excluded.error, updated_at = excluded.updated_at
            """, new { requestId, error, now }, cancellationToken);

    public Task SetStateAsync(SqlScope db, string groupId, string state, long now, CancellationToken cancellationToken) =>
        db.ExecuteAsync("UPDATE whatsapp_groups SET state = @state, updated_at = @now WHERE group_id = @groupId", new { groupId, state, now }, cancellationToken);

    public Task SetInviteLinkAsync(SqlScope db, string groupId, string inviteLink, long now, CancellationToken cancellationToken) =>
        db.ExecuteAsync("UPDATE whatsapp_groups SET invite_link = @inviteLink, updated_at = @now WHERE group_id = @groupId",
            new { groupId, inviteLink, now }, cancellationToken);

    /// <summary>A group bound with /bind belongs to that organisation in the listing too.</summary>
    public Task SetOrganisationAsync(SqlScope db, string groupId, long organisationId, CancellationToken cancellationToken) =>
        db.ExecuteAsync("UPDATE whatsapp_groups SET organisation_id = @organisationId WHERE group_id = @groupId", new { groupId, organisationId }, cancellationToken);

    public Task<WhatsAppGroupRow?> ByRequestAsync(SqlScope db, string requestId, CancellationToken cancellationToken) =>
        db.SingleOrDefaultAsync<WhatsAppGroupRow>($"SELECT {Columns} FROM whatsapp_groups WHERE request_id = @requestId", new { requestId }, cancellationToken);

    public Task<WhatsAppGroupRow?> ByGroupAsync(SqlScope db, string groupId, CancellationToken cancellationToken) =>
        db.SingleOrDefaultAsync<WhatsAppGroupRow>($"SELECT {Columns} FROM whatsapp_groups WHERE group_id = @groupId", new { groupId }, cancellationToken);

    public Task<IReadOnlyList<WhatsAppGroupRow>> ForOrganisationAsync(SqlScope db, long organisationId, CancellationToken cancellationToken) =>
        db.ListAsync<WhatsAppGroupRow>($"SELECT {Columns} FROM whatsapp_groups WHERE organisation_id = @organisationId ORDER BY id", new { organisationId },
            cancellationToken);

    /// <summary>A participant joined; how many are in the group now.</summary>
    public async Task<int> JoinAsync(SqlScope db, string groupId, string waId, long now, CancellationToken cancellationToken)
    {
        await db.ExecuteAsync("""
            INSERT INTO whatsapp_group_members (group_id, wa_id, joined_at) VALUES (@groupId, @waId, @now)
            ON CONFLICT (group_id, wa_id) DO UPDATE SET joined_at = excluded.joined_at, left_at = NULL
            """, new { groupId, waId, now }, cancellationToken);
        return (await MembersAsync(db, groupId, cancellationToken)).Count;
    }

    public Task LeaveAsync(SqlScope db, string groupId, string waId, long now, CancellationToken cancellationToken) =>
        db.ExecuteAsync("UPDATE whatsapp_group_members SET left_at = @now WHERE group_id = @groupId AND wa_id = @waId AND left_at IS NULL",
            new { groupId, waId, now }, cancellationToken);

    /// <summary>Who is in the group now, in the order they joined.</summary>
    public Task<IReadOnlyList<string>> MembersAsync(SqlScope db, string groupId, CancellationToken cancellationToken) =>
        db.ListAsync<string>("SELECT wa_id FROM whatsapp_group_members WHERE group_id = @groupId AND left_at IS NULL ORDER BY joined_at, wa_id",
            new { groupId }, cancellationToken);

    public Task RecordAsync(SqlScope db, string? groupId, string? requestId, string field, string type, string? participant, string? detail, long at,
        CancellationToken cancellationToken) =>
        db.ExecuteAsync("""
            INSERT INTO whatsapp_group_events (group_id, request_id, field, type, participant, detail, at)
            VALUES (@groupId, @requestId, @field, @type, @participant, @detail, @at)
            """, new { groupId, requestId, field, type, participant, detail, at }, cancellationToken);
}
