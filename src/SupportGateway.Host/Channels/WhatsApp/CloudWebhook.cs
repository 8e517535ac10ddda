using System.Buffers;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using SupportGateway.Core.Pipeline;
using SupportGateway.Host.Http;

namespace SupportGateway.Host.Channels.WhatsApp;

/// <summary><c>X-Hub-Signature-256: sha256=&lt;hex HMAC-SHA256 of the raw body, keyed with the app secret&gt;</c>.</summary>
internal static class CloudSignature
{
    public const string Header = "X-Hub-Signature-256";

    /// <summary>
    /// Checks the bytes as they came off the wire: Meta signs its own serialisation (non-ASCII written as \uXXXX), so
    /// hashing anything parsed and written again would fail on every message with a Cyrillic letter.
    /// </summary>
    public static bool IsValid(string appSecret, ReadOnlySpan<byte> body, string? header)
    {
        const string prefix = "sha256=";
        if (header is null || !header.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) || header.Length != prefix.Length + 64)
            return false;
        Span<byte> given = stackalloc byte[32];
        if (Convert.FromHexString(header.AsSpan(prefix.Length), given, out _, out var written) != System.Buffers.OperationStatus.Done || written != 32)
            return false;
        Span<byte> expected = stackalloc byte[32];
        HMACSHA256.HashData(Encoding.UTF8.GetBytes(appSecret), body, expected);
        return CryptographicOperations.FixedTimeEquals(expected, given);
    }
}

/// <summary>
/// <c>GET /webhooks/whatsapp/cloud</c> answers Meta's verification; <c>POST</c> checks the signature on the raw bytes,
/// splits the delivery into one stored row per message and per status (so a retry of the whole POST, or one message
/// in two deliveries, is stored once by its wamid), and answers 200 once they are committed. Processing comes later.
/// </summary>
internal static class CloudWebhook
{
    /// <summary>A WhatsApp Business Account delivery (Meta's webhook payload); each change's value is stored as sent.</summary>
    internal sealed record CloudDelivery(string Object, IReadOnlyList<CloudDeliveryEntry> Entry);

    internal sealed record CloudDeliveryEntry(string Id, IReadOnlyList<CloudDeliveryChange> Changes);

    internal sealed record CloudDeliveryChange(string Field, JsonElement Value);

    public const string Path = "/webhooks/whatsapp/cloud";

    // A delivery batches at most a few hundred small events; anything near this is not one.
    private const int Limit = 4 << 20;

    public static IEndpointRouteBuilder MapCloudEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet(Path, (HttpRequest request, IOptions<WhatsAppOptions> options) =>
        {
            var cloud = options.Value.Cloud;
            if (!cloud.Enabled)
                return (IResult)Problems.NotFound("The WhatsApp Cloud API webhook is not enabled here.");
            var query = request.Query;
            return query["hub.mode"] == "subscribe" && Secrets.FixedTimeEquals(cloud.VerifyToken ?? "", query["hub.verify_token"].ToString())
                ? TypedResults.Text(query["hub.challenge"].ToString(), "text/plain")
                : Problems.Forbidden("Wrong hub.mode or hub.verify_token.");
        }).WithTags("Webhooks").WithSummary("Meta's webhook verification: hub.challenge back when hub.verify_token matches")
            .Reads(Microsoft.OpenApi.ParameterLocation.Query, "hub.mode", "hub.verify_token", "hub.challenge")
            .ProducesText(StatusCodes.Status200OK, "text/plain").ProducesProblems(StatusCodes.Status403Forbidden, StatusCodes.Status404NotFound);
        app.MapPost(Path, ReceiveAsync).WithTags("Webhooks").WithSummary("The Cloud API's deliveries, signed in X-Hub-Signature-256, stored before 200")
            .Reads(Microsoft.OpenApi.ParameterLocation.Header, CloudSignature.Header)
            .Accepts<CloudDelivery>("application/json").Produces(StatusCodes.Status200OK).ProducesProblems(StatusCodes.Status400BadRequest,
                StatusCodes.Status403Forbidden, StatusCodes.Status404NotFound, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType);
        return app;
    }

    private static async Task<IResult> ReceiveAsync(HttpContext http, IOptions<WhatsAppOptions> options, InboundProcessor processor,
        ILoggerFactory logs, CancellationToken ct)
    {
        var cloud = options.Value.Cloud;
        if (!cloud.Enabled)
            return Problems.NotFound("The WhatsApp Cloud API webhook is not enabled here.");
        if (await RequestBody.ReadBytesAsync(http.Request, Limit, ct) is not { } body)
            return Problems.TooLarge("A WhatsApp webhook delivery is far smaller than this body.");
        if (!CloudSignature.IsValid(cloud.AppSecret ?? "", body, http.Request.Headers[CloudSignature.Header].ToString() is { Length: > 0 } h ? h : null))
            return Problems.Forbidden($"Wrong or missing {CloudSignature.Header}.");
        if (!http.Request.HasJsonContentType())
            return Problems.UnsupportedType("application/json, as Meta posts its deliveries");
        List<RawInbound> rows;
        try
        {
            rows = CloudEnvelope.Split(body);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            return Problems.BadRequest("The body is not a WhatsApp Business Account webhook.", "entry");
        }
        // Stored together, they share one commit.
        await Task.WhenAll(rows.Select(row => processor.StoreAsync(row, ct)));
        if (rows.Count == 0)
            logs.CreateLogger(typeof(CloudWebhook)).LogDebug("A WhatsApp Cloud delivery with no messages or statuses");
        return TypedResults.Ok();
    }

}

/// <summary>
/// What one stored row holds: one message (or one status) of a delivery with the <c>metadata</c> and the
/// <c>contacts</c> entry of its sender, copied byte for byte from the signed body:
/// <c>{"metadata":{…},"contact":{…},"message":{…}}</c> or <c>{"metadata":{…},"status":{…}}</c>.
/// </summary>
internal static class CloudEnvelope
{
    public const string Format = "whatsapp.cloud";

    /// <summary>The Groups API's webhook fields: each item of their <c>value.groups[]</c> is one stored row.</summary>
    public static readonly IReadOnlySet<string> GroupFields = new HashSet<string>(StringComparer.Ordinal)
    {
        "group_lifecycle_update", "group_participants_update", "group_settings_update", "group_status_update",
    };

    /// <summary>Meta's message and status events (field "messages") and the group events; echoes are for a later slice.</summary>
    public static List<RawInbound> Split(byte[] body)
    {
        using var json = JsonDocument.Parse(body);
        var rows = new List<RawInbound>();
        foreach (var entry in json.RootElement.GetProperty("entry").EnumerateArray())
        {
            if (!entry.TryGetProperty("changes", out var changes))
                continue;
            foreach (var change in changes.EnumerateArray())
            {
                var name = change.TryGetProperty("field", out var field) ? field.GetString() : "messages";
                if (!change.TryGetProperty("value", out var value) || name != "messages" && !GroupFields.Contains(name ?? ""))
                    continue;
                var metadata = value.TryGetProperty("metadata", out var m) ? m : default;
                if (name != "messages")
                {
                    foreach (var group in Items(value, "groups"))
                    {
                        // Meta gives a group event no id of its own: the event's own bytes are its identity, so a retry is stored once.
                        var raw = JsonMarshal.GetRawUtf8Value(group);
                        var hash = SHA256.HashData([.. Encoding.UTF8.GetBytes(name + "\n"), .. raw]);
                        var id = "wa:group:" + Convert.ToHexStringLower(hash)[..32];
                        rows.Add(Row(id, metadata, ",\"field\":"u8, Encoding.UTF8.GetBytes(JsonSerializer.Serialize(name)), ",\"group\":"u8, raw));
                    }
                    continue;
                }
                foreach (var message in Items(value, "messages"))
                {
                    var from = message.TryGetProperty("from", out var f) ? f.GetString() : null;
                    var contact = Items(value, "contacts").FirstOrDefault(c => c.TryGetProperty("wa_id", out var w) && w.ValueEquals(from));
                    rows.Add(Row("wa:" + message.GetProperty("id").GetString(), metadata,
                        ",\"contact\":"u8, contact.ValueKind == JsonValueKind.Object ? JsonMarshal.GetRawUtf8Value(contact) : "null"u8,
                        ",\"message\":"u8, JsonMarshal.GetRawUtf8Value(message)));
                }
                foreach (var status in Items(value, "statuses"))
                {
                    // Each state of a sent message is its own event: "sent", then "delivered", then "read"; in a group, for each member.
                    var id = $"wa:{status.GetProperty("id").GetString()}:{status.GetProperty("status").GetString()}";
                    if (status.TryGetProperty("recipient_participant_id", out var participant) || status.TryGetProperty("participant_recipient_id", out participant))
                        id += ":" + participant.GetString();
                    rows.Add(Row(id, metadata, ",\"status\":"u8, JsonMarshal.GetRawUtf8Value(status)));
                }
            }
        }
        return rows;
    }

    private static IEnumerable<JsonElement> Items(JsonElement value, string name) =>
        value.TryGetProperty(name, out var items) && items.ValueKind == JsonValueKind.Array ? items.EnumerateArray() : [];

    /// <summary>
    /// A row's payload <c>{"metadata":…,"name":…}</c>, the parts copied as the signed body's own UTF-8 bytes (no string
    /// of each part is made): the metadata, then each part's <c>,"name":</c> prefix and its value.
    /// </summary>
    private static RawInbound Row(string externalId, JsonElement metadata, ReadOnlySpan<byte> name1, ReadOnlySpan<byte> value1,
        ReadOnlySpan<byte> name2 = default, ReadOnlySpan<byte> value2 = default)
    {
        var meta = metadata.ValueKind == JsonValueKind.Object ? JsonMarshal.GetRawUtf8Value(metadata) : "{}"u8;
        var payload = new ArrayBufferWriter<byte>(meta.Length + value1.Length + value2.Length + 48);
        payload.Write("{\"metadata\":"u8);
        payload.Write(meta);
        payload.Write(name1);
        payload.Write(value1);
        payload.Write(name2);
        payload.Write(value2);
        payload.Write("}"u8);
        return new(WhatsAppChannel.Name, externalId, Format, payload.WrittenSpan.ToArray());
    }
}
