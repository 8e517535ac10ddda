using Microsoft.Extensions.Options;
using SupportGateway.Core.Attachments;
using SupportGateway.Core.Pipeline;
using SupportGateway.Core.Tickets;
using SupportGateway.Host.Agents;
using SupportGateway.Host.Http;

namespace SupportGateway.Host.Channels.Api;

/// <summary>The intake API behind a product's "Help" button (<c>X-Api-Key</c>).</summary>
internal static class IntakeEndpoints
{
    private const string IdempotencyKey = "Idempotency-Key";

    public static IEndpointRouteBuilder MapIntakeEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/requests").WithTags("Intake").AddEndpointFilter(RequireApiKey).RequiresScheme(ApiSecurity.ApiKey)
            .ProducesProblem(StatusCodes.Status401Unauthorized).ValidateTicketNumbers();

        group.MapPost("", (HttpContext http, InboundProcessor processor, IOptions<IntakeOptions> options, CancellationToken ct) =>
            RequestBody.GuardAsync(async () =>
            {
                var body = await RequestBody.ReadJsonAsync<IntakeRequest>(http, options.Value.MaxRequestBytes, ct);
                var message = new IntakeNormalizer(options.Value, http.RequestServices.GetRequiredService<AttachmentPolicy>()).NewRequest(body, ExternalId(http));
                return Answer(await processor.IngestAsync(message, ct), http);
            })).WithSummary("A new request; a repeated Idempotency-Key returns the same ticket").ReadsJson<IntakeRequest>()
            .Reads(Microsoft.OpenApi.ParameterLocation.Header, IdempotencyKey).ProducesAccepted();

        group.MapPost("/{ticketNumber}/messages", (string ticketNumber, HttpContext http, InboundProcessor processor, TicketService tickets,
            IOptions<IntakeOptions> options, CancellationToken ct) =>
            RequestBody.GuardAsync(async () =>
            {
                var body = await RequestBody.ReadJsonAsync<IntakeFollowUp>(http, options.Value.MaxRequestBytes, ct);
                var message = new IntakeNormalizer(options.Value, http.RequestServices.GetRequiredService<AttachmentPolicy>()).FollowUp(ticketNumber, body, ExternalId(http));
                var (participation, ticket) = await tickets.CheckParticipantAsync(ticketNumber, IntakeNormalizer.Channel, message.Sender.Identity, ct);
                if (participation == Participation.NoTicket)
                    return Problems.NotFound($"Ticket {ticketNumber} does not exist.");
                if (participation == Participation.NotParticipant)
                    return Problems.Forbidden($"Only the contact of {ticket!.Number} may add messages to it.");
                return Answer(await processor.IngestAsync(message, ct), http);
            })).WithSummary("A follow-up from the ticket's contact").ReadsJson<IntakeFollowUp>()
            .Reads(Microsoft.OpenApi.ParameterLocation.Header, IdempotencyKey).ProducesAccepted()
            .ProducesProblems(StatusCodes.Status403Forbidden, StatusCodes.Status404NotFound);

        group.MapPost("/{ticketNumber}/close", (string ticketNumber, HttpContext http, TicketService tickets, CancellationToken ct) =>
            RequestBody.GuardAsync(async () =>
            {
                var body = await RequestBody.ReadJsonAsync<IntakeClose>(http, 64 << 10, ct);
                if (body.Contact is null)
                    return Problems.BadRequest("'contact' is required: the ticket's contact closes it.", "contact");
                var (participation, result) = await tickets.CloseByCustomerAsync(ticketNumber, IntakeNormalizer.Channel, IntakeNormalizer.Identity(body.Contact), ct);
                return participation switch
                {
                    Participation.NoTicket => Problems.NotFound($"Ticket {ticketNumber} does not exist."),
                    Participation.NotParticipant => Problems.Forbidden($"Only the contact of {ticketNumber} may close it."),
                    _ => TypedResults.Ok(new TicketStateDto(result!.Ticket!.Number, result.Ticket.Status)),
                };
            })).WithSummary("The ticket's contact closes a request no longer needed").ReadsJson<IntakeClose>().Produces<TicketStateDto>()
            .ProducesProblems(StatusCodes.Status403Forbidden, StatusCodes.Status404NotFound);

        group.MapGet("/{ticketNumber}", async Task<IResult> (string ticketNumber, TicketService tickets, CancellationToken ct) =>
            await tickets.GetViewAsync(ticketNumber, includeInternal: false, ct) is { } view
                ? TypedResults.Ok(new IntakeTicketDto(view.Ticket.Number, view.Ticket.Status, view.Ticket.Resolution,
                    [.. view.Messages.Select(m => MessageDto.From(m, view.Attachments))]))
                : Problems.NotFound($"Ticket {ticketNumber} does not exist."))
            .WithSummary("Status and public messages, for the product to show").Produces<IntakeTicketDto>().ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    private static IResult Answer(IngestResult result, HttpContext http)
    {
        if (result.Outcome == IngestOutcome.Parked)
            return Problems.Parked(result.InboundId);
        if (result.Outcome == IngestOutcome.Duplicate)
            http.Response.Headers["Idempotent-Replayed"] = "true";
        return TypedResults.Created($"/api/v1/requests/{result.TicketNumber}",
            new IntakeAcceptedDto(result.TicketNumber, result.TicketStatus, result.MessageId, result.Outcome == IngestOutcome.Duplicate));
    }

    /// <summary>What <see cref="Answer"/> answers: 201, or 503 when the request was kept as a dead letter to replay.</summary>
    private static RouteHandlerBuilder ProducesAccepted(this RouteHandlerBuilder builder) =>
        builder.Produces<IntakeAcceptedDto>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status503ServiceUnavailable);

    /// <summary>The Idempotency-Key, scoped to the API key that sent it; a fresh id when there is none.</summary>
    private static string ExternalId(HttpContext http)
    {
        var key = http.Request.Headers[IdempotencyKey].ToString().Trim();
        if (key.Length == 0)
            return $"auto:{Guid.CreateVersion7():N}";
        if (key.Length > 200)
            throw new ProblemException(Problems.BadRequest("Idempotency-Key is longer than 200 characters.", "Idempotency-Key"));
        return $"{Secrets.Fingerprint(http.Request.Headers["X-Api-Key"].ToString())}:{key}";
    }

    private static async ValueTask<object?> RequireApiKey(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var key = http.Request.Headers["X-Api-Key"].ToString();
        var valid = false;
        foreach (var candidate in http.RequestServices.GetRequiredService<IOptions<IntakeOptions>>().Value.ApiKeys)
            valid |= key.Length > 0 && Secrets.FixedTimeEquals(candidate, key);
        return valid ? await next(context) : Problems.Unauthorized("Send a valid intake key in the X-Api-Key header.");
    }
}
