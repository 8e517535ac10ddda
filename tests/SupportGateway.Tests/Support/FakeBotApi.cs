using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
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
/// A stand-in for api.telegram.org on loopback, speaking the Bot API's documented JSON: POST /bot{token}/{method}
/// answers {"ok":true,"result":…} or {"ok":false,"error_code":…,"description":…,"parameters":{"retry_after":…}}.
/// getUpdates long-polls a queue that keeps an update until a later offset confirms it, as Telegram does.
/// Faults can be scheduled: 429 storms on sendMessage, 5xx on getUpdates.
/// </summary>
internal sealed class FakeBotApi : IAsyncDisposable
{
    public const string Token = "123456:TEST-token-never-logged";

    private readonly List<JsonObject> _updates = [];
    private readonly SemaphoreSlim _arrived = new(0);
    private WebApplication _app;
    private long _nextMessageId = 1000;

    public FakeBotApi() => _app = Start(0);

    private WebApplication Start(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Use(async (context, next) =>
        {
            if (Unreachable)
                context.Abort();
            else
                await next(context);
        });
        app.MapPost("/bot{token}/{method}", HandleAsync);
        app.MapGet("/file/bot{token}/files/{fileId}", (string token, string fileId) =>
            token == Token && Files.TryGetValue(fileId, out var content) ? Results.Bytes(content, "application/octet-stream") : Results.NotFound());
        app.StartAsync().GetAwaiter().GetResult();
        return app;
    }

    /// <summary>Goes away and comes back on the same port, keeping the updates not yet confirmed, as Telegram's servers do.</summary>
    public async Task RestartAsync(TimeSpan downtime)
    {
        var port = new Uri(BaseUrl).Port;
        await _app.DisposeAsync();
        await Task.Delay(downtime);
        _app = Start(port);
    }

    /// <summary>Files the bot may fetch: file_id to content (getFile, then the file endpoint).</summary>
    public ConcurrentDictionary<string, byte[]> Files { get; } = new();

    /// <summary>Chats whose user blocked the bot: sending there gets 403.</summary>
    public ConcurrentDictionary<long, bool> Blocked { get; } = new();

    /// <summary>Updates still waiting for a later offset to confirm them.</summary>
    public int Unconfirmed { get { lock (_updates) return _updates.Count; } }

    public string BaseUrl => _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    /// <summary>Every call as (method, request body).</summary>
    public ConcurrentQueue<(string Method, JsonObject Body)> Calls { get; } = new();

    public int TooManyRequestsLeft { get; set; }

    /// <summary>The retry_after of those 429 answers, in seconds.</summary>
    public int RetryAfter { get; set; } = 1;

    /// <summary>While set, every connection is dropped before an answer: the Bot API is unreachable.</summary>
    public bool Unreachable { get; set; }

    /// <summary>At most this many updates per getUpdates answer (below the caller's limit), to make a stream last.</summary>
    public int MaxPerPoll { get; set; } = int.MaxValue;

    /// <summary>How long a getUpdates answer takes once it has updates: the network between the bot and Telegram.</summary>
    public TimeSpan PollLatency { get; set; } = TimeSpan.Zero;

    public int ServerErrorsLeft { get; set; }

    /// <summary>A corpus update (or any Update JSON), queued for getUpdates.</summary>
    public void Push(JsonObject update)
    {
        lock (_updates)
            _updates.Add(update);
        _arrived.Release();
    }

    public IEnumerable<JsonObject> Sent(string method) => Calls.Where(c => c.Method == method).Select(c => c.Body);

    private async Task<IResult> HandleAsync(string token, string method, HttpRequest request)
    {
        if (token != Token)
            return Results.Json(new { ok = false, error_code = 401, description = "Unauthorized" }, statusCode: 401);
        var body = await BodyAsync(request);
        Calls.Enqueue((method, body));
        switch (method)
        {
            case "getUpdates":
                if (ServerErrorsLeft > 0)
                {
                    ServerErrorsLeft--;
                    return Results.Json(new { ok = false, error_code = 502, description = "Bad Gateway" }, statusCode: 502);
                }
                var offset = body["offset"]?.GetValue<long>() ?? 0;
                var timeout = body["timeout"]?.GetValue<int>() ?? 0;
                var deadline = DateTime.UtcNow.AddSeconds(Math.Min(timeout, 2));
                while (true)
                {
                    JsonObject[] due;
                    lock (_updates)
                    {
                        // A later offset confirms everything before it.
                        _updates.RemoveAll(u => u["update_id"]!.GetValue<long>() < offset);
                        // As Telegram: at most "limit" updates per call (default 100), oldest first.
                        var limit = Math.Min(body["limit"]?.GetValue<int>() ?? 100, MaxPerPoll);
                        due = [.. _updates.OrderBy(u => u["update_id"]!.GetValue<long>()).Take(limit).Select(u => (JsonObject)u.DeepClone())];
                    }
                    if (due.Length > 0 || DateTime.UtcNow >= deadline)
                    {
                        await Task.Delay(PollLatency);
                        return Ok(new JsonArray(due));
                    }
                    await _arrived.WaitAsync(TimeSpan.FromMilliseconds(100));
                }
            case "sendMessage" or "sendPhoto" or "sendDocument":
                if (TooManyRequestsLeft > 0 && method == "sendMessage")
                {
                    TooManyRequestsLeft--;
                    return Results.Json(new { ok = false, error_code = 429, description = $"Too Many Requests: retry after {RetryAfter}",
                        parameters = new { retry_after = RetryAfter } }, statusCode: 429);
                }
                var chatId = body["chat_id"]!.GetValue<long>();
                if (Blocked.ContainsKey(chatId))
                    return Results.Json(new { ok = false, error_code = 403, description = "Forbidden: bot was blocked by the user" }, statusCode: 403);
                var sentId = Interlocked.Increment(ref _nextMessageId);
                body["_sent_message_id"] = sentId; // what the test reads back: the id of the message "sent"
                return Ok(new JsonObject
                {
                    ["message_id"] = sentId,
                    ["from"] = new JsonObject { ["id"] = BotId, ["is_bot"] = true, ["first_name"] = "Support" },
                    ["chat"] = new JsonObject { ["id"] = chatId, ["type"] = chatId < 0 ? "supergroup" : "private" },
                    ["message_thread_id"] = body["message_thread_id"]?.DeepClone(),
                    ["date"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
                    ["text"] = body["text"]?.GetValue<string>(),
                });
            case "getFile":
                var fileId = body["file_id"]!.GetValue<string>();
                return Files.TryGetValue(fileId, out var file)
                    ? Ok(new JsonObject { ["file_id"] = fileId, ["file_unique_id"] = fileId, ["file_size"] = file.Length, ["file_path"] = $"files/{fileId}" })
                    : Results.Json(new { ok = false, error_code = 400, description = "Bad Request: wrong file_id or the file is temporarily unavailable" }, statusCode: 400);
            case "editMessageReplyMarkup":
                return Ok(new JsonObject { ["message_id"] = body["message_id"]!.DeepClone(), ["chat"] = new JsonObject { ["id"] = body["chat_id"]!.DeepClone(), ["type"] = "private" } });
            case "getMe":
                return Ok(new JsonObject { ["id"] = 123456, ["is_bot"] = true, ["first_name"] = "Support", ["username"] = "sg_test_bot" });
            default:
                return Ok(true);
        }
    }

    /// <summary>JSON, or multipart/form-data for uploads: fields (JSON-valued ones parsed) plus the file's field, name and size.</summary>
    private static async Task<JsonObject> BodyAsync(HttpRequest request)
    {
        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync();
            var fields = new JsonObject();
            foreach (var (key, value) in form)
            {
                var text = value.ToString();
                fields[key] = text.StartsWith('{') || text.StartsWith('[') || long.TryParse(text, out _) ? JsonNode.Parse(text) : text;
            }
            foreach (var file in form.Files)
            {
                fields["file_field"] = file.Name;
                fields["file_name"] = file.FileName;
                fields["file_size"] = file.Length;
                fields["file_type"] = file.ContentType;
            }
            return fields;
        }
        // A JSON body may come chunked, without a Content-Length.
        var json = await new StreamReader(request.Body).ReadToEndAsync();
        return json.Length > 0 ? JsonNode.Parse(json) as JsonObject ?? [] : [];
    }

    private static IResult Ok(JsonNode result) => Results.Text(new JsonObject { ["ok"] = true, ["result"] = result }.ToJsonString(), "application/json");

    public const long BotId = 123456;

    /// <summary>
    /// A corpus Update with its ids and text replaced, for a scenario. <paramref name="chatId"/> puts it in a group
    /// (negative id) instead of the user's private chat; mentions of a "…bot" name get their entities, as Telegram
    /// sends them; <paramref name="replyTo"/> makes it a reply to that message (by the bot when <paramref name="replyToBot"/>).
    /// </summary>
    public static JsonObject Update(string fixture, long updateId, long? userId = null, string? text = null, long? messageId = null,
        long? chatId = null, long? replyTo = null, bool replyToBot = true, string? language = null)
    {
        var update = (JsonObject)JsonNode.Parse(File.ReadAllText(Corpus.Path("telegram", "nutgram", "updates", fixture)))!;
        update["update_id"] = updateId;
        var message = (JsonObject)(update["message"] ?? update["edited_message"])!;
        if (userId is { } user)
        {
            message["from"]!["id"] = user;
            message["chat"]!["id"] = user;
        }
        if (language is not null)
            message["from"]!["language_code"] = language;
        if (chatId is { } chat)
        {
            message["chat"] = new JsonObject { ["id"] = chat, ["title"] = "ООО Ромашка", ["type"] = "supergroup" };
            message.Remove("reply_to_message");
        }
        if (text is not null)
        {
            message["text"] = text;
            var entities = new JsonArray();
            foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(text, @"@\w+bot\b"))
                entities.Add(new JsonObject { ["type"] = "mention", ["offset"] = m.Index, ["length"] = m.Length });
            if (text.StartsWith('/'))
                entities.Add(new JsonObject { ["type"] = "bot_command", ["offset"] = 0, ["length"] = text.Split(' ')[0].Length });
            message["entities"] = entities;
        }
        if (messageId is { } id)
            message["message_id"] = id;
        if (replyTo is { } replied)
        {
            message["reply_to_message"] = new JsonObject
            {
                ["message_id"] = replied,
                ["from"] = replyToBot
                    ? new JsonObject { ["id"] = BotId, ["is_bot"] = true, ["first_name"] = "Support", ["username"] = "sg_test_bot" }
                    : new JsonObject { ["id"] = 1, ["is_bot"] = false, ["first_name"] = "Someone" },
                ["chat"] = message["chat"]!.DeepClone(),
                ["date"] = 1700000000,
                ["text"] = "…",
            };
        }
        return update;
    }

    /// <summary>The corpus callback_query with a user pressing a button with <paramref name="data"/> on the bot's message.</summary>
    public static JsonObject Callback(long updateId, long userId, long chatId, long promptMessageId, string data, string language = "ru")
    {
        var update = (JsonObject)JsonNode.Parse(File.ReadAllText(Corpus.Path("telegram", "nutgram", "updates", "callback_query.json")))!;
        update["update_id"] = updateId;
        var query = (JsonObject)update["callback_query"]!;
        query["id"] = $"cb{updateId}";
        query["from"]!["id"] = userId;
        query["from"]!["language_code"] = language;
        query["message"]!["message_id"] = promptMessageId;
        query["message"]!["chat"]!["id"] = chatId;
        query["message"]!["chat"]!["type"] = chatId < 0 ? "supergroup" : "private";
        query["data"] = data;
        return update;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
