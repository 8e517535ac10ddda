using Microsoft.Extensions.Options;
using SupportGateway.Core.Contacts;
using SupportGateway.Core.Storage;
using SupportGateway.Host.Agents;
using SupportGateway.Host.Http;

namespace SupportGateway.Host.Channels.WhatsApp;

/// <summary>The body of <c>POST …/whatsapp-group</c>, all optional: the subject is the organisation's name by default.</summary>
internal sealed record WhatsAppGroupRequest(string? Subject, string? Description, string? JoinApprovalMode);

/// <summary>A customer group of an organisation as the agent API shows it.</summary>
internal sealed record WhatsAppGroupDto(string? GroupId, string? RequestId, string Organisation, string? Subject, string? InviteLink, string State,
    string? BoundBy, IReadOnlyList<string> Participants, int ParticipantLimit);

/// <summary>
/// The agent API for WhatsApp customer groups (agent key, like the ticket endpoints).
/// <c>POST /api/v1/organisations/{account}/whatsapp-group</c> asks the Graph API for a group (Groups API, an Official
/// Business Account's number), binds it to the organisation and answers 201 with its invite link: Meta creates a
/// group asynchronously and tells its id and link by the <c>group_lifecycle_update</c> webhook, which this waits for
/// (<c>Cloud:GroupCreateWait</c>) before answering 202; the binding happens when the webhook comes all the same.
/// Participants cannot be added, only invited with the link; a group holds at most 8.
/// <c>GET …/whatsapp-groups</c> lists the organisation's groups with who is in them.
/// </summary>
internal static class WhatsAppGroupEndpoints
{
    private static readonly string[] ApprovalModes = ["auto_approve", "approval_required"];

    public static IEndpointRouteBuilder MapWhatsAppGroupApi(this IEndpointRouteBuilder app)
    {
        var organisations = app.MapGroup("/api/v1/organisations").WithTags("Agents").AddEndpointFilter(AgentEndpoints.RequireAgent).RequiresScheme(Http.ApiSecurity.Bearer)
            .ProducesProblems(StatusCodes.Status401Unauthorized, StatusCodes.Status404NotFound);
        organisations.MapPost("/{account}/whatsapp-group", (string account, HttpContext http, CancellationToken ct) =>
            RequestBody.GuardAsync(() => CreateAsync(account, http, Services.Of(http), ct)))
            .WithSummary("A WhatsApp group for the organisation through the Cloud API; 202 while Meta has not confirmed it")
            .ReadsJson<WhatsAppGroupRequest>(optional: true).Produces<WhatsAppGroupDto>(StatusCodes.Status201Created)
            .Produces<WhatsAppGroupDto>(StatusCodes.Status202Accepted).ProducesProblems(StatusCodes.Status409Conflict, StatusCodes.Status502BadGateway);
        organisations.MapGet("/{account}/whatsapp-groups", (string account, HttpContext http, CancellationToken ct) =>
            RequestBody.GuardAsync(() => ListAsync(account, Services.Of(http), ct)))
            .WithSummary("The organisation's WhatsApp groups and who is in them").Produces<List<WhatsAppGroupDto>>();
        return app;
    }

    /// <summary>What the endpoints use, taken from the request's services (fewer parameters for the endpoint factory to compile at start).</summary>
    private sealed record Services(IOptions<WhatsAppOptions> Options, IOptions<List<OrganisationOptions>> Organisations, Database Database,
        ContactStore Contacts, WhatsAppGroupStore Store, ChatGroups Groups, CloudApiClient Api, TimeProvider Time)
    {
        public static Services Of(HttpContext http)
        {
            var sp = http.RequestServices;
            return new(sp.GetRequiredService<IOptions<WhatsAppOptions>>(), sp.GetRequiredService<IOptions<List<OrganisationOptions>>>(),
                sp.GetRequiredService<Database>(), sp.GetRequiredService<ContactStore>(), sp.GetRequiredService<WhatsAppGroupStore>(),
                sp.GetRequiredService<ChatGroups>(), sp.GetRequiredService<CloudApiClient>(), sp.GetRequiredService<TimeProvider>());
        }
    }

    private static async Task<IResult> CreateAsync(string account, HttpContext http, Services s, CancellationToken ct)
    {
        var cloud = s.Options.Value.Cloud;
        if (!cloud.Enabled)
            return Problems.Conflict($"WhatsApp groups need the Cloud API, and it is not configured here ({WhatsAppOptions.Section}:Cloud:PhoneNumberId).");
        var body = http.Request.ContentLength is null or 0 && !http.Request.Headers.ContainsKey("Transfer-Encoding")
            ? new WhatsAppGroupRequest(null, null, null)
            : await RequestBody.ReadJsonAsync<WhatsAppGroupRequest>(http, 16 << 10, ct);
        var (known, name) = await OrganisationAsync(account, s, ct);
        if (known is null)
            return Problems.NotFound($"There is no organisation with account number '{account}'.");
        var subject = (string.IsNullOrWhiteSpace(body.Subject) ? name : body.Subject).Trim();
        if (subject.Length > CreateGroup.MaxSubject)
            return Problems.BadRequest($"A group's subject takes at most {CreateGroup.MaxSubject} characters.", "subject");
        if (body.Description?.Length > CreateGroup.MaxDescription)
            return Problems.BadRequest($"A group's description takes at most {CreateGroup.MaxDescription} characters.", "description");
        if (body.JoinApprovalMode is { } mode && !ApprovalModes.Contains(mode))
            return Problems.BadRequest($"'{mode}' is not a join approval mode; use {string.Join(" or ", ApprovalModes)}.", "joinApprovalMode");

        string requestId;
        try
        {
            var requested = await s.Api.SendAsync(new CreateGroup(cloud.PhoneNumberId!, subject)
            {
                Description = string.IsNullOrWhiteSpace(body.Description) ? null : body.Description, JoinApprovalMode = body.JoinApprovalMode,
            }, ct);
            requestId = requested.RequestId is { Length: > 0 } id ? id : throw new CloudApiException(nameof(CreateGroup), 502, 0, "no request_id in the answer", null);
        }
        catch (CloudApiException ex)
        {
            return BadGateway($"The Graph API did not create the group: {ex.Message}");
        }

        var agent = AgentEndpoints.CurrentAgent(http);
        var boundBy = $"api:{agent.Email}";
        await using (var session = await s.Database.BeginAsync(ct))
        {
            var organisationId = known.Value == 0 ? await s.Contacts.OrganisationByAccountAsync(session, account, s.Time.GetUtcNow().ToUnixTimeMilliseconds(), ct) : known.Value;
            var row = await s.Store.RequestedAsync(session, requestId, organisationId, subject, boundBy, s.Time.GetUtcNow().ToUnixTimeMilliseconds(), ct);
            // Meta's webhook was quicker than our bookkeeping: the group exists, bind it now.
            if (row is { State: WhatsAppGroupStore.Active, GroupId: { } early })
                await s.Groups.BindGroupAsync(session, WhatsAppChannel.Name, early, organisationId, boundBy, ct);
            await session.CommitAsync(ct);
        }

        var group = await WaitAsync(s, requestId, cloud.GroupCreateWait, ct);
        if (group is { State: WhatsAppGroupStore.Failed })
            return BadGateway($"WhatsApp did not create the group (request {requestId}): {group.Error}");
        var location = $"/api/v1/organisations/{Uri.EscapeDataString(account)}/whatsapp-groups";
        if (group is not { State: WhatsAppGroupStore.Active, GroupId: { } groupId })
        {
            return TypedResults.Accepted(location, new WhatsAppGroupDto(null, requestId, account, subject, null, WhatsAppGroupStore.Requested, boundBy, [],
                CreateGroup.MaxParticipants));
        }
        var link = group.InviteLink;
        if (link is null)
        {
            try
            {
                link = (await s.Api.SendAsync(new GetInviteLink(groupId), ct)).Link;
            }
            catch (CloudApiException ex)
            {
                return BadGateway($"Group {groupId} was created and bound to {account}, but its invite link could not be had: {ex.Message}");
            }
            if (link is not null)
            {
                await using var session = await s.Database.BeginAsync(ct);
                await s.Store.SetInviteLinkAsync(session, groupId, link, s.Time.GetUtcNow().ToUnixTimeMilliseconds(), ct);
                await session.CommitAsync(ct);
            }
        }
        return TypedResults.Created(location, new WhatsAppGroupDto(groupId, requestId, account, group.Subject ?? subject, link, group.State, boundBy, [],
            CreateGroup.MaxParticipants));
    }

    /// <summary>Until Meta's webhook has been processed (the group active, or failed), or the wait is over.</summary>
    private static async Task<WhatsAppGroupRow?> WaitAsync(Services s, string requestId, TimeSpan patience, CancellationToken ct)
    {
        var deadline = s.Time.GetUtcNow() + patience;
        while (true)
        {
            WhatsAppGroupRow? row;
            await using (var connection = await s.Database.OpenAsync(ct))
                row = await s.Store.ByRequestAsync(new SqlScope(connection), requestId, ct);
            if (row is { State: WhatsAppGroupStore.Active or WhatsAppGroupStore.Failed } || s.Time.GetUtcNow() >= deadline)
                return row;
            await Task.Delay(TimeSpan.FromMilliseconds(50), ct);
        }
    }

    private static async Task<IResult> ListAsync(string account, Services s, CancellationToken ct)
    {
        var (known, _) = await OrganisationAsync(account, s, ct);
        if (known is null)
            return Problems.NotFound($"There is no organisation with account number '{account}'.");
        var configured = s.Options.Value.Groups.Where(g => string.Equals(g.Organisation, account, StringComparison.OrdinalIgnoreCase)).Select(g => g.GroupId);
        await using var connection = await s.Database.OpenAsync(ct);
        var db = new SqlScope(connection);
        var made = known.Value == 0 ? [] : await s.Store.ForOrganisationAsync(db, known.Value, ct);
        var bindings = known.Value == 0 ? [] : (await s.Contacts.BindingsAsync(db, WhatsAppChannel.Name, known.Value, ct)).ToDictionary(b => b.Conversation);
        var groups = new List<WhatsAppGroupDto>();
        foreach (var row in made)
        {
            var members = row.GroupId is { } id ? await s.Store.MembersAsync(db, id, ct) : [];
            groups.Add(new WhatsAppGroupDto(row.GroupId, row.RequestId, account, row.Subject, row.InviteLink, row.State,
                row.GroupId is { } bound && bindings.TryGetValue(bound, out var binding) ? binding.BoundBy : null, members, CreateGroup.MaxParticipants));
        }
        // Groups bound by configuration or /bind that were not made through this API.
        foreach (var (id, boundBy) in configured.Select(g => (g, "configuration")).Concat(bindings.Values.Select(b => (b.Conversation, b.BoundBy)))
                     .Where(g => made.All(m => m.GroupId != g.Item1)).DistinctBy(g => g.Item1))
        {
            var row = await s.Store.ByGroupAsync(db, id, ct);
            groups.Add(new WhatsAppGroupDto(id, row?.RequestId, account, row?.Subject, row?.InviteLink, row?.State ?? WhatsAppGroupStore.Active, boundBy,
                await s.Store.MembersAsync(db, id, ct), CreateGroup.MaxParticipants));
        }
        return TypedResults.Ok(groups);
    }

    /// <summary>
    /// The organisation's id (0 when it is configured but has no row yet), and its name; null when the gateway knows
    /// no organisation with that account number, neither in <c>SupportGateway:Organisations</c> nor from its tickets.
    /// </summary>
    private static async Task<(long? Id, string Name)> OrganisationAsync(string account, Services s, CancellationToken ct)
    {
        var configured = s.Organisations.Value.FirstOrDefault(o => string.Equals(o.AccountNumber, account, StringComparison.Ordinal));
        await using var connection = await s.Database.OpenAsync(ct);
        var id = await s.Contacts.FindOrganisationAsync(new SqlScope(connection), account, ct);
        return (id ?? (configured is null ? null : 0), configured?.Name is { Length: > 0 } name ? name : account);
    }

    private static IResult BadGateway(string detail) => Problems.Make(StatusCodes.Status502BadGateway, "The Graph API failed", detail);
}
