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

    private readonly WebApplication _app;
    private readonly List<JsonObject> _updates = [];
    private readonly SemaphoreSlim _arrived = new(0);
    private long _nextMessageId = 1000;

    public FakeBotApi()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.MapPost("/bot{token}/{method}", HandleAsync);
        _app.StartAsync().GetAwaiter().GetResult();
    }

    public string BaseUrl => _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    /// <summary>Every call as (method, request body).</summary>
    public ConcurrentQueue<(string Method, JsonObject Body)> Calls { get; } = new();

    public int TooManyRequestsLeft { get; set; }

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
        var body = request.ContentLength is > 0 ? (JsonNode.Parse(await new StreamReader(request.Body).ReadToEndAsync()) as JsonObject ?? []) : [];
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
                        due = [.. _updates.Select(u => (JsonObject)u.DeepClone())];
                    }
                    if (due.Length > 0 || DateTime.UtcNow >= deadline)
                        return Ok(new JsonArray(due));
                    await _arrived.WaitAsync(TimeSpan.FromMilliseconds(100));
                }
            case "sendMessage":
                if (TooManyRequestsLeft > 0)
                {
                    TooManyRequestsLeft--;
                    return Results.Json(new { ok = false, error_code = 429, description = "Too Many Requests: retry after 1", parameters = new { retry_after = 1 } }, statusCode: 429);
                }
                var chatId = body["chat_id"]!.GetValue<long>();
                return Ok(new JsonObject
                {
                    ["message_id"] = Interlocked.Increment(ref _nextMessageId),
                    ["from"] = new JsonObject { ["id"] = 123456, ["is_bot"] = true, ["first_name"] = "Support" },
                    ["chat"] = new JsonObject { ["id"] = chatId, ["type"] = chatId < 0 ? "supergroup" : "private" },
                    ["date"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
                    ["text"] = body["text"]?.GetValue<string>(),
                });
            case "getMe":
                return Ok(new JsonObject { ["id"] = 123456, ["is_bot"] = true, ["first_name"] = "Support", ["username"] = "sg_test_bot" });
            default:
                return Ok(true);
        }
    }

    private static IResult Ok(JsonNode result) => Results.Text(new JsonObject { ["ok"] = true, ["result"] = result }.ToJsonString(), "application/json");

    /// <summary>A corpus Update with its ids and text replaced, for a scenario.</summary>
    public static JsonObject Update(string fixture, long updateId, long? userId = null, string? text = null, long? messageId = null)
    {
        var update = (JsonObject)JsonNode.Parse(File.ReadAllText(Corpus.Path("telegram", "nutgram", "updates", fixture)))!;
        update["update_id"] = updateId;
        var message = (JsonObject)update["message"]!;
        if (userId is { } user)
        {
            message["from"]!["id"] = user;
            message["chat"]!["id"] = user;
        }
        if (text is not null)
            message["text"] = text;
        if (messageId is { } id)
            message["message_id"] = id;
        return update;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
