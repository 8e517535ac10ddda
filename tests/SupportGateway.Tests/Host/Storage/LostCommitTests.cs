using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Storage;

/// <summary>
/// The connection to PostgreSQL breaks after the server got the COMMIT of a new request and before its answer came back
/// (<see cref="TcpRelay.LoseTheCommitAnswerAfter"/>): the server committed, the gateway cannot know it from the error.
/// The request is answered with what the server says once it can be asked, and a 503 that says so when it cannot in time.
/// </summary>
[NonParallelizable]
public sealed class LostCommitTests
{
    [Test]
    public async Task A_request_whose_commit_answer_was_lost_gets_its_ticket_once_the_server_can_be_asked()
    {
        await using var lost = await LostCommit.StartAsync(checkTimeout: "00:00:30");
        var answer = lost.SendAsync("lost-commit-answered");
        await lost.Relay.LostCommit.WaitAsync(TimeSpan.FromSeconds(30));
        await Task.Delay(1000);
        Assert.That(answer.IsCompleted, Is.False, "the request waits for the server instead of being answered from the error");
        lost.Reopen();

        using var response = await answer;
        var body = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), body);
        var number = JsonDocument.Parse(body).RootElement.GetProperty("ticketNumber").GetString();
        Assert.That(await lost.TicketsAsync(), Is.EqualTo(new[] { number }), "the ticket the server committed, once");
    }

    [Test]
    public async Task Past_the_check_timeout_the_answer_is_a_503_with_the_outcome_unknown_and_the_retry_gets_the_ticket_kept()
    {
        await using var lost = await LostCommit.StartAsync(checkTimeout: "00:00:01");
        var answer = lost.SendAsync("lost-commit-unknown");
        await lost.Relay.LostCommit.WaitAsync(TimeSpan.FromSeconds(30));

        using (var response = await answer.WaitAsync(TimeSpan.FromSeconds(30)))
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable), body);
            Assert.That(response.Headers.RetryAfter?.Delta, Is.Not.Null.And.GreaterThanOrEqualTo(TimeSpan.FromSeconds(1)));
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
            var problem = JsonDocument.Parse(body).RootElement;
            Assert.That(problem.GetProperty("kept").GetString(), Is.EqualTo("unknown"), body);
            Assert.That(problem.GetProperty("reason").GetString(), Does.Contain("server unreachable"), body);
            Assert.That(problem.GetProperty("detail").GetString(), Does.Contain("Idempotency-Key").And.Not.Contain("nothing of this request was kept"), body);
        }

        lost.Reopen();
        await Eventually.HoldsAsync(async () => (await (await lost.Client.GetAsync("/healthz")).Content.ReadAsStringAsync()).Contains("storage: up", StringComparison.Ordinal), 30,
            () => "the probe reaches the server again");
        var kept = await lost.TicketsAsync();
        Assert.That(kept, Has.Count.EqualTo(1), "the server had committed it");
        using var again = await lost.SendAsync("lost-commit-unknown", arm: false);
        var againBody = await again.Content.ReadAsStringAsync();
        Assert.That(again.StatusCode, Is.EqualTo(HttpStatusCode.Created), againBody);
        Assert.That(again.Headers.TryGetValues("Idempotent-Replayed", out var replayed) && replayed.Single() == "true", againBody);
        Assert.That(JsonDocument.Parse(againBody).RootElement.GetProperty("ticketNumber").GetString(), Is.EqualTo(kept[0]));
        Assert.That(await lost.TicketsAsync(), Is.EqualTo(kept), "the retry is the same request, not a second ticket");
    }

    /// <summary>A gateway on PostgreSQL through a relay armed to lose the answer to one commit.</summary>
    private sealed class LostCommit : IAsyncDisposable
    {
        private TestDatabase _database = null!;
        private NpgsqlConnectionStringBuilder _target = null!;
        private GatewayFactory _gateway = null!;
        private int _port;

        public TcpRelay Relay { get; private set; } = null!;

        public HttpClient Client { get; private set; } = null!;

        public static async Task<LostCommit> StartAsync(string checkTimeout)
        {
            var lost = new LostCommit { _database = await TestDatabase.CreateAsync(StorageEngine.Postgres) };
            lost._target = new NpgsqlConnectionStringBuilder(lost._database.ConnectionString);
            lost.Relay = new TcpRelay(lost._target.Host!, lost._target.Port);
            lost._port = lost.Relay.Port; // a stopped listener forgets it
            var through = new NpgsqlConnectionStringBuilder(lost._database.ConnectionString) { Host = "127.0.0.1", Port = lost.Relay.Port, Timeout = 5 };
            lost._gateway = new GatewayFactory(new Dictionary<string, string?>
            {
                ["SupportGateway:Storage:Provider"] = "postgresql",
                ["SupportGateway:Storage:ConnectionString"] = through.ConnectionString,
                ["SupportGateway:Storage:ProbeFirstDelay"] = "00:00:00.200",
                ["SupportGateway:Storage:ProbeMaxDelay"] = "00:00:01",
                ["SupportGateway:Storage:CommitCheckTimeout"] = checkTimeout,
            });
            lost.Client = lost._gateway.CreateClient();
            Assert.That((await lost.Client.GetAsync("/healthz")).StatusCode, Is.EqualTo(HttpStatusCode.OK), "the gateway is up before the relay is armed");
            return lost;
        }

        /// <summary>An intake request whose description carries <paramref name="marker"/>, its Idempotency-Key too; the relay loses its commit's answer when <paramref name="arm"/>.</summary>
        public Task<HttpResponseMessage> SendAsync(string marker, bool arm = true)
        {
            if (arm)
                Relay.LoseTheCommitAnswerAfter(marker);
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/requests")
            {
                Content = JsonContent.Create(new { description = $"Касса не печатает ({marker})", contact = new { email = "client@example.ru" } }),
            };
            request.Headers.Add("X-Api-Key", GatewayFactory.IntakeKey);
            request.Headers.Add("Idempotency-Key", marker);
            return Client.SendAsync(request);
        }

        /// <summary>The server back where the gateway looks for it.</summary>
        public void Reopen() => Relay = new TcpRelay(_target.Host!, _target.Port, _port);

        public async Task<List<string>> TicketsAsync()
        {
            await using var connection = new NpgsqlConnection(_database.ConnectionString);
            return [.. await Dapper.SqlMapper.QueryAsync<string>(connection, "SELECT number FROM tickets ORDER BY id")];
        }

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            _gateway.Dispose();
            await Relay.DisposeAsync();
            await _database.DisposeAsync();
        }
    }
}
