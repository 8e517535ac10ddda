using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Api;

public sealed class IntakeApiTests
{
    private GatewayFactory _gateway = null!;
    private HttpClient _intake = null!;

    [SetUp]
    public void SetUp()
    {
        _gateway = new GatewayFactory(new Dictionary<string, string?> { ["SupportGateway:Intake:ApiKeys:1"] = "second-product-key-01" });
        _intake = _gateway.Intake();
    }

    [TearDown]
    public void TearDown()
    {
        _intake.Dispose();
        _gateway.Dispose();
    }

    [Test]
    public async Task Request_with_screenshot_and_details_gets_a_ticket_number()
    {
        var response = await _intake.PostAsJsonAsync("/api/v1/requests", new
        {
            subject = "Report export fails",
            description = "Clicking Export shows an error",
            type = "defect",
            priority = "high",
            contact = new { name = "Ivan", email = "ivan@example.ru", accountNumber = "ACC-77", externalId = "user-42" },
            technicalDetails = new Dictionary<string, string> { ["appVersion"] = "5.2.1", ["os"] = "Windows 11" },
            attachments = new[] { new { fileName = "screen.png", contentType = "image/png", contentBase64 = Convert.ToBase64String(SampleFiles.Png(2048)) } },
        });

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var number = body.GetProperty("ticketNumber").GetString()!;
        Assert.That(number, Does.Match(@"^SG-\d{5,}$"));
        Assert.That(body.GetProperty("status").GetString(), Is.EqualTo("new"));
        Assert.That(response.Headers.Location!.ToString(), Does.EndWith(number));

        using var agent = _gateway.Agent();
        var ticket = await agent.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{number}");
        Assert.That(ticket.GetProperty("ticket").GetProperty("type").GetString(), Is.EqualTo("defect"));
        Assert.That(ticket.GetProperty("ticket").GetProperty("priority").GetString(), Is.EqualTo("high"));
        var first = ticket.GetProperty("messages")[0];
        Assert.That(first.GetProperty("technicalDetails").GetProperty("appVersion").GetString(), Is.EqualTo("5.2.1"));
        Assert.That(first.GetProperty("attachments")[0].GetProperty("size").GetInt64(), Is.EqualTo(2048));
        Assert.That(await DbProbe.ScalarAsync<string>(_gateway.Directory, "SELECT account_number FROM organisations"), Is.EqualTo("ACC-77"));
    }

    [Test]
    public async Task The_acknowledgement_and_an_agents_answer_are_delivered_by_being_recorded_and_read_back_with_get()
    {
        var created = await _intake.PostAsJsonAsync("/api/v1/requests", new { description = "Касса не печатает чек", contact = new { email = "olga@example.ru" } });
        var number = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ticketNumber").GetString()!;
        using var agent = _gateway.Agent();
        Assert.That((await agent.PostAsJsonAsync($"/api/v1/tickets/{number}/replies", new { text = "Перезапустите кассу, пожалуйста." })).IsSuccessStatusCode, Is.True);

        // Sent in the transaction that queued them, no sender in between: the product's GET is the delivery.
        var rows = await DbProbe.ListAsync<(string State, long Attempts, long? SentAt, long CreatedAt)>(_gateway.Directory,
            "SELECT state, attempts, sent_at, created_at FROM outbox WHERE channel = 'api' ORDER BY id");
        Assert.That(rows, Has.Count.EqualTo(2));
        Assert.That(rows, Is.All.Matches<(string State, long Attempts, long? SentAt, long CreatedAt)>(r => r.State == "sent" && r.Attempts == 1 && r.SentAt == r.CreatedAt));
        var view = await _intake.GetFromJsonAsync<JsonElement>($"/api/v1/requests/{number}");
        Assert.That(view.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("text").GetString()),
            Has.Some.Contains(number).And.Some.EqualTo("Перезапустите кассу, пожалуйста."));
    }

    [Test]
    public async Task Two_hundred_concurrent_requests_get_two_hundred_distinct_numbers()
    {
        var responses = await Task.WhenAll(Enumerable.Range(0, 200).Select(i =>
            _intake.PostAsJsonAsync("/api/v1/requests", new { description = $"problem {i}", contact = new { externalId = $"u{i}" } })));
        Assert.That(responses.Select(r => r.StatusCode), Is.All.EqualTo(HttpStatusCode.Created));
        var numbers = await Task.WhenAll(responses.Select(async r => (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ticketNumber").GetString()));
        Assert.That(numbers.Distinct().Count(), Is.EqualTo(200));
    }

    [Test]
    public async Task Repeated_idempotency_key_returns_the_same_ticket()
    {
        async Task<(string Number, string? Replayed)> PostAsync(HttpClient client, string key)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/requests")
            {
                Content = JsonContent.Create(new { description = "VPN down", contact = new { email = "a@b.ru" } }),
            };
            request.Headers.Add("Idempotency-Key", key);
            var response = await client.SendAsync(request);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created));
            var number = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ticketNumber").GetString()!;
            return (number, response.Headers.TryGetValues("Idempotent-Replayed", out var v) ? v.Single() : null);
        }

        var first = await PostAsync(_intake, "order-1");
        var repeat = await PostAsync(_intake, "order-1");
        var other = await PostAsync(_intake, "order-2");
        using var secondProduct = _gateway.CreateClient();
        secondProduct.DefaultRequestHeaders.Add("X-Api-Key", "second-product-key-01");
        var sameKeyOtherProduct = await PostAsync(secondProduct, "order-1");

        Assert.That(repeat, Is.EqualTo((first.Number, "true")));
        Assert.That(other.Number, Is.Not.EqualTo(first.Number));
        Assert.That(sameKeyOtherProduct.Number, Is.Not.EqualTo(first.Number), "keys are scoped to the API key");
        Assert.That((await DbProbe.CountsAsync(_gateway.Directory))["tickets"], Is.EqualTo(3));
    }

    [Test]
    public async Task Changing_the_last_digit_of_a_number_is_caught_by_the_check_digit()
    {
        var number = await _gateway.FileRequestAsync(_intake);
        var typo = number[..^1] + (char)('0' + (number[^1] - '0' + 3) % 10);
        using var agent = _gateway.Agent();

        Assert.That((await _intake.GetAsync($"/api/v1/requests/{number}")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await _intake.GetAsync($"/api/v1/requests/{typo}")).StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That((await agent.GetAsync($"/api/v1/tickets/{typo}")).StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        var followUp = await _intake.PostAsJsonAsync($"/api/v1/requests/{typo}/messages", new { text = "hi", contact = new { email = "ivan@example.ru" } });
        Assert.That(followUp.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
    }

    [Test]
    public async Task Follow_up_only_from_the_tickets_contact()
    {
        var number = await _gateway.FileRequestAsync(_intake, email: "ivan@example.ru");

        var own = await _intake.PostAsJsonAsync($"/api/v1/requests/{number}/messages", new { text = "more info", contact = new { email = "IVAN@example.ru" } });
        var before = await DbProbe.CountsAsync(_gateway.Directory);
        var stranger = await _intake.PostAsJsonAsync($"/api/v1/requests/{number}/messages", new { text = "me too", contact = new { email = "eve@evil.example" } });

        Assert.That(own.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        Assert.That((await own.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ticketNumber").GetString(), Is.EqualTo(number));
        Assert.That(stranger.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(stranger.Content.Headers.ContentType!.MediaType, Is.EqualTo("application/problem+json"));
        Assert.That(await DbProbe.CountsAsync(_gateway.Directory), Is.EqualTo(before));
    }

    private static readonly object[] BadRequests =
    [
        new object[] { "malformed JSON", "{\"description\": \"x\", ", HttpStatusCode.BadRequest, null! },
        new object[] { "missing description", "{\"contact\":{\"email\":\"a@b.ru\"}}", HttpStatusCode.BadRequest, "description" },
        new object[] { "no contact", "{\"description\":\"x\"}", HttpStatusCode.BadRequest, "contact" },
        new object[] { "bad priority", "{\"description\":\"x\",\"priority\":\"urgent!!\",\"contact\":{\"email\":\"a@b.ru\"}}", HttpStatusCode.BadRequest, "priority" },
        new object[] { "broken base64", "{\"description\":\"x\",\"contact\":{\"email\":\"a@b.ru\"},\"attachments\":[{\"fileName\":\"a.png\",\"contentBase64\":\"%%%\"}]}", HttpStatusCode.BadRequest, "attachments[0].contentBase64" },
        new object[] { "oversized attachment", $"{{\"description\":\"x\",\"contact\":{{\"email\":\"a@b.ru\"}},\"attachments\":[{{\"fileName\":\"big.bin\",\"contentBase64\":\"{Convert.ToBase64String(new byte[200_000])}\"}}]}}", HttpStatusCode.RequestEntityTooLarge, "attachments[0]" },
        new object[] { "oversized body", $"{{\"description\":\"{new string('x', 1_100_000)}\",\"contact\":{{\"email\":\"a@b.ru\"}}}}", HttpStatusCode.RequestEntityTooLarge, null! },
    ];

    [TestCaseSource(nameof(BadRequests))]
    public async Task Bad_input_gets_a_problem_and_writes_nothing(string what, string json, HttpStatusCode status, string? field)
    {
        await _gateway.FileRequestAsync(_intake);
        var before = await DbProbe.CountsAsync(_gateway.Directory);

        var response = await _intake.PostAsync("/api/v1/requests", new StringContent(json, Encoding.UTF8, "application/json"));

        Assert.That(response.StatusCode, Is.EqualTo(status), what);
        Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("application/problem+json"));
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That(problem.GetProperty("detail").GetString(), Is.Not.Empty);
        if (field is not null)
            Assert.That(problem.GetProperty("field").GetString(), Is.EqualTo(field));
        Assert.That(await DbProbe.CountsAsync(_gateway.Directory), Is.EqualTo(before), "nothing half-written");
    }

    [Test]
    public async Task Wrong_api_key_is_401_and_writes_nothing()
    {
        using var client = _gateway.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", "not-a-valid-key-at-all");
        var response = await client.PostAsJsonAsync("/api/v1/requests", new { description = "x", contact = new { email = "a@b.ru" } });

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("application/problem+json"));
        Assert.That((await DbProbe.CountsAsync(_gateway.Directory))["inbound"], Is.Zero);
    }

    [Test]
    public async Task Product_reads_the_ack_and_public_answers_but_not_internal_notes()
    {
        var number = await _gateway.FileRequestAsync(_intake, "Не открывается отчёт");
        using var agent = _gateway.Agent();
        await agent.PostAsJsonAsync($"/api/v1/tickets/{number}/replies", new { text = "Проверьте права доступа" });
        await agent.PostAsJsonAsync($"/api/v1/tickets/{number}/replies", new { text = "internal: user is on trial", @internal = true });

        var view = await _intake.GetFromJsonAsync<JsonElement>($"/api/v1/requests/{number}");
        var texts = view.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("text").GetString()).ToList();
        Assert.That(texts, Has.Count.EqualTo(3));
        Assert.That(texts[1], Does.Contain(number).And.StartWith("Спасибо"));
        Assert.That(texts[2], Is.EqualTo("Проверьте права доступа"));
        Assert.That(view.GetProperty("status").GetString(), Is.EqualTo("in_progress"));
    }
}
