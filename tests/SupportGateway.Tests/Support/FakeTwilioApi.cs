using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace SupportGateway.Tests.Support;

/// <summary>
/// A stand-in for api.twilio.com on loopback, speaking the documented REST format: <c>POST
/// /2010-04-01/Accounts/{AccountSid}/Messages.json</c> with HTTP basic auth (AccountSid:AuthToken) and form fields
/// To, From, Body, MediaUrl, StatusCallback, answering 201 with the Message resource as JSON, or an error as
/// <c>{"code","message","more_info","status"}</c>. Media of inbound messages is served at its MediaUrl path with basic
/// auth. A message's MediaUrl is fetched as Twilio fetches it (a plain GET, up to 10 per message) and what came back
/// is kept in <see cref="Fetched"/>. Faults can be scheduled: errors for the next sends, failures for a media file's
/// next downloads.
/// </summary>
internal sealed class FakeTwilioApi : IAsyncDisposable
{
    public const string AccountSid = "AC00000000000000000000000000000000";
    public const string AuthToken = "12345";

    private readonly WebApplication _app;
    private readonly string _authToken;
    private long _nextSid;

    /// <summary>A double that accepts <paramref name="authToken"/> (a distinctive one lets a test look for it in logs).</summary>
    public FakeTwilioApi(string authToken = AuthToken)
    {
        _authToken = authToken;
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.Use(async (context, next) =>
        {
            if (Unreachable)
                context.Abort();
            else
                await next(context);
        });
        _app.MapPost("/2010-04-01/Accounts/{account}/Messages.json", CreateAsync);
        // Fetch an Account: its own record with the account's credentials, 401 with any other.
        _app.MapGet("/2010-04-01/Accounts/{account}.json", (string account, HttpRequest request) => Authorized(account, request)
            ? Results.Json(new Dictionary<string, object> { ["sid"] = account, ["friendly_name"] = "Test account", ["status"] = "active", ["type"] = "Full" })
            : Error(401, 20003, "Authenticate"));
        _app.MapGet("/2010-04-01/Accounts/{account}/Messages/{message}/Media/{media}", (string account, string media, HttpRequest request) =>
        {
            if (!Authorized(account, request))
                return Error(401, 20003, "Authenticate");
            MediaRequests.Enqueue(media);
            if (MediaFailures.TryGetValue(media, out var left) && left > 0)
            {
                MediaFailures[media] = left - 1;
                return Results.StatusCode(503);
            }
            return Media.TryGetValue(media, out var file) ? Results.Bytes(file.Content, file.ContentType) : Error(404, 20404, "The requested resource was not found");
        });
        _app.StartAsync().GetAwaiter().GetResult();
    }

    /// <summary>While set, every connection is dropped before an answer: the API is unreachable.</summary>
    public bool Unreachable { get; set; }

    public string BaseUrl => _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    /// <summary>Every message created, as its form fields (MediaUrl may repeat: its values are joined with a space).</summary>
    public ConcurrentQueue<Dictionary<string, string>> Messages { get; } = new();

    /// <summary>Answers for the next sends instead of success: (HTTP status, Twilio error code).</summary>
    public ConcurrentQueue<(int Status, int Code)> Faults { get; } = new();

    /// <summary>Inbound media by its sid (ME…), served with its content type.</summary>
    public ConcurrentDictionary<string, (byte[] Content, string ContentType)> Media { get; } = new();

    /// <summary>How many more downloads of a media sid fail with 503 before it is served.</summary>
    public ConcurrentDictionary<string, int> MediaFailures { get; } = new();

    public ConcurrentQueue<string> MediaRequests { get; } = new();

    /// <summary>How the double reaches a MediaUrl: the gateway's own handler in a test (its public host is not resolvable).</summary>
    public HttpClient MediaFetcher { get; set; } = new();

    /// <summary>What fetching each MediaUrl gave: status, Content-Type, Content-Disposition and the bytes.</summary>
    public ConcurrentQueue<FetchedMedia> Fetched { get; } = new();

    internal sealed record FetchedMedia(string Url, int Status, string? ContentType, string? ContentDisposition, byte[] Content);

    private async Task<IResult> CreateAsync(string account, HttpRequest request)
    {
        if (!Authorized(account, request))
            return Error(401, 20003, "Authenticate");
        var form = await request.ReadFormAsync();
        if (Faults.TryDequeue(out var fault))
            return Error(fault.Status, fault.Code, $"Fault {fault.Code} scheduled by the test");
        var fields = form.ToDictionary(f => f.Key, f => string.Join(' ', f.Value.ToArray()));
        if (!fields.TryGetValue("To", out var to) || !fields.ContainsKey("From"))
            return Error(400, 21604, "A 'To' phone number is required.");
        var media = form["MediaUrl"].OfType<string>().ToList();
        if (media.Count > 10)
            return Error(400, 21623, "Number of media files exceeds allowed limit");
        if (!fields.ContainsKey("Body") && !fields.ContainsKey("ContentSid") && media.Count == 0)
            return Error(400, 21602, "Message body is required.");
        fields.TryAdd("Body", "");
        foreach (var url in media)
        {
            using var fetched = await MediaFetcher.GetAsync(url);
            Fetched.Enqueue(new FetchedMedia(url, (int)fetched.StatusCode, fetched.Content.Headers.ContentType?.ToString(),
                fetched.Content.Headers.ContentDisposition?.ToString(), await fetched.Content.ReadAsByteArrayAsync()));
        }
        var sid = $"SM{Interlocked.Increment(ref _nextSid):x32}";
        fields["_sid"] = sid;
        Messages.Enqueue(fields);
        var message = new JsonObject
        {
            ["account_sid"] = account,
            ["api_version"] = "2010-04-01",
            ["body"] = fields.GetValueOrDefault("Body"),
            ["direction"] = "outbound-api",
            ["error_code"] = null,
            ["error_message"] = null,
            ["from"] = fields["From"],
            ["to"] = to,
            ["num_media"] = "0",
            ["num_segments"] = "1",
            ["sid"] = sid,
            ["status"] = "queued",
            ["uri"] = $"/2010-04-01/Accounts/{account}/Messages/{sid}.json",
        };
        return Results.Text(message.ToJsonString(), "application/json", Encoding.UTF8, 201);
    }

    private bool Authorized(string account, HttpRequest request) =>
        account == AccountSid
        && request.Headers.Authorization.ToString() == "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{AccountSid}:{_authToken}"));

    private static IResult Error(int status, int code, string message) =>
        Results.Text(new JsonObject { ["code"] = code, ["message"] = message, ["more_info"] = $"https://www.twilio.com/docs/errors/{code}", ["status"] = status }
            .ToJsonString(), "application/json", Encoding.UTF8, status);

    /// <summary>
    /// X-Twilio-Signature as Twilio computes it, written here from the documented algorithm (not through the SDK):
    /// Base64(HMAC-SHA1(token, url + each parameter name and value, sorted by name)).
    /// </summary>
    public static string Sign(string url, IEnumerable<KeyValuePair<string, string>> parameters, string token = AuthToken)
    {
        var text = new StringBuilder(url);
        foreach (var (name, value) in parameters.OrderBy(p => p.Key, StringComparer.Ordinal))
            text.Append(name).Append(value);
        return Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(token), Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>The fields of an inbound WhatsApp message as Twilio posts them.</summary>
    public static Dictionary<string, string> Inbound(string sid, string from, string body, string? profileName = "Jane Doe") => new()
    {
        ["SmsMessageSid"] = sid,
        ["SmsSid"] = sid,
        ["MessageSid"] = sid,
        ["AccountSid"] = AccountSid,
        ["NumMedia"] = "0",
        ["ProfileName"] = profileName ?? "",
        ["WaId"] = from.TrimStart('+'),
        ["SmsStatus"] = "received",
        ["To"] = "whatsapp:+14155238886",
        ["From"] = "whatsapp:" + from,
        ["NumSegments"] = "1",
        ["ApiVersion"] = "2010-04-01",
        ["MessageType"] = "text",
        ["Body"] = body,
    };

    /// <summary>A webhook delivery as Twilio posts it: the form, signed for the public URL the gateway is configured with.</summary>
    public static HttpRequestMessage WebhookRequest(string signedUrl, Dictionary<string, string> fields, string token = AuthToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/whatsapp/twilio") { Content = new FormUrlEncodedContent(fields) };
        request.Headers.Add("X-Twilio-Signature", Sign(signedUrl, fields, token));
        return request;
    }

    public static string MediaUrl(string messageSid, string mediaSid) =>
        $"https://api.twilio.com/2010-04-01/Accounts/{AccountSid}/Messages/{messageSid}/Media/{mediaSid}";

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
