using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using SupportGateway.Core.Attachments;
using SupportGateway.Core.Contacts;
using SupportGateway.Core.Pipeline;
using SupportGateway.Core.Storage;
using SupportGateway.Core.Tickets;
using SupportGateway.Host.Agents;
using SupportGateway.Host.Http;
using SupportGateway.Host.Limits;

namespace SupportGateway.Host.Channels.WebChat;

/// <summary>The widget's script and its visitor API. Visitors authenticate with the <c>X-Visitor-Token</c> header.</summary>
internal static class WebChatEndpoints
{
    internal const string TokenHeader = "X-Visitor-Token";

    public static IEndpointRouteBuilder MapWebChatEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/webchat/widget.js", () => Asset("widget.js", "text/javascript; charset=utf-8"))
            .WithTags("WebChat").WithSummary("The widget's script, for one <script> tag").ProducesText(StatusCodes.Status200OK, "text/javascript");
        app.MapGet("/", () => Asset("index.html", "text/html; charset=utf-8"))
            .WithTags("WebChat").WithSummary("The demo page with the widget").ProducesText(StatusCodes.Status200OK, "text/html");

        var api = app.MapGroup("/webchat/api").WithTags("WebChat").RequireCors(WebChatChannel.CorsPolicy).ValidateTicketNumbers()
            .Reads(Microsoft.OpenApi.ParameterLocation.Header, TokenHeader);

        api.MapPost("/requests", (HttpContext http, InboundProcessor processor, TicketService tickets, IOptions<WebChatOptions> options, CancellationToken ct) =>
            RequestBody.GuardAsync(async () =>
            {
                var token = http.Request.Headers[TokenHeader].ToString();
                token = WebChatNormalizer.IsWellFormedToken(token) ? token : Secrets.NewToken();
                var form = await ReadFormAsync(http, options.Value, ct);
                var message = await new WebChatNormalizer(options.Value, http.RequestServices.GetRequiredService<AttachmentPolicy>()).NewRequestAsync(form, WebChatNormalizer.VisitorOf(token), ct);
                var result = await processor.IngestAsync(message, ct);
                if (result.Outcome == IngestOutcome.Parked)
                    return Problems.Parked(result.InboundId);
                var view = await tickets.GetViewAsync(result.TicketNumber!, includeInternal: false, ct);
                return TypedResults.Created($"/webchat/api/requests/{result.TicketNumber}", new WebChatCreatedDto(token, Conversation(view!)));
            })).WithSummary("A new request from the widget; the answer carries the visitor token to keep").ReadsForm<WebChatRequestForm>()
            .Produces<WebChatCreatedDto>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .RequireRateLimiting(AbuseLimits.WebChatRequests).LimitNewRequests();

        api.MapGet("/requests", (HttpContext http, Database database, ContactStore contacts, TicketStore store, CancellationToken ct) =>
            RequestBody.GuardAsync(async () =>
            {
                var visitor = Visitor(http);
                await using var connection = await database.OpenAsync(ct);
                var db = new SqlScope(connection);
                var contactId = await contacts.FindByIdentityAsync(db, WebChatNormalizer.Channel, visitor, ct);
                var rows = contactId is { } id ? await store.ListForContactAsync(db, id, 50, ct) : [];
                return TypedResults.Ok(rows.Select(t => TicketSummaryDto.From(t, null)));
            })).WithSummary("The visitor's requests").Produces<List<TicketSummaryDto>>().ProducesProblem(StatusCodes.Status401Unauthorized);

        api.MapGet("/requests/{number}", (string number, HttpContext http, TicketService tickets, CancellationToken ct) =>
            RequestBody.GuardAsync(async () =>
            {
                await RequireParticipantAsync(http, tickets, number, ct);
                return TypedResults.Ok(Conversation((await tickets.GetViewAsync(number, includeInternal: false, ct))!));
            })).WithSummary("One of the visitor's requests with its public messages").Produces<WebChatConversationDto>()
            .ProducesProblems(StatusCodes.Status401Unauthorized, StatusCodes.Status404NotFound);

        api.MapPost("/requests/{number}/messages", (string number, HttpContext http, InboundProcessor processor, TicketService tickets,
            IOptions<WebChatOptions> options, CancellationToken ct) =>
            RequestBody.GuardAsync(async () =>
            {
                var visitor = await RequireParticipantAsync(http, tickets, number, ct);
                var form = await ReadFormAsync(http, options.Value, ct);
                var message = await new WebChatNormalizer(options.Value, http.RequestServices.GetRequiredService<AttachmentPolicy>()).FollowUpAsync(form, visitor, number, ct);
                var result = await processor.IngestAsync(message, ct);
                if (result.Outcome == IngestOutcome.Parked)
                    return Problems.Parked(result.InboundId);
                var view = await tickets.GetViewAsync(result.TicketNumber!, includeInternal: false, ct);
                return TypedResults.Created($"/webchat/api/requests/{result.TicketNumber}", Conversation(view!));
            })).WithSummary("A message from the visitor, or their answer to a resolution notice").ReadsForm<WebChatMessageForm>()
            .Produces<WebChatConversationDto>(StatusCodes.Status201Created)
            .ProducesProblems(StatusCodes.Status401Unauthorized, StatusCodes.Status404NotFound, StatusCodes.Status503ServiceUnavailable)
            .RequireRateLimiting(AbuseLimits.WebChatMessages);

        api.MapPost("/requests/{number}/close", (string number, HttpContext http, TicketService tickets, CancellationToken ct) =>
            RequestBody.GuardAsync(async () =>
            {
                var (participation, result) = await tickets.CloseByCustomerAsync(number, WebChatNormalizer.Channel, Visitor(http), ct);
                return participation == Participation.Participant
                    ? TypedResults.Ok(new TicketStateDto(result!.Ticket!.Number, result.Ticket.Status))
                    : Problems.NotFound($"Request {number} was not found.");
            })).WithSummary("The visitor closes a request no longer needed").TakesNoBody().Produces<TicketStateDto>()
            .ProducesProblems(StatusCodes.Status401Unauthorized, StatusCodes.Status404NotFound);

        api.MapGet("/attachments/{id:long}", (long id, HttpContext http, Database database, MessageStore messages, TicketStore store, TicketService tickets,
            CancellationToken ct) =>
            RequestBody.GuardAsync(async () =>
            {
                await using var connection = await database.OpenAsync(ct);
                var db = new SqlScope(connection);
                var attachment = await messages.GetAttachmentAsync(db, id, ct);
                var message = attachment is null ? null : await messages.GetAsync(db, attachment.MessageId, ct);
                var ticket = message is null || message.Internal ? null : await store.GetAsync(db, message.TicketId, ct);
                if (ticket is null)
                    return Problems.NotFound("No such file.");
                await RequireParticipantAsync(http, tickets, ticket.Number, ct);
                var content = await messages.AttachmentContentAsync(db, id, ct);
                http.Response.Headers.XContentTypeOptions = "nosniff";
                return TypedResults.File(content!, AttachmentDto.MediaType(attachment!.ContentType), attachment.FileName);
            })).WithSummary("A file of one of the visitor's requests").ProducesFile()
            .ProducesProblems(StatusCodes.Status401Unauthorized, StatusCodes.Status404NotFound);

        api.MapGet("/events", (HttpContext http, WebChatRelay relay, IHostApplicationLifetime lifetime) =>
            RequestBody.GuardAsync(() => Task.FromResult<IResult>(lifetime.ApplicationStopping.IsCancellationRequested
                ? Stopping(http)
                : TypedResults.ServerSentEvents(
                // Streams end when the host stops, so shutdown does not wait for browsers to hang up.
                Events(relay, Visitor(http), CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, lifetime.ApplicationStopping))))))
            .WithSummary("Server-sent events: ready, then each new message of the visitor's requests, and a ping every 15 s")
            .ProducesText(StatusCodes.Status200OK, "text/event-stream")
            .ProducesProblems(StatusCodes.Status401Unauthorized, StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    /// <summary>
    /// A stopping instance opens no new stream (its streams end as it stops): 503, which a balancer passes on to
    /// another instance for a GET (samples/nginx), and which the widget retries by itself.
    /// </summary>
    private static IResult Stopping(HttpContext http)
    {
        http.Response.Headers.RetryAfter = "1";
        return Problems.Make(StatusCodes.Status503ServiceUnavailable, "Stopping", "This instance is stopping; connect again.");
    }

    private static async IAsyncEnumerable<SseItem<string>> Events(WebChatRelay relay, string visitor, CancellationTokenSource lifetime,
        [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        using var owned = lifetime;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(lifetime.Token, cancellation);
        var ct = linked.Token;
        using var subscription = relay.Subscribe(visitor);
        yield return new SseItem<string>("{}", "ready");
        while (!ct.IsCancellationRequested)
        {
            string? json = null;
            using (var heartbeat = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                // A comment-like ping every 15 s keeps proxies from closing an idle stream.
                heartbeat.CancelAfter(TimeSpan.FromSeconds(15));
                try
                {
                    json = await subscription.Reader.ReadAsync(heartbeat.Token);
                }
                catch (OperationCanceledException)
                {
                    // The heartbeat's turn, or the end of the stream (the browser left, the host stops): the
                    // end is a normal way out, not an error to log, so it is handled below and never thrown.
                }
            }
            if (ct.IsCancellationRequested)
                yield break;
            yield return json is null ? new SseItem<string>("{}", "ping") : new SseItem<string>(json, "message");
        }
    }

    private static WebChatConversationDto Conversation(TicketView view) =>
        new(TicketSummaryDto.From(view.Ticket, null), [.. view.Messages.Select(m => MessageDto.From(m, view.Attachments, Download))]);

    internal static string Download(AttachmentRow attachment) => $"/webchat/api/attachments/{attachment.Id}";

    private static string Visitor(HttpContext http)
    {
        var token = http.Request.Headers[TokenHeader].ToString();
        return WebChatNormalizer.IsWellFormedToken(token)
            ? WebChatNormalizer.VisitorOf(token)
            : throw new ProblemException(Problems.Unauthorized($"Send the visitor token in the {TokenHeader} header."));
    }

    /// <summary>404 unless the visitor takes part in the ticket: a stranger learns nothing, not even that it exists.</summary>
    private static async Task<string> RequireParticipantAsync(HttpContext http, TicketService tickets, string number, CancellationToken ct)
    {
        var visitor = Visitor(http);
        var (participation, _) = await tickets.CheckParticipantAsync(number, WebChatNormalizer.Channel, visitor, ct);
        return participation == Participation.Participant ? visitor : throw new ProblemException(Problems.NotFound($"Request {number} was not found."));
    }

    private static async Task<IFormCollection> ReadFormAsync(HttpContext http, WebChatOptions options, CancellationToken ct)
    {
        if (http.Request.ContentLength > options.MaxRequestBytes)
            throw new ProblemException(Problems.TooLarge($"The upload is over the limit of {options.MaxAttachmentBytes} bytes per file."));
        if (!http.Request.HasFormContentType)
            throw new ProblemException(Problems.Make(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", "Send the form as multipart/form-data."));
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
            size.MaxRequestBodySize = options.MaxRequestBytes;
        try
        {
            return await http.Request.ReadFormAsync(new FormOptions { MultipartBodyLengthLimit = options.MaxRequestBytes }, ct);
        }
        catch (IOException ex) when (ex is not BadHttpRequestException && !ct.IsCancellationRequested)
        {
            // The multipart reader meets the end of a truncated body (no closing boundary) as an IOException: the
            // client's body is incomplete, not the server broken.
            throw new ProblemException(Problems.BadRequest($"The form ended before its closing boundary: {ex.Message}"));
        }
        catch (Exception ex) when (ex is InvalidDataException or BadHttpRequestException)
        {
            // Kestrel reports its body limit as a 413; the multipart reader (the only guard where the
            // server has no body-size feature) reports its length limit only in the message.
            throw new ProblemException(ex is BadHttpRequestException { StatusCode: 413 } || ex.Message.Contains("limit", StringComparison.OrdinalIgnoreCase)
                ? Problems.TooLarge($"The upload is over the limit of {options.MaxAttachmentBytes} bytes per file.")
                : Problems.BadRequest($"The form could not be read: {ex.Message}"));
        }
    }

    /// <summary>The form <see cref="ReadFormAsync"/> reads, in the OpenAPI document, with the problems it answers.</summary>
    private static RouteHandlerBuilder ReadsForm<T>(this RouteHandlerBuilder builder) where T : notnull => builder.Accepts<T>("multipart/form-data")
        .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType);

    private static IResult Asset(string name, string contentType)
    {
        var stream = typeof(WebChatEndpoints).Assembly.GetManifestResourceStream($"webchat/{name}")!;
        return TypedResults.Stream(stream, contentType);
    }
}
