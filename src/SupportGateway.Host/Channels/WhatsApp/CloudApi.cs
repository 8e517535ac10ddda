using System.Text.Json.Serialization;

namespace SupportGateway.Host.Channels.WhatsApp;

// Meta's Graph API for WhatsApp (the Cloud API), the subset a support gateway needs. Records keep only the fields we
// read or send; unknown fields in answers are ignored, so newer API versions parse.

/// <summary>
/// One Graph API call: its HTTP method, its path under <c>/{version}/</c> (or an absolute URL, as a media download is)
/// and the type of its answer. The record itself is the JSON body of a POST.
/// </summary>
public interface ICloudRequest<TResponse>
{
    [JsonIgnore] HttpMethod Method { get; }

    [JsonIgnore] string Path { get; }

    /// <summary>The WhatsApp user a sending call writes to, for per-recipient pacing; null for others.</summary>
    [JsonIgnore] string? Recipient => null;

    /// <summary>
    /// False for a call that must not be repeated after a failure that may have done it (a 5xx, a timeout): creating a
    /// group twice makes two groups. A rate-limit refusal did nothing and is waited out all the same.
    /// </summary>
    [JsonIgnore] bool Idempotent => true;
}

/// <summary>The Graph API refused: <see cref="Code"/> is <c>error.code</c> (131047, 130429, …), <see cref="Status"/> the HTTP status.</summary>
public sealed class CloudApiException(string call, int status, int code, string message, string? details)
    : Exception($"{call}: {status} ({code}) {message}{(details is { Length: > 0 } ? ": " + details : "")}")
{
    /// <summary>More than 24 hours since the customer's last message: only a template may go out.</summary>
    public const int OutsideWindow = 131047;

    /// <summary>The business number's throughput is exceeded.</summary>
    public const int Throughput = 130429;

    /// <summary>Too many messages to one user in a short time (the pair rate limit).</summary>
    public const int PairRate = 131056;

    public int Status { get; } = status;

    public int Code { get; } = code;

    public string? Details { get; } = details;

    /// <summary>Waiting helps: rate limits, HTTP 429 and the server's own failures. Every other 4xx will not get better.</summary>
    public bool Transient => Code is Throughput or PairRate || Status == 429 || Status >= 500;
}

public sealed record CloudText([property: JsonPropertyName("body")] string Body)
{
    [JsonPropertyName("preview_url")] public bool PreviewUrl { get; init; }
}

/// <summary>The body of an interactive message: <c>{"text": …}</c>, unlike a text message's <c>{"body": …}</c>.</summary>
public sealed record CloudBody([property: JsonPropertyName("text")] string Text);

public sealed record CloudContext([property: JsonPropertyName("message_id")] string MessageId);

public sealed record CloudReply([property: JsonPropertyName("id")] string Id, [property: JsonPropertyName("title")] string Title);

public sealed record CloudButton([property: JsonPropertyName("reply")] CloudReply Reply)
{
    [JsonPropertyName("type")] public string Type => "reply";
}

public sealed record CloudAction([property: JsonPropertyName("buttons")] IReadOnlyList<CloudButton> Buttons);

/// <summary>An interactive "button" message: a body of at most 1,024 characters and up to 3 reply buttons (titles ≤ 20).</summary>
public sealed record CloudInteractive([property: JsonPropertyName("body")] CloudBody Body, [property: JsonPropertyName("action")] CloudAction Action)
{
    [JsonPropertyName("type")] public string Type => "button";

    public const int MaxBody = 1024;
}

/// <summary>A media object sent by the id an upload returned.</summary>
public sealed record CloudMediaObject([property: JsonPropertyName("id")] string Id)
{
    [JsonPropertyName("caption")] public string? Caption { get; init; }
    [JsonPropertyName("filename")] public string? FileName { get; init; }
}

/// <summary>
/// <c>POST /{phone-number-id}/messages</c>: one message to one user, <see cref="To"/> the number without "+"; or to a
/// group (Groups API), <see cref="To"/> then its reply address <c>group:{group-id}</c>, sent as <c>recipient_type:
/// "group"</c> with the group id.
/// </summary>
public sealed record SendMessage([property: JsonIgnore] string PhoneNumberId, [property: JsonIgnore] string To,
    [property: JsonPropertyName("type")] string Type) : ICloudRequest<SentMessages>
{
    [JsonIgnore] public HttpMethod Method => HttpMethod.Post;
    [JsonIgnore] public string Path => $"{PhoneNumberId}/messages";
    string? ICloudRequest<SentMessages>.Recipient => To;

    [JsonPropertyName("messaging_product")] public string MessagingProduct => "whatsapp";
    [JsonPropertyName("recipient_type")] public string RecipientType => WhatsAppNumbers.GroupOf(To) is null ? "individual" : "group";
    [JsonPropertyName("to")] public string WireTo => WhatsAppNumbers.GroupOf(To) ?? To;
    [JsonPropertyName("context")] public CloudContext? Context { get; init; }
    [JsonPropertyName("text")] public CloudText? Text { get; init; }
    [JsonPropertyName("interactive")] public CloudInteractive? Interactive { get; init; }
    [JsonPropertyName("image")] public CloudMediaObject? Image { get; init; }
    [JsonPropertyName("document")] public CloudMediaObject? Document { get; init; }
    [JsonPropertyName("audio")] public CloudMediaObject? Audio { get; init; }
    [JsonPropertyName("video")] public CloudMediaObject? Video { get; init; }
    [JsonPropertyName("template")] public CloudTemplate? Template { get; init; }

    public const int MaxText = 4096;
}

/// <summary>An approved message template: the only message allowed outside the 24-hour window.</summary>
public sealed record CloudTemplate([property: JsonPropertyName("name")] string Name, [property: JsonPropertyName("language")] CloudLanguage Language,
    [property: JsonPropertyName("components")] IReadOnlyList<CloudComponent> Components);

public sealed record CloudLanguage([property: JsonPropertyName("code")] string Code);

public sealed record CloudComponent([property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("parameters")] IReadOnlyList<CloudParameter> Parameters);

public sealed record CloudParameter([property: JsonPropertyName("type")] string Type, [property: JsonPropertyName("text")] string Text);

public sealed record SentMessage([property: JsonPropertyName("id")] string Id);

public sealed record SentMessages
{
    [JsonPropertyName("messages")] public IReadOnlyList<SentMessage> Messages { get; init; } = [];
}

/// <summary><c>GET /{media-id}</c>: where a customer's file can be fetched (with the same bearer token); ids and URLs expire.</summary>
public sealed record GetMedia([property: JsonIgnore] string MediaId) : ICloudRequest<MediaInfo>
{
    [JsonIgnore] public HttpMethod Method => HttpMethod.Get;
    [JsonIgnore] public string Path => Uri.EscapeDataString(MediaId);
}

public sealed record MediaInfo
{
    [JsonPropertyName("id")] public string Id { get; init; } = "";
    [JsonPropertyName("url")] public string? Url { get; init; }
    [JsonPropertyName("mime_type")] public string? MimeType { get; init; }

    // Documented as a string in some answers and a number in others.
    [JsonPropertyName("file_size"), JsonNumberHandling(JsonNumberHandling.AllowReadingFromString)] public long? FileSize { get; init; }
}

/// <summary>The bytes at a media URL that <see cref="GetMedia"/> gave; the answer is the file itself, not JSON.</summary>
public sealed record DownloadMedia([property: JsonIgnore] string Url) : ICloudRequest<byte[]>
{
    [JsonIgnore] public HttpMethod Method => HttpMethod.Get;
    [JsonIgnore] public string Path => Url;

    /// <summary>The Cloud API's largest media (documents).</summary>
    public const long MaxSize = 100L * 1024 * 1024;
}

/// <summary><c>POST /{phone-number-id}/media</c> (multipart): an agent's file, to be sent by the id it returns.</summary>
public sealed record UploadMedia([property: JsonIgnore] string PhoneNumberId, [property: JsonIgnore] string FileName,
    [property: JsonIgnore] string ContentType, [property: JsonIgnore] byte[] Content) : ICloudRequest<UploadedMedia>
{
    [JsonIgnore] public HttpMethod Method => HttpMethod.Post;
    [JsonIgnore] public string Path => $"{PhoneNumberId}/media";
}

public sealed record UploadedMedia([property: JsonPropertyName("id")] string Id);

/// <summary>
/// <c>POST /{phone-number-id}/groups</c> (Groups API, Official Business Accounts only): asks for a new group. Meta
/// answers with a request id only; the group id and its invite link come in a <c>group_lifecycle_update</c> webhook.
/// </summary>
public sealed record CreateGroup([property: JsonIgnore] string PhoneNumberId, [property: JsonPropertyName("subject")] string Subject)
    : ICloudRequest<GroupRequested>
{
    [JsonIgnore] public HttpMethod Method => HttpMethod.Post;
    [JsonIgnore] public string Path => $"{PhoneNumberId}/groups";
    bool ICloudRequest<GroupRequested>.Idempotent => false;

    [JsonPropertyName("messaging_product")] public string MessagingProduct => "whatsapp";

    /// <summary>At most 2,048 characters.</summary>
    [JsonPropertyName("description")] public string? Description { get; init; }

    /// <summary><c>auto_approve</c> (Meta's default) or <c>approval_required</c>.</summary>
    [JsonPropertyName("join_approval_mode")] public string? JoinApprovalMode { get; init; }

    public const int MaxSubject = 128;
    public const int MaxDescription = 2048;

    /// <summary>Meta's limit of participants in a group.</summary>
    public const int MaxParticipants = 8;
}

public sealed record GroupRequested
{
    [JsonPropertyName("request_id")] public string? RequestId { get; init; }
}

/// <summary><c>GET /{group-id}/invite_link</c>: the group's current link, <c>https://chat.whatsapp.com/…</c>.</summary>
public sealed record GetInviteLink([property: JsonIgnore] string GroupId) : ICloudRequest<InviteLink>
{
    [JsonIgnore] public HttpMethod Method => HttpMethod.Get;
    [JsonIgnore] public string Path => $"{Uri.EscapeDataString(GroupId)}/invite_link";
}

public sealed record InviteLink
{
    [JsonPropertyName("invite_link")] public string? Link { get; init; }
}
