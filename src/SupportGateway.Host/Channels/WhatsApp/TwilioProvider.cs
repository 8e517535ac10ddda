using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using SupportGateway.Core.Pipeline;
using SupportGateway.Host.Http;
using Twilio.Security;

namespace SupportGateway.Host.Channels.WhatsApp;

/// <summary>
/// Twilio's side of the channel: <c>POST /webhooks/whatsapp/twilio</c> (messages, stored now and processed later) and
/// <c>…/status</c> (delivery reports), both signed with the auth token; the normaliser, the media fetch and the sender.
/// </summary>
internal static class TwilioProvider
{
    public const string WebhookPath = "/webhooks/whatsapp/twilio";
    public const string StatusPath = WebhookPath + "/status";
    private const string SignatureHeader = "X-Twilio-Signature";

    // Twilio's form posts are a few kilobytes; 4,096 Cyrillic characters percent-encoded are under 40 KB.
    private const int MaxBody = 256 * 1024;

    // Twilio reads the webhook's answer as TwiML: an empty Response means "no reply from here" (ours go by the REST API).
    private const string EmptyTwiml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>";

    public static IServiceCollection AddTwilioProvider(this IServiceCollection services)
    {
        services.AddSingleton<TwilioApi>();
        services.AddSingleton<TwilioMedia>();
        services.AddSingleton<IFileSource>(sp => sp.GetRequiredService<TwilioMedia>());
        services.AddSingleton<WhatsAppFileLinks>();
        services.AddSingleton<TwilioStatusCallbacks>();
        services.AddSingleton<IInboundNormalizer, TwilioNormalizer>();
        services.AddSingleton<IInboundFilter, TwilioMediaFilter>();
        // Shared by both providers: whichever registers it first, it runs once.
        services.AddSingleton<IWhatsAppProvider, TwilioSender>();
        return services;
    }

    public static IEndpointRouteBuilder MapTwilioWebhook(this IEndpointRouteBuilder app)
    {
        app.MapWhatsAppFiles();
        app.MapPost(WebhookPath, async Task<IResult> (HttpContext http, IOptions<WhatsAppOptions> options, InboundProcessor processor, CancellationToken ct) =>
        {
            var settings = options.Value.Twilio;
            var (form, refused) = await ReadSignedAsync(http, settings, settings.WebhookUrl, ct);
            if (refused is not null)
                return refused;
            if (Value(form.Fields, "MessageSid") is not { } sid)
                return Problems.BadRequest("A Twilio message webhook carries MessageSid.", "MessageSid");
            // The customer is their number: a From that is none could never be answered, and would only fail later in processing.
            if (WhatsAppNumbers.ToE164(Value(form.Fields, "From")) is null)
                return Problems.BadRequest("A Twilio message webhook's From is the sender's number (whatsapp:+E.164).", "From");
            // A repeat (Twilio retries what did not get 200 in time) meets the inbound table's unique key: stored once, 200 again.
            await processor.StoreAsync(TwilioNormalizer.ToRaw(form.Body, sid), ct);
            return TypedResults.Text(EmptyTwiml, "text/xml", Encoding.UTF8);
        }).WithSummary("Twilio's incoming WhatsApp messages, signed in X-Twilio-Signature, stored before the empty TwiML answer")
            .Describes<TwilioMessageForm>();

        app.MapPost(StatusPath, async Task<IResult> (HttpContext http, IOptions<WhatsAppOptions> options, TwilioStatusCallbacks callbacks, CancellationToken ct) =>
        {
            var settings = options.Value.Twilio;
            var (form, refused) = await ReadSignedAsync(http, settings, settings.StatusCallbackUrl, ct);
            if (refused is not null)
                return refused;
            if (Value(form.Fields, "MessageSid") is not { } sid || Value(form.Fields, "MessageStatus") is not { } status)
                return Problems.BadRequest("A Twilio status callback carries MessageSid and MessageStatus.", "MessageStatus");
            await callbacks.RecordAsync(sid, status, Value(form.Fields, "ErrorCode"), ct);
            return TypedResults.Text(EmptyTwiml, "text/xml", Encoding.UTF8);
        }).WithSummary("Twilio's delivery reports of the gateway's messages, signed in X-Twilio-Signature").Describes<TwilioStatusForm>();
        return app;
    }

    /// <summary>The form a webhook reads, and what <see cref="ReadSignedAsync"/> answers.</summary>
    private static RouteHandlerBuilder Describes<TForm>(this RouteHandlerBuilder builder) where TForm : notnull => builder.WithTags("Webhooks")
        .Reads(Microsoft.OpenApi.ParameterLocation.Header, SignatureHeader)
        .Accepts<TForm>("application/x-www-form-urlencoded").ProducesText(StatusCodes.Status200OK, "text/xml")
        .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status403Forbidden, StatusCodes.Status404NotFound, StatusCodes.Status413PayloadTooLarge,
            StatusCodes.Status415UnsupportedMediaType);

    /// <summary>The fields of Twilio's messaging webhook that the gateway reads (twilio.com/docs/messaging/guides/webhook-request).</summary>
    internal sealed record TwilioMessageForm(string MessageSid, string From, string? ProfileName, string? Body, string? MessageType,
        string? ButtonText, string? ButtonPayload, string? OriginalRepliedMessageSid, int? NumMedia, string? MediaUrl0, string? MediaContentType0,
        string? Latitude, string? Longitude, string? Label, string? Address);

    /// <summary>The fields of Twilio's status callback that the gateway reads.</summary>
    internal sealed record TwilioStatusForm(string MessageSid, string MessageStatus, string? ErrorCode);

    /// <summary>The body, read up to the limit and checked against the signature before anything else happens; or the refusal.</summary>
    private static async Task<(TwilioForm Form, IResult? Refused)> ReadSignedAsync(HttpContext http, TwilioOptions settings, string? configuredUrl,
        CancellationToken cancellationToken)
    {
        if (!settings.Enabled || string.IsNullOrWhiteSpace(configuredUrl))
            return (TwilioForm.Empty, Problems.NotFound("This Twilio webhook is not configured here."));
        if (await RequestBody.ReadBytesAsync(http.Request, MaxBody, cancellationToken) is not { } bytes)
            return (TwilioForm.Empty, Problems.TooLarge("A Twilio webhook is far smaller than this body."));
        // The URL Twilio signed is the public one configured, never this request's Host (a proxy may rewrite it).
        var url = TwilioSignature.SigningUrl(configuredUrl, http.Request.QueryString.Value);
        var json = http.Request.HasJsonContentType();
        // The form is parsed once, for the signature and for the fields.
        var form = json ? [] : QueryHelpers.ParseQuery(Encoding.UTF8.GetString(bytes));
        if (!TwilioSignature.IsValid(settings.AuthToken ?? "", url, json ? bytes : null, form, http.Request.Headers[SignatureHeader].ToString()))
            return (TwilioForm.Empty, Problems.Forbidden($"Wrong or missing {SignatureHeader}."));
        if (json || !(http.Request.ContentType?.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase) ?? false))
            return (TwilioForm.Empty, Problems.UnsupportedType("application/x-www-form-urlencoded, as Twilio posts its webhooks"));
        return (new TwilioForm(bytes, TwilioForm.FirstValues(form)), null);
    }

    public static string? Value(IReadOnlyDictionary<string, string> form, string name) =>
        form.TryGetValue(name, out var value) && value.Length > 0 ? value : null;
}

/// <summary>A webhook's form body as received, and its fields (the first value of each name).</summary>
internal sealed record TwilioForm(byte[] Body, IReadOnlyDictionary<string, string> Fields)
{
    public static TwilioForm Empty { get; } = new([], new Dictionary<string, string>());

    public static IReadOnlyDictionary<string, string> Parse(byte[] body) => FirstValues(QueryHelpers.ParseQuery(Encoding.UTF8.GetString(body)));

    public static IReadOnlyDictionary<string, string> FirstValues(Dictionary<string, StringValues> form)
    {
        var fields = new Dictionary<string, string>(form.Count, StringComparer.Ordinal);
        foreach (var (name, values) in form)
            fields[name] = values.Count > 0 ? values[0] ?? "" : "";
        return fields;
    }
}

/// <summary>
/// X-Twilio-Signature through the official <see cref="RequestValidator"/>: Base64(HMAC-SHA1(auth token, URL + the
/// parameters sorted by name, each name followed by its value)), compared in constant time, with the URL also tried
/// with and without the default port. A JSON body is signed by URL alone with its SHA-256 in <c>bodySHA256</c>.
/// </summary>
internal static class TwilioSignature
{
    /// <summary>The configured public URL; a query string Twilio added (bodySHA256) is signed too, so it is kept.</summary>
    public static string SigningUrl(string configuredUrl, string? requestQuery) =>
        configuredUrl.Contains('?', StringComparison.Ordinal) || string.IsNullOrEmpty(requestQuery) ? configuredUrl : configuredUrl + requestQuery;

    public static bool IsValid(string authToken, string url, string? contentType, byte[] body, string? signature) =>
        contentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) == true
            ? IsValid(authToken, url, body, [], signature)
            : IsValid(authToken, url, null, QueryHelpers.ParseQuery(Encoding.UTF8.GetString(body)), signature);

    /// <summary>A form post's signature over its parsed <paramref name="form"/>, or a JSON body's over <paramref name="jsonBody"/>.</summary>
    public static bool IsValid(string authToken, string url, byte[]? jsonBody, Dictionary<string, StringValues> form, string? signature)
    {
        if (string.IsNullOrEmpty(authToken) || string.IsNullOrEmpty(signature))
            return false;
        var validator = Validator(authToken);
        if (jsonBody is not null)
            return validator.Validate(url, Encoding.UTF8.GetString(jsonBody), signature);
        return validator.Validate(url, Flatten(form), signature);
    }

    // A validator holds its HMAC-SHA1 and SHA-256 instances, whose creation costs more than the hash of a form, and they
    // are not safe to share between threads: one per thread, made again only when the auth token changes.
    [ThreadStatic]
    private static (string Token, RequestValidator Validator)? _perThread;

    private static RequestValidator Validator(string authToken)
    {
        if (_perThread is not { } cached || !string.Equals(cached.Token, authToken, StringComparison.Ordinal))
            _perThread = cached = (authToken, new RequestValidator(authToken));
        return cached.Validator;
    }

    /// <summary>
    /// RequestValidator takes one value per name, but Twilio signs every value of a repeated name (sorted, duplicates
    /// dropped) as name+value each; joining the values with the name between them gives it exactly that string.
    /// </summary>
    private static Dictionary<string, string> Flatten(Dictionary<string, StringValues> form)
    {
        var flat = new Dictionary<string, string>(form.Count, StringComparer.Ordinal);
        foreach (var (name, values) in form)
            flat[name] = values.Count == 1 ? values[0] ?? "" : string.Join(name, values.Select(v => v ?? "").Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));
        return flat;
    }
}
