using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Storage;

/// <summary>
/// A stream of new requests through the intake API, the web chat and the Telegram webhook while the storage fails
/// and comes back. Every answer is kept: a 2xx is a promise (the ticket, its file and its acknowledgement must exist
/// at the end, the acknowledgement sent once), a 503 must carry Retry-After and problem details and leave nothing,
/// unless it says the outcome is unknown (the server went away during the commit): then its client sends it again with
/// the same key, and that answer is the one that counts.
/// </summary>
internal sealed class StorageOutageScenario(GatewayFactory gateway, FakeBotApi bot) : IAsyncDisposable
{
    public const string WebhookSecret = "webhook-secret-0123456789";

    public static readonly string[] Kinds = ["intake", "webchat", "telegram"];

    /// <summary>The gateway's settings for the scenario: the Telegram webhook on the fake Bot API, limits out of the way, quick probes.</summary>
    public static Dictionary<string, string?> Settings(FakeBotApi bot, string connectionString) => new()
    {
        ["SupportGateway:Storage:ConnectionString"] = connectionString,
        ["SupportGateway:Storage:ProbeFirstDelay"] = "00:00:00.200",
        ["SupportGateway:Storage:ProbeMaxDelay"] = "00:00:01",
        ["SupportGateway:Channels:Telegram:BotToken"] = FakeBotApi.Token,
        ["SupportGateway:Channels:Telegram:ApiBaseUrl"] = bot.BaseUrl,
        ["SupportGateway:Channels:Telegram:Mode"] = "Webhook",
        ["SupportGateway:Channels:Telegram:WebhookUrl"] = "https://support.example.ru/webhooks/telegram",
        ["SupportGateway:Channels:Telegram:WebhookSecret"] = WebhookSecret,
        ["SupportGateway:Limits:WebChat:NewRequestsPerAddress:Permits"] = "100000",
        ["SupportGateway:Limits:IntakePerKey:Permits"] = "100000",
        ["SupportGateway:Limits:Acknowledgements:PerAddress"] = "0",
    };

    public sealed record Answer(string Kind, int Round, HttpStatusCode Status, string? Key, string Body, TimeSpan? RetryAfter, string? ContentType);

    private readonly ConcurrentQueue<Answer> _answers = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly byte[] _file = Attachment();
    private Task? _stream;
    private HttpClient? _client;

    public IReadOnlyCollection<Answer> Answers => _answers;

    public void Start()
    {
        _client = gateway.CreateClient();
        _stream = Task.Run(async () =>
        {
            for (var round = 1; !_stop.IsCancellationRequested; round++)
            {
                foreach (var kind in Kinds)
                    _answers.Enqueue(await SendAsync(kind, round));
            }
        });
    }

    /// <summary>Waits until every kind has <paramref name="count"/> answers of <paramref name="accepted"/> kind after <paramref name="since"/>.</summary>
    public Task SeenAsync(bool accepted, int count, int since, string what) => Eventually.HoldsAsync(() =>
    {
        if (_stream!.IsFaulted)
            Assert.Fail($"the request stream broke: {_stream.Exception}");
        return Task.FromResult(Kinds.All(kind => _answers.Count(a => a.Kind == kind && a.Round > since && IsAccepted(a) == accepted) >= count));
    }, 60, () => $"{what}; answers so far: {Summary()}");

    public int Rounds => _answers.IsEmpty ? 0 : _answers.Max(a => a.Round);

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await _stream!;
    }

    private static bool IsAccepted(Answer answer) => answer.Status is HttpStatusCode.Created or HttpStatusCode.OK;

    public string Summary() => string.Join(", ", _answers.GroupBy(a => (a.Kind, a.Status)).Select(g => $"{g.Key.Kind} {(int)g.Key.Status}: {g.Count()}"));

    /// <summary>Every refusal of the outage as the brief says: 503, Retry-After in seconds, RFC 7807 with the reason.</summary>
    public void AssertRefusals(string reason)
    {
        var unexpected = _answers.Where(a => !IsAccepted(a) && a.Status != HttpStatusCode.ServiceUnavailable).ToList();
        Assert.That(unexpected, Is.Empty, () => $"answers neither accepted nor 503: {string.Join("; ", unexpected.Select(a => $"{a.Kind} {(int)a.Status} {a.Body}"))}");
        var refused = _answers.Where(a => a.Status == HttpStatusCode.ServiceUnavailable).ToList();
        Assert.That(refused, Is.Not.Empty);
        foreach (var answer in refused)
        {
            Assert.That(answer.RetryAfter, Is.Not.Null.And.GreaterThanOrEqualTo(TimeSpan.FromSeconds(1)), $"{answer.Kind}: Retry-After in seconds");
            Assert.That(answer.ContentType, Is.EqualTo("application/problem+json"), answer.Kind);
            var problem = JsonDocument.Parse(answer.Body).RootElement;
            Assert.That(problem.GetProperty("status").GetInt32(), Is.EqualTo(503));
            Assert.That(problem.GetProperty("title").GetString(), Is.EqualTo("Storage unavailable"), answer.Body);
            Assert.That(problem.GetProperty("reason").GetString(), Does.Contain(reason), answer.Body);
            Assert.That(problem.GetProperty("kept").GetString(), Is.EqualTo("nothing").Or.EqualTo("unknown"), answer.Body);
        }
    }

    private static bool OutcomeUnknown(Answer answer) => answer.Status == HttpStatusCode.ServiceUnavailable
        && JsonDocument.Parse(answer.Body).RootElement.TryGetProperty("kept", out var kept) && kept.GetString() == "unknown";

    /// <summary>
    /// Each refusal whose outcome is unknown sent again with its key, as its client does, until it is accepted: the
    /// answer replaces the refusal. Whether the first was kept or not, there must be one ticket for it in the end.
    /// </summary>
    private async Task SendAgainWhereUnknownAsync()
    {
        var unknown = _answers.Where(OutcomeUnknown).ToList();
        if (unknown.Count == 0)
            return;
        TestContext.Out.WriteLine($"{unknown.Count} refusal(s) with the outcome unknown, sent again: {string.Join(", ", unknown.Select(a => $"{a.Kind} {a.Round}"))}");
        var answers = _answers.Where(a => !OutcomeUnknown(a)).ToList();
        foreach (var answer in unknown)
        {
            Answer? again = null;
            await Eventually.HoldsAsync(async () => IsAccepted(again = await SendAsync(answer.Kind, answer.Round)), 30,
                () => $"{answer.Kind} {answer.Round} accepted when sent again; last answer: {(int?)again?.Status} {again?.Body}");
            answers.Add(again!);
        }
        _answers.Clear();
        foreach (var answer in answers)
            _answers.Enqueue(answer);
    }

    private Task<Answer> SendAsync(string kind, int round) => kind switch
    {
        "intake" => IntakeAsync(round),
        "webchat" => WebChatAsync(round),
        _ => TelegramAsync(round),
    };

    /// <summary>Every accepted request is a ticket with its file whole and one acknowledgement sent once; no refused one left a trace.</summary>
    public Task AssertNothingLostAsync(string directory) => AssertNothingLostAsync(() =>
        new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(directory, "gateway.db")};Mode=ReadOnly;Pooling=False"));

    /// <inheritdoc cref="AssertNothingLostAsync(string)"/>
    public async Task AssertNothingLostAsync(Func<System.Data.Common.DbConnection> open)
    {
        async Task<T> ScalarAsync<T>(string sql, object? parameters = null)
        {
            await using var connection = open();
            return (await Dapper.SqlMapper.ExecuteScalarAsync<T>(connection, sql, parameters))!;
        }
        async Task<List<T>> ListAsync<T>(string sql, object? parameters = null)
        {
            await using var connection = open();
            return [.. await Dapper.SqlMapper.QueryAsync<T>(connection, sql, parameters)];
        }

        // One statement, so one snapshot: as two, the last update could be processed between them (its acknowledgement
        // queued after the outbox was counted, its row processed before the inbound was).
        await Eventually.HoldsAsync(async () => await ScalarAsync<long>("""
                SELECT (SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'in_flight')) + (SELECT COUNT(*) FROM inbound WHERE state = 'pending')
                """) == 0, 30,
            async () => $"every acknowledgement sent and every stored update processed; still waiting: {await RowsAsync(open, "state IN ('pending', 'in_flight')")}; {(await HealthAsync()).Storage}");
        await SendAgainWhereUnknownAsync();
        var accepted = _answers.Where(IsAccepted).ToList();
        Assert.That(await ScalarAsync<long>("SELECT COUNT(*) FROM inbound WHERE state = 'dead'"), Is.Zero, "nothing parked");
        Assert.That(await ScalarAsync<long>("SELECT COUNT(*) FROM tickets"), Is.EqualTo(accepted.Count),
            "one ticket per accepted request, none for a refused one");
        var unsent = await ScalarAsync<long>("SELECT COUNT(*) FROM outbox WHERE state <> 'sent'");
        Assert.That(unsent, Is.Zero, unsent == 0 ? "" : $"every acknowledgement sent; not sent: {await RowsAsync(open, "state <> 'sent'")}");

        foreach (var answer in accepted.Where(a => a.Kind != "telegram"))
        {
            var acknowledgements = await ScalarAsync<long>("""
                SELECT COUNT(*) FROM outbox o JOIN tickets t ON t.id = o.ticket_id JOIN messages m ON m.id = o.message_id
                WHERE t.number = @number AND m.author_kind = 'system' AND o.state = 'sent'
                """, new { number = answer.Key });
            Assert.That(acknowledgements, Is.EqualTo(1), $"{answer.Kind} {answer.Key}: its acknowledgement, once");
        }
        foreach (var answer in accepted.Where(a => a.Kind == "intake"))
        {
            var contents = await ListAsync<byte[]>("""
                SELECT a.content FROM attachments a JOIN messages m ON m.id = a.message_id JOIN tickets t ON t.id = m.ticket_id WHERE t.number = @number
                """, new { number = answer.Key });
            Assert.That(contents.Select(Convert.ToHexString), Is.EqualTo(new[] { Convert.ToHexString(_file) }), $"{answer.Key}: its file, whole");
        }
        var sent = bot.Sent("sendMessage").GroupBy(m => m["chat_id"]!.GetValue<long>()).ToDictionary(g => g.Key, g => g.Count());
        foreach (var answer in accepted.Where(a => a.Kind == "telegram"))
        {
            Assert.That(await ScalarAsync<long?>("SELECT ticket_id FROM inbound WHERE channel = 'telegram' AND external_id = @id",
                new { id = "u" + answer.Key }), Is.Not.Null, $"update {answer.Key}: its ticket");
            Assert.That(sent.GetValueOrDefault(User(answer.Round)), Is.EqualTo(1), $"update {answer.Key}: its acknowledgement, sent once");
        }
        foreach (var answer in _answers.Where(a => a.Kind == "telegram" && !IsAccepted(a)))
            Assert.That(sent.GetValueOrDefault(User(answer.Round)), Is.Zero, $"refused update {answer.Key}: nothing sent");
        Assert.That(await ScalarAsync<long>("SELECT COUNT(*) FROM attachments"), Is.EqualTo(accepted.Count(a => a.Kind == "intake")),
            "no file without its request");
    }

    /// <summary>
    /// The outbox rows in <paramref name="outboxStates"/> and the pending inbound ones, each with its table, state, attempts
    /// and last error, and when it is due or its claim runs out: what a final check is stuck on.
    /// </summary>
    private static async Task<string> RowsAsync(Func<System.Data.Common.DbConnection> open, string outboxStates)
    {
        await using var connection = open();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var outbox = await Dapper.SqlMapper.QueryAsync<StuckRow>(connection, $"""
            SELECT 'outbox' AS "Table", id AS Id, channel AS Channel, state AS State, attempts AS Attempts, next_attempt_at AS DueAt,
                   locked_until AS ClaimedUntil, last_error AS LastError
            FROM outbox WHERE {outboxStates} ORDER BY id
            """);
        var inbound = await Dapper.SqlMapper.QueryAsync<StuckRow>(connection, """
            SELECT 'inbound' AS "Table", id AS Id, channel AS Channel, state AS State, attempts AS Attempts, last_error AS LastError
            FROM inbound WHERE state = 'pending' ORDER BY id
            """);
        var rows = outbox.Concat(inbound).Select(r => $"{r.Table} {r.Id} {r.Channel} {r.State} attempts {r.Attempts}"
            + (r.DueAt is { } due ? $" due in {due - now} ms" : "") + (r.ClaimedUntil is { } until ? $" claimed for {until - now} ms more" : "")
            + (r.LastError is { } error ? $" ({error})" : "")).ToList();
        return rows.Count == 0 ? "no row (it drained just now)" : string.Join("; ", rows);
    }

    private sealed class StuckRow
    {
        public string Table { get; init; } = "";
        public long Id { get; init; }
        public string Channel { get; init; } = "";
        public string State { get; init; } = "";
        public long Attempts { get; init; }
        public long? DueAt { get; init; }
        public long? ClaimedUntil { get; init; }
        public string? LastError { get; init; }
    }

    private static long User(int round) => 700_000 + round;

    private static byte[] Attachment()
    {
        var bytes = SampleFiles.Png(24 << 10);
        Random.Shared.NextBytes(bytes.AsSpan(SampleFiles.OnePixelPng.Length));
        return bytes;
    }

    private async Task<Answer> IntakeAsync(int round)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/requests")
        {
            Content = JsonContent.Create(new
            {
                description = $"Касса не печатает, запрос {round}",
                contact = new { email = $"client{round}@example.ru" },
                attachments = new[] { new { fileName = "screen.png", contentType = "image/png", contentBase64 = Convert.ToBase64String(_file) } },
            }),
        };
        request.Headers.Add("X-Api-Key", GatewayFactory.IntakeKey);
        request.Headers.Add("Idempotency-Key", $"outage-{round}");
        return await AnswerAsync("intake", round, request, body => body.GetProperty("ticketNumber").GetString());
    }

    private async Task<Answer> WebChatAsync(int round)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webchat/api/requests")
        {
            Content = new MultipartFormDataContent { { new StringContent("Ivan"), "name" }, { new StringContent($"Виджет, запрос {round}"), "description" },
                { new StringContent($"outage-round-{round:D4}"), "clientId" } },
        };
        // A first visitor's token made by the client, as the widget does, so that a post sent again is the same visitor's.
        request.Headers.Add("X-Visitor-Token", $"outage-visitor-{round:D8}-0123456789abcdef");
        return await AnswerAsync("webchat", round, request, body => body.GetProperty("conversation").GetProperty("ticket").GetProperty("number").GetString());
    }

    private async Task<Answer> TelegramAsync(int round)
    {
        var update = FakeBotApi.Update("message.json", round, userId: User(round), text: $"Не работает, сообщение {round}", messageId: round);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/telegram")
        {
            Content = new StringContent(update.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Telegram-Bot-Api-Secret-Token", WebhookSecret);
        return await AnswerAsync("telegram", round, request, _ => round.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private async Task<Answer> AnswerAsync(string kind, int round, HttpRequestMessage request, Func<JsonElement, string?> key)
    {
        using var response = await _client!.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        var accepted = response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK;
        return new Answer(kind, round, response.StatusCode,
            accepted ? key(body.Length == 0 ? default : JsonDocument.Parse(body).RootElement) : round.ToString(System.Globalization.CultureInfo.InvariantCulture),
            body, response.Headers.RetryAfter?.Delta, response.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>The storage line of <c>/healthz</c>, with its status code.</summary>
    public async Task<(HttpStatusCode Status, string Storage)> HealthAsync()
    {
        using var response = await _client!.GetAsync("/healthz");
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Split('\n').FirstOrDefault(l => l.StartsWith("storage:", StringComparison.Ordinal)) ?? text);
    }

    public async ValueTask DisposeAsync()
    {
        if (_stream is { IsCompleted: false })
            await StopAsync();
        _client?.Dispose();
        _stop.Dispose();
    }
}
