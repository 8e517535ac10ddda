using Microsoft.Extensions.Options;
using SupportGateway.Core.Attachments;
using SupportGateway.Core.Storage;
using SupportGateway.Core.Tickets;
using SupportGateway.Host.Channels.Api;
using SupportGateway.Host.Http;

namespace SupportGateway.Host.Agents;

/// <summary>The agent API (<c>Authorization: Bearer</c>): for tools and tests; agents mostly work by mail.</summary>
internal static class AgentEndpoints
{
    public static IEndpointRouteBuilder MapAgentApi(this IEndpointRouteBuilder app)
    {
        var tickets = app.MapGroup("/api/v1/tickets").WithTags("Agents").AddEndpointFilter(RequireAgent).RequiresScheme(ApiSecurity.Bearer)
            .ProducesProblem(StatusCodes.Status401Unauthorized).ValidateTicketNumbers();

        tickets.MapGet("", async Task<IResult> (string? status, string? q, string? sla, string? sort, int? limit, Database database, TicketStore store,
            SlaView slaView, TimeProvider time, CancellationToken ct) =>
        {
            if (status is not null && !WireName.TryParse<TicketStatus>(status, out _))
                return Problems.BadRequest($"Unknown status '{status}'; use one of {string.Join(", ", WireName.AllOf<TicketStatus>())}.", "status");
            if (sla is not (null or "breached" or "at_risk"))
                return Problems.BadRequest($"Unknown sla filter '{sla}'; use breached or at_risk.", "sla");
            if (sort is not (null or "due" or "newest"))
                return Problems.BadRequest($"Unknown sort '{sort}'; use due or newest.", "sort");
            await using var connection = await database.OpenAsync(ct);
            var db = new SqlScope(connection);
            var rows = await store.SearchAsync(db, status, string.IsNullOrWhiteSpace(q) ? null : q.Trim(), sla, sort == "due",
                time.GetUtcNow().ToUnixTimeMilliseconds(), Math.Clamp(limit ?? 50, 1, 500), ct);
            var slas = await slaView.ReadManyAsync(db, rows, ct);
            return TypedResults.Ok(rows.Select((row, i) => TicketSummaryDto.From(row, slas[i])).ToList());
        }).WithSummary("Tickets, newest first or soonest due first").Produces<List<TicketSummaryDto>>().ProducesProblem(StatusCodes.Status400BadRequest);

        tickets.MapGet("/{number}", async Task<IResult> (string number, TicketService service, SlaView slaView, Database database, AgentDirectory agents,
            CancellationToken ct) =>
        {
            if (await service.GetViewAsync(number, includeInternal: true, ct) is not { } view)
                return Problems.NotFound($"Ticket {number} does not exist.");
            await using var connection = await database.OpenAsync(ct);
            return TypedResults.Ok(TicketDetailDto.From(view, await slaView.ReadAsync(new SqlScope(connection), view.Ticket, ct), agents));
        }).WithSummary("A ticket with its requester, messages and audit trail").Produces<TicketDetailDto>().ProducesProblem(StatusCodes.Status404NotFound);

        tickets.MapGet("/{number}/attachments/{id:long}", async Task<IResult> (string number, long id, TicketService service, Database database,
            MessageStore messages, HttpContext http, CancellationToken ct) =>
        {
            await using var connection = await database.OpenAsync(ct);
            var db = new SqlScope(connection);
            if (await service.FindAsync(db, number, ct) is not { } ticket)
                return Problems.NotFound($"Ticket {number} does not exist.");
            var attachment = await messages.GetAttachmentAsync(db, id, ct);
            var message = attachment is null ? null : await messages.GetAsync(db, attachment.MessageId, ct);
            if (message?.TicketId != ticket.Id || await messages.AttachmentContentAsync(db, id, ct) is not { } content)
                return Problems.NotFound($"Ticket {ticket.Number} has no file {id}.");
            // A customer's file is never rendered by the browser as the gateway's own page.
            http.Response.Headers.XContentTypeOptions = "nosniff";
            return TypedResults.File(content, AttachmentDto.MediaType(attachment!.ContentType), attachment.FileName);
        }).WithSummary("A file of the ticket, named in Content-Disposition").ProducesFile().ProducesProblem(StatusCodes.Status404NotFound);

        tickets.MapPost("/{number}/replies", (string number, HttpContext http, TicketService service, IOptions<IntakeOptions> intake, CancellationToken ct) =>
            RequestBody.GuardAsync(async () =>
            {
                var agent = CurrentAgent(http);
                var body = await RequestBody.ReadJsonAsync<ReplyRequest>(http, intake.Value.MaxRequestBytes, ct);
                var files = new IntakeNormalizer(intake.Value, http.RequestServices.GetRequiredService<AttachmentPolicy>()).Attachments(body.Attachments);
                if (string.IsNullOrWhiteSpace(body.Text) && files.Count == 0)
                    return Problems.BadRequest("'text' is required (or files in 'attachments').", "text");
                var result = await service.ReplyAsync(number, agent.Email, agent.Name, body.Text?.Trim() ?? "", body.Internal ?? false, files, ct);
                return ToResult(result, r => TypedResults.Created($"/api/v1/tickets/{r.Ticket!.Number}", new ReplyCreatedDto(r.Ticket.Number, r.MessageId, r.Ticket.Status)));
            })).WithSummary("An answer to the customer on their channel, or an internal note").ReadsJson<ReplyRequest>()
            .Produces<ReplyCreatedDto>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status404NotFound);

        tickets.MapPatch("/{number}", (string number, HttpContext http, TicketService service, AgentDirectory agents, CancellationToken ct) =>
            RequestBody.GuardAsync(async () =>
            {
                var agent = CurrentAgent(http);
                var body = await RequestBody.ReadJsonAsync<TicketPatchRequest>(http, 64 << 10, ct);
                if (body is { Status: null, Resolution: null, Priority: null, Type: null, Assignee: null })
                    return Problems.BadRequest("Nothing to change: send at least one of status, resolution, priority, type, assignee.");
                var changes = new TicketChanges(
                    Field<TicketStatus>(body.Status, "status"), Field<TicketResolution>(body.Resolution, "resolution"),
                    Field<TicketPriority>(body.Priority, "priority"), Field<TicketType>(body.Type, "type"), Assignee(agents, body.Assignee));
                var result = await service.UpdateAsync(number, $"agent:{agent.Email}", changes, ct);
                return ToResult(result, r => TypedResults.Ok(TicketSummaryDto.From(r.Ticket!, null)));
            })).WithSummary("Changes status, resolution, priority, type or assignee").ReadsJson<TicketPatchRequest>()
            .Produces<TicketSummaryDto>().ProducesProblems(StatusCodes.Status404NotFound, StatusCodes.Status409Conflict);
        return app;
    }

    internal static IResult ToResult(CommandResult result, Func<CommandResult, IResult> ok) => result.Status switch
    {
        CommandStatus.Ok => ok(result),
        CommandStatus.NotFound => Problems.NotFound(result.Error!),
        CommandStatus.Conflict => Problems.Conflict(result.Error!, result.Field),
        _ => Problems.BadRequest(result.Error!, result.Field),
    };

    private static T? Field<T>(string? value, string name) where T : struct, Enum
    {
        if (value is null)
            return null;
        return WireName.TryParse<T>(value, out var parsed)
            ? parsed
            : throw new ProblemException(Problems.BadRequest($"'{value}' is not a valid {name}; use one of {string.Join(", ", WireName.AllOf<T>())}.", name));
    }

    /// <summary>A configured agent's address (as configured), "" to clear; anything else names nobody who could answer.</summary>
    private static string? Assignee(AgentDirectory agents, string? value) => value switch
    {
        null => null,
        _ when value.Trim().Length == 0 => "",
        _ => agents.FindByEmail(value)?.Email ?? throw new ProblemException(Problems.BadRequest(
            $"'{value}' is not a configured agent; use one of {string.Join(", ", agents.All.Select(a => a.Email))}, or \"\" to unassign.", "assignee")),
    };

    internal static AgentOptions CurrentAgent(HttpContext http) => (AgentOptions)http.Items[typeof(AgentOptions)]!;

    internal static async ValueTask<object?> RequireAgent(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var header = http.Request.Headers.Authorization.ToString();
        var key = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : null;
        if (http.RequestServices.GetRequiredService<AgentDirectory>().FindByKey(key) is not { } agent)
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return Problems.Unauthorized("Send an agent's key as 'Authorization: Bearer <key>'.");
        }
        http.Items[typeof(AgentOptions)] = agent;
        return await next(context);
    }
}
