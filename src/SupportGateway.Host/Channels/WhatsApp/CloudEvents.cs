using System.Text.Json.Serialization;

namespace SupportGateway.Host.Channels.WhatsApp;

// The Cloud API's webhook objects (entry[].changes[].value with field "messages"), the fields we read. Unknown fields
// and unknown message types parse; a type we do not know becomes a note in the ticket, never an error.

/// <summary>One stored row: see <see cref="CloudEnvelope"/>.</summary>
internal sealed record CloudRow
{
    [JsonPropertyName("metadata")] public CloudMetadata? Metadata { get; init; }
    [JsonPropertyName("contact")] public CloudContact? Contact { get; init; }
    [JsonPropertyName("message")] public CloudMessage? Message { get; init; }
    [JsonPropertyName("status")] public CloudStatus? Status { get; init; }

    /// <summary>A group event's webhook field (<c>group_lifecycle_update</c>, <c>group_participants_update</c>, …).</summary>
    [JsonPropertyName("field")] public string? Field { get; init; }

    [JsonPropertyName("group")] public CloudGroupEvent? Group { get; init; }
}

internal sealed record CloudMetadata
{
    [JsonPropertyName("phone_number_id")] public string? PhoneNumberId { get; init; }
    [JsonPropertyName("display_phone_number")] public string? DisplayPhoneNumber { get; init; }
}

internal sealed record CloudContact
{
    [JsonPropertyName("wa_id")] public string? WaId { get; init; }
    [JsonPropertyName("profile")] public CloudProfile? Profile { get; init; }
}

internal sealed record CloudProfile([property: JsonPropertyName("name")] string? Name);

internal sealed record CloudMessage
{
    [JsonPropertyName("id")] public string Id { get; init; } = "";
    [JsonPropertyName("from")] public string? From { get; init; }

    /// <summary>Set when the message was written in a group (Groups API); <see cref="From"/> is then the member who wrote it.</summary>
    [JsonPropertyName("group_id")] public string? GroupId { get; init; }
    [JsonPropertyName("timestamp")] public string? Timestamp { get; init; }
    [JsonPropertyName("type")] public string? Type { get; init; }
    [JsonPropertyName("context")] public CloudMessageContext? Context { get; init; }
    [JsonPropertyName("text")] public CloudInboundText? Text { get; init; }
    [JsonPropertyName("image")] public CloudInboundMedia? Image { get; init; }
    [JsonPropertyName("video")] public CloudInboundMedia? Video { get; init; }
    [JsonPropertyName("audio")] public CloudInboundMedia? Audio { get; init; }
    [JsonPropertyName("voice")] public CloudInboundMedia? Voice { get; init; }
    [JsonPropertyName("document")] public CloudInboundMedia? Document { get; init; }
    [JsonPropertyName("sticker")] public CloudInboundMedia? Sticker { get; init; }
    [JsonPropertyName("location")] public CloudLocation? Location { get; init; }
    [JsonPropertyName("contacts")] public IReadOnlyList<CloudCard>? Contacts { get; init; }
    [JsonPropertyName("interactive")] public CloudInboundInteractive? Interactive { get; init; }
    [JsonPropertyName("button")] public CloudInboundButton? Button { get; init; }
    [JsonPropertyName("reaction")] public CloudReaction? Reaction { get; init; }
    [JsonPropertyName("edit")] public CloudEdit? Edit { get; init; }
    [JsonPropertyName("revoke")] public CloudRevoke? Revoke { get; init; }
    [JsonPropertyName("system")] public CloudSystem? System { get; init; }
    [JsonPropertyName("errors")] public IReadOnlyList<CloudError>? Errors { get; init; }
}

internal sealed record CloudMessageContext
{
    [JsonPropertyName("id")] public string? Id { get; init; }
    [JsonPropertyName("forwarded")] public bool Forwarded { get; init; }
    [JsonPropertyName("frequently_forwarded")] public bool FrequentlyForwarded { get; init; }
}

internal sealed record CloudInboundText([property: JsonPropertyName("body")] string? Body);

internal sealed record CloudInboundMedia
{
    [JsonPropertyName("id")] public string? Id { get; init; }
    [JsonPropertyName("mime_type")] public string? MimeType { get; init; }
    [JsonPropertyName("caption")] public string? Caption { get; init; }
    [JsonPropertyName("filename")] public string? FileName { get; init; }
    [JsonPropertyName("voice")] public bool Voice { get; init; }
}

internal sealed record CloudLocation
{
    [JsonPropertyName("latitude")] public double Latitude { get; init; }
    [JsonPropertyName("longitude")] public double Longitude { get; init; }
    [JsonPropertyName("name")] public string? Name { get; init; }
    [JsonPropertyName("address")] public string? Address { get; init; }
}

internal sealed record CloudCard
{
    [JsonPropertyName("name")] public CloudCardName? Name { get; init; }
    [JsonPropertyName("phones")] public IReadOnlyList<CloudCardPhone>? Phones { get; init; }
    [JsonPropertyName("emails")] public IReadOnlyList<CloudCardEmail>? Emails { get; init; }
}

internal sealed record CloudCardName([property: JsonPropertyName("formatted_name")] string? FormattedName);

internal sealed record CloudCardPhone([property: JsonPropertyName("phone")] string? Phone);

internal sealed record CloudCardEmail([property: JsonPropertyName("email")] string? Email);

internal sealed record CloudInboundInteractive
{
    [JsonPropertyName("type")] public string? Type { get; init; }
    [JsonPropertyName("button_reply")] public CloudChoice? ButtonReply { get; init; }
    [JsonPropertyName("list_reply")] public CloudChoice? ListReply { get; init; }
}

internal sealed record CloudChoice([property: JsonPropertyName("id")] string? Id, [property: JsonPropertyName("title")] string? Title);

/// <summary>A template's quick-reply button: its payload is what we set as the button's id.</summary>
internal sealed record CloudInboundButton([property: JsonPropertyName("payload")] string? Payload, [property: JsonPropertyName("text")] string? Text);

/// <summary>An empty or absent emoji takes a reaction back.</summary>
internal sealed record CloudReaction([property: JsonPropertyName("message_id")] string? MessageId, [property: JsonPropertyName("emoji")] string? Emoji);

internal sealed record CloudEdit([property: JsonPropertyName("original_message_id")] string? OriginalMessageId,
    [property: JsonPropertyName("message")] CloudMessage? Message);

internal sealed record CloudRevoke([property: JsonPropertyName("original_message_id")] string? OriginalMessageId);

internal sealed record CloudSystem([property: JsonPropertyName("body")] string? Body, [property: JsonPropertyName("type")] string? Type);

internal sealed record CloudError
{
    [JsonPropertyName("code")] public int Code { get; init; }
    [JsonPropertyName("title")] public string? Title { get; init; }
    [JsonPropertyName("message")] public string? Message { get; init; }
    [JsonPropertyName("error_data")] public CloudErrorData? Data { get; init; }

    public override string ToString() => $"{Code} {Title ?? Message}{(Data?.Details is { Length: > 0 } d ? ": " + d : "")}";
}

internal sealed record CloudErrorData([property: JsonPropertyName("details")] string? Details);

/// <summary>What became of a message we sent: sent, delivered, read (played for voice), or failed with errors.</summary>
internal sealed record CloudStatus
{
    [JsonPropertyName("id")] public string Id { get; init; } = "";
    [JsonPropertyName("status")] public string? Status { get; init; }
    [JsonPropertyName("timestamp")] public string? Timestamp { get; init; }
    [JsonPropertyName("recipient_id")] public string? RecipientId { get; init; }
    [JsonPropertyName("errors")] public IReadOnlyList<CloudError>? Errors { get; init; }
}

/// <summary>
/// One item of <c>value.groups[]</c> in the Groups API's webhooks: <c>group_create</c> and <c>group_delete</c>
/// (<c>group_lifecycle_update</c>), <c>group_participants_add</c>, <c>group_participants_remove</c>,
/// <c>group_join_request_created</c> and <c>_revoked</c> (<c>group_participants_update</c>),
/// <c>group_settings_update</c>, <c>group_suspend</c> and <c>group_suspend_cleared</c> (<c>group_status_update</c>).
/// A failure carries <c>errors</c>; there is no other status flag.
/// </summary>
internal sealed record CloudGroupEvent
{
    [JsonPropertyName("type")] public string? Type { get; init; }
    [JsonPropertyName("group_id")] public string? GroupId { get; init; }
    [JsonPropertyName("request_id")] public string? RequestId { get; init; }
    [JsonPropertyName("subject")] public string? Subject { get; init; }
    [JsonPropertyName("invite_link")] public string? InviteLink { get; init; }
    [JsonPropertyName("join_approval_mode")] public string? JoinApprovalMode { get; init; }
    [JsonPropertyName("reason")] public string? Reason { get; init; }
    [JsonPropertyName("initiated_by")] public string? InitiatedBy { get; init; }
    [JsonPropertyName("join_request_id")] public string? JoinRequestId { get; init; }
    [JsonPropertyName("wa_id")] public string? WaId { get; init; }
    [JsonPropertyName("added_participants")] public IReadOnlyList<CloudParticipant>? Added { get; init; }
    [JsonPropertyName("removed_participants")] public IReadOnlyList<CloudParticipant>? Removed { get; init; }
    [JsonPropertyName("failed_participants")] public IReadOnlyList<CloudParticipant>? Failed { get; init; }
    [JsonPropertyName("errors")] public IReadOnlyList<CloudError>? Errors { get; init; }
}

/// <summary>A participant as Meta names one: <c>wa_id</c>, and <c>input</c> as the business wrote it when it removed them.</summary>
internal sealed record CloudParticipant([property: JsonPropertyName("wa_id")] string? WaId, [property: JsonPropertyName("input")] string? Input)
{
    [JsonIgnore] public string? Number => WhatsAppNumbers.ToE164(WaId ?? Input) ?? WaId ?? Input;
}
