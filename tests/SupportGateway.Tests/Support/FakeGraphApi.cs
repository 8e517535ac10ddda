using System.Collections.Concurrent;
using System.Net;
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
/// A stand-in for graph.facebook.com on loopback, speaking the Cloud API's documented JSON and checking the bearer
/// token on every call: <c>POST /{version}/{phone-number-id}/messages</c> answers
/// <c>{"messaging_product":"whatsapp","contacts":[…],"messages":[{"id":"wamid…"}]}</c>; <c>GET /{version}/{media-id}</c>
/// gives a URL on this server, fetched with the same token; errors are <c>{"error":{"message","type","code",…}}</c>.
/// <c>POST /{version}/{phone-number-id}/media</c> takes an upload as Meta documents it (multipart: messaging_product, type,
/// file), and a media message must name an uploaded id (a document its filename).
/// Faults can be scheduled: a closed 24-hour window per recipient, throughput errors, failing downloads.
/// The Groups API too: <c>POST /{version}/{phone-number-id}/groups</c> answers <c>{"messaging_product","request_id"}</c>
/// and then, as Meta does, tells the group's id and invite link by a signed <c>group_lifecycle_update</c> webhook
/// (<see cref="Webhook"/>); <c>GET /{version}/{group-id}/invite_link</c>; a message to a group
/// (<c>recipient_type: "group"</c>) takes text and media, not interactive messages; participants joining and
/// leaving, and a deletion, are webhooks a test sends (<see cref="JoinAsync"/>, <see cref="LeaveAsync"/>, <see cref="DeleteGroupAsync"/>).
/// </summary>
internal sealed class FakeGraphApi : IAsyncDisposable
{
    public const string Token = "EAAG-test-access-token-never-logged";
    public const string PhoneNumberId = "106540352242922";
    public const string Version = "v21.0";

    private readonly WebApplication _app;
    private long _nextMessage = 5000;

    public FakeGraphApi()
    {
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
        _app.MapPost("/{version}/{phone}/messages", SendAsync);
        _app.MapPost("/{version}/{phone}/media", UploadAsync);
        _app.MapGet("/media-files/{id}", Download);
        _app.MapGet("/{version}/{mediaId}", MediaInfo);
        _app.MapPost("/{version}/{phone}/groups", CreateGroupAsync);
        _app.MapGet("/{version}/{groupId}/invite_link", InviteLink);
        _app.StartAsync().GetAwaiter().GetResult();
    }

    /// <summary>While set, every connection is dropped before an answer: the API is unreachable.</summary>
    public bool Unreachable { get; set; }

    public string BaseUrl => _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    /// <summary>Every message sent, as its JSON body with "_id" (the wamid answered) added.</summary>
    public ConcurrentQueue<JsonObject> Messages { get; } = new();

    /// <summary>Customers' files: media id to (content type, bytes).</summary>
    public ConcurrentDictionary<string, (string Type, byte[] Content)> Files { get; } = new();

    /// <summary>Recipients (digits) more than 24 hours past their last message: sending gets 131047.</summary>
    public ConcurrentDictionary<string, bool> WindowClosed { get; } = new();

    /// <summary>This many sends answer 130429 (throughput) before they succeed again.</summary>
    public int ThroughputErrorsLeft { get; set; }

    /// <summary>This many file downloads answer 500 before they succeed.</summary>
    public int DownloadFailuresLeft { get; set; }

    public int Unauthorized { get; private set; }

    /// <summary>How the double reaches the gateway's webhook (signed as Meta signs), for the Groups API's webhooks.</summary>
    public Func<JsonObject, Task<HttpResponseMessage>>? Webhook { get; set; }

    /// <summary>Groups created: group id to its subject and invite link.</summary>
    public ConcurrentDictionary<string, (string Subject, string InviteLink, string RequestId)> Groups { get; } = new();

    /// <summary>Every group creation asked for, as its JSON body.</summary>
    public ConcurrentQueue<JsonObject> GroupRequests { get; } = new();

    /// <summary>When set, creating a group fails at once with this Graph error code (131215: the business is not eligible, no Official Business Account).</summary>
    public int? CreateGroupError { get; set; }

    /// <summary>When set, Meta creates the group but reports the failure by webhook with this code.</summary>
    public int? CreateGroupFailsLater { get; set; }

    /// <summary>The lifecycle webhook goes before the answer to the request (Meta is quicker than the caller's bookkeeping).</summary>
    public bool WebhookBeforeAnswer { get; set; }

    /// <summary>No lifecycle webhook is sent until <see cref="SendHeldLifecycleAsync"/>.</summary>
    public bool HoldLifecycleWebhook { get; set; }

    /// <summary>The lifecycle webhook carries no invite link (the gateway asks for it with GET …/invite_link).</summary>
    public bool LifecycleWithoutLink { get; set; }

    private readonly ConcurrentQueue<JsonObject> _held = new();

    public int Uploads { get; private set; }

    /// <summary>Agents' files uploaded: media id to the multipart's file name, its type field and the bytes.</summary>
    public ConcurrentDictionary<string, (string FileName, string Type, byte[] Content)> Uploaded { get; } = new();

    private bool Authorized(HttpRequest request)
    {
        var ok = request.Headers.Authorization.ToString() == "Bearer " + Token;
        if (!ok)
            Unauthorized++;
        return ok;
    }

    private async Task<IResult> SendAsync(string version, string phone, HttpRequest request)
    {
        if (!Authorized(request))
            return Error(401, 190, "Invalid OAuth access token - Cannot parse access token", "OAuthException");
        var body = (JsonObject)(await JsonNode.ParseAsync(request.Body))!;
        if (phone != PhoneNumberId || version != Version)
            return Error(400, 100, $"Unsupported post request. Object with ID '{phone}' does not exist", "GraphMethodException");
        var to = body["to"]!.GetValue<string>();
        // Groups take text and media (and templates), no interactive messages.
        if (body["recipient_type"]?.GetValue<string>() == "group" && body["type"]?.GetValue<string>() == "interactive")
            return Error(400, 131009, "(#131009) Parameter value is not valid", "OAuthException", "Interactive messages are not supported in groups.");
        // The shapes Meta requires: a text's body, or an interactive message's body text and at most 3 buttons of ≤ 20 characters.
        var type = body["type"]?.GetValue<string>();
        var valid = body["messaging_product"]?.GetValue<string>() == "whatsapp" && type switch
        {
            "text" => body["text"]?["body"]?.GetValue<string>() is { Length: > 0 and <= 4096 },
            "interactive" => body["interactive"]?["body"]?["text"]?.GetValue<string>() is { Length: > 0 and <= 1024 }
                && body["interactive"]!["action"]?["buttons"]?.AsArray() is { Count: > 0 and <= 3 } buttons
                && buttons.All(b => b!["reply"]?["title"]?.GetValue<string>() is { Length: > 0 and <= 20 }),
            "image" or "audio" or "video" => body[type]?["id"]?.GetValue<string>() is { } media && Uploaded.ContainsKey(media),
            "document" => body[type]?["id"]?.GetValue<string>() is { } media && Uploaded.ContainsKey(media) && body[type]?["filename"] is not null,
            "template" => body["template"]?["name"]?.GetValue<string>() is { Length: > 0 } && body["template"]!["language"]?["code"] is not null,
            _ => false,
        };
        if (!valid)
            return Error(400, 100, "(#100) Invalid parameter", "OAuthException", body.ToJsonString());
        // An approved template is what Meta allows outside the window.
        if (WindowClosed.ContainsKey(to) && type != "template")
            return Error(400, 131047, "Re-engagement message", "OAuthException",
                "Message failed to send because more than 24 hours have passed since the customer last replied to this number.");
        if (ThroughputErrorsLeft > 0)
        {
            ThroughputErrorsLeft--;
            return Error(400, 130429, "Rate limit hit", "OAuthException", "Cloud API message throughput has been reached.");
        }
        var id = $"wamid.TEST{Interlocked.Increment(ref _nextMessage)}";
        body["_id"] = id;
        Messages.Enqueue(body);
        return Results.Json(new { messaging_product = "whatsapp", contacts = new[] { new { input = to, wa_id = to } }, messages = new[] { new { id } } });
    }

    private async Task<IResult> UploadAsync(string version, string phone, HttpRequest request)
    {
        if (!Authorized(request))
            return Error(401, 190, "Invalid OAuth access token", "OAuthException");
        // Meta's documented fields: messaging_product=whatsapp, type=the file's MIME type, file=the bytes with a file name.
        var form = await request.ReadFormAsync();
        if (form["messaging_product"] != "whatsapp" || form.Files.Count != 1 || form.Files["file"] is not { } file
            || form["type"] is not [{ Length: > 0 } type] || file.ContentType != type || string.IsNullOrEmpty(file.FileName))
            return Error(400, 100, "Param file must be a file with one of the following types…", "OAuthException");
        using var bytes = new MemoryStream();
        await file.CopyToAsync(bytes);
        Uploads++;
        var id = $"{Interlocked.Increment(ref _nextMessage)}";
        Uploaded[id] = (file.FileName, type, bytes.ToArray());
        Files[id] = (type, bytes.ToArray());
        return Results.Json(new { id });
    }

    private IResult MediaInfo(string version, string mediaId, HttpRequest request)
    {
        if (!Authorized(request))
            return Error(401, 190, "Invalid OAuth access token", "OAuthException");
        // The same path reads a phone number's own record (GET /{phone-number-id}).
        if (mediaId == PhoneNumberId)
            return Results.Json(new { display_phone_number = "+7 999 000-11-22", id = PhoneNumberId });
        return Files.TryGetValue(mediaId, out var file)
            ? Results.Json(new { messaging_product = "whatsapp", url = $"{BaseUrl}/media-files/{mediaId}?hash=x", mime_type = file.Type, sha256 = "", file_size = file.Content.Length.ToString(), id = mediaId })
            : Error(400, 100, $"Unsupported get request. Object with ID '{mediaId}' does not exist", "GraphMethodException");
    }

    private IResult Download(string id, HttpRequest request)
    {
        if (!Authorized(request))
            return Results.StatusCode(401);
        if (DownloadFailuresLeft > 0)
        {
            DownloadFailuresLeft--;
            return Results.StatusCode(500);
        }
        return Files.TryGetValue(id, out var file) ? Results.Bytes(file.Content, file.Type) : Results.NotFound();
    }

    private async Task<IResult> CreateGroupAsync(string version, string phone, HttpRequest request)
    {
        if (!Authorized(request))
            return Error(401, 190, "Invalid OAuth access token", "OAuthException");
        var body = (JsonObject)(await JsonNode.ParseAsync(request.Body))!;
        GroupRequests.Enqueue(body);
        var subject = body["subject"]?.GetValue<string>()?.Trim();
        var mode = body["join_approval_mode"]?.GetValue<string>();
        if (phone != PhoneNumberId || body["messaging_product"]?.GetValue<string>() != "whatsapp" || subject is not { Length: > 0 and <= 128 }
            || body["description"]?.GetValue<string>() is { Length: > 2048 } || mode is not (null or "auto_approve" or "approval_required"))
            return Error(400, 100, "(#100) Invalid parameter", "OAuthException", body.ToJsonString());
        if (CreateGroupError is { } code)
            return Error(400, code, "Business not eligible", "OAuthException", "The business is not an Official Business Account.");
        var n = Interlocked.Increment(ref _nextMessage);
        var requestId = $"REQ{n}";
        var groupId = $"Y2FwaV9ncm91cDox{n}ZD";
        var item = new JsonObject
        {
            ["timestamp"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["type"] = "group_create", ["request_id"] = requestId, ["subject"] = subject,
        };
        if (CreateGroupFailsLater is { } later)
        {
            item["errors"] = new JsonArray(new JsonObject
            {
                ["code"] = later, ["message"] = "Group creation failed", ["title"] = "Group creation failed",
                ["error_data"] = new JsonObject { ["details"] = "The group could not be created." },
            });
        }
        else
        {
            var link = $"https://chat.whatsapp.com/LINK{n}";
            Groups[groupId] = (subject, link, requestId);
            item["group_id"] = groupId;
            if (!LifecycleWithoutLink)
                item["invite_link"] = link;
            item["join_approval_mode"] = mode ?? "auto_approve";
        }
        var webhook = GroupWebhook("group_lifecycle_update", item);
        if (HoldLifecycleWebhook)
            _held.Enqueue(webhook);
        else if (WebhookBeforeAnswer)
            await SendWebhookAsync(webhook);
        else
            _ = Task.Run(async () => { await Task.Delay(30); await SendWebhookAsync(webhook); });
        return Results.Json(new { messaging_product = "whatsapp", request_id = requestId });
    }

    private IResult InviteLink(string version, string groupId, HttpRequest request)
    {
        if (!Authorized(request))
            return Error(401, 190, "Invalid OAuth access token", "OAuthException");
        return Groups.TryGetValue(groupId, out var group)
            ? Results.Json(new { messaging_product = "whatsapp", invite_link = group.InviteLink })
            : Error(400, 100, $"Unsupported get request. Object with ID '{groupId}' does not exist", "GraphMethodException");
    }

    /// <summary>The lifecycle webhooks held back by <see cref="HoldLifecycleWebhook"/>, sent now.</summary>
    public async Task SendHeldLifecycleAsync()
    {
        while (_held.TryDequeue(out var webhook))
            await SendWebhookAsync(webhook);
    }

    /// <summary>A WhatsApp user joins the group with its invite link (<c>group_participants_add</c>, reason <c>invite_link</c>).</summary>
    public Task<HttpResponseMessage> JoinAsync(string groupId, string waId) => SendWebhookAsync(GroupWebhook("group_participants_update", new JsonObject
    {
        ["timestamp"] = Now(), ["group_id"] = groupId, ["type"] = "group_participants_add", ["reason"] = "invite_link",
        ["added_participants"] = new JsonArray(new JsonObject { ["wa_id"] = waId }),
    }));

    /// <summary>A participant leaves (<c>group_participants_remove</c>, initiated by the participant).</summary>
    public Task<HttpResponseMessage> LeaveAsync(string groupId, string waId) => SendWebhookAsync(GroupWebhook("group_participants_update", new JsonObject
    {
        ["timestamp"] = Now(), ["group_id"] = groupId, ["type"] = "group_participants_remove", ["initiated_by"] = "participant",
        ["removed_participants"] = new JsonArray(new JsonObject { ["wa_id"] = waId }),
    }));

    /// <summary>The group was deleted (<c>group_delete</c>).</summary>
    public Task<HttpResponseMessage> DeleteGroupAsync(string groupId) => SendWebhookAsync(GroupWebhook("group_lifecycle_update", new JsonObject
    {
        ["timestamp"] = Now(), ["group_id"] = groupId, ["type"] = "group_delete", ["request_id"] = $"REQDEL{Interlocked.Increment(ref _nextMessage)}",
    }));

    /// <summary>A Groups API webhook as Meta documents it: <c>entry[].changes[]</c> with the field, and the item in <c>value.groups[]</c>.</summary>
    public static JsonObject GroupWebhook(string field, JsonObject item) => new()
    {
        ["object"] = "whatsapp_business_account",
        ["entry"] = new JsonArray(new JsonObject
        {
            ["id"] = "102290129340398",
            ["changes"] = new JsonArray(new JsonObject
            {
                ["value"] = new JsonObject
                {
                    ["messaging_product"] = "whatsapp",
                    ["metadata"] = new JsonObject { ["display_phone_number"] = "15550783881", ["phone_number_id"] = PhoneNumberId },
                    ["groups"] = new JsonArray(item),
                },
                ["field"] = field,
            }),
        }),
    };

    private async Task<HttpResponseMessage> SendWebhookAsync(JsonObject webhook)
    {
        var response = await (Webhook ?? throw new InvalidOperationException("FakeGraphApi.Webhook is not set"))(webhook);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"The gateway refused a group webhook: {(int)response.StatusCode}");
        return response;
    }

    private static string Now() => DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static IResult Error(int status, int code, string message, string type, string? details = null) => Results.Json(new
    {
        error = new { message, type, code, error_data = new { messaging_product = "whatsapp", details = details ?? message }, fbtrace_id = "Atest" },
    }, statusCode: status);

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
