using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Options;
using NodaTime;
using SupportGateway.Host.Agents;
using SupportGateway.Host.Reports;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Reports;

[NonParallelizable]
public sealed class SlaReportApiTests
{
    private const string November = "from=2026-11-01&to=2026-12-01";

    private GatewayFactory _gateway = null!;
    private ManualTime _clock = null!;
    private IReadOnlyDictionary<string, string> _numbers = null!;

    [OneTimeSetUp]
    public async Task Seed()
    {
        _clock = SlaReportScenario.NewClock();
        _gateway = SlaReportScenario.NewGateway(_clock);
        _numbers = await SlaReportScenario.SeedAsync(_gateway, _clock);
    }

    [OneTimeTearDown]
    public void Stop() => _gateway.Dispose();

    [Test]
    public async Task Json_report_has_the_rows_breaches_and_weeks()
    {
        using var agent = _gateway.Agent();
        var report = await agent.GetFromJsonAsync<JsonElement>($"/api/v1/reports/sla?{November}");

        Assert.That(report.GetProperty("from").GetString(), Is.EqualTo("2026-11-01T00:00:00+03:00"));
        Assert.That(report.GetProperty("timeZone").GetString(), Is.EqualTo("Europe/Moscow"));
        var rows = report.GetProperty("rows");
        Assert.That(rows.EnumerateArray().Select(r => r.GetProperty("priority").GetString()), Is.EqualTo(new[] { "emergency", "high", "medium", "low", "total" }));
        var total = rows[4];
        Assert.That((total.GetProperty("closed").GetInt32(), total.GetProperty("met").GetInt32(), total.GetProperty("shareMet").GetDouble()), Is.EqualTo((10, 7, 0.7)));
        Assert.That(total.GetProperty("hoursToResolution").GetProperty("median").GetDouble(), Is.EqualTo(25));
        Assert.That(total.GetProperty("hoursToClosure").GetProperty("p90").GetDouble(), Is.EqualTo(50));
        Assert.That(report.GetProperty("breached").EnumerateArray().Select(b => (b.GetProperty("number").GetString(), b.GetProperty("hoursUsed").GetDouble(), b.GetProperty("targetHours").GetDouble())),
            Is.EqualTo(new[] { (_numbers["B"], 14.0, 12.0), (_numbers["D"], 28.0, 24.0), (_numbers["K"], 100.0, 96.0) }));
        var weeks = report.GetProperty("weeks");
        Assert.That(weeks.EnumerateArray().Select(w => w.GetProperty("week").GetString()), Is.EqualTo(new[] { "2026-W44", "2026-W45", "2026-W46", "2026-W47", "2026-W48", "2026-W49" }));
        Assert.That(weeks[1].GetProperty("priorities")[0].GetProperty("shareMet").GetDouble(), Is.EqualTo(0.5));
        Assert.That(weeks[0].GetProperty("priorities")[0].GetProperty("shareMet").ValueKind, Is.EqualTo(JsonValueKind.Null), "an empty week says null, not nothing");
    }

    [Test]
    public async Task Csv_report_is_a_header_and_one_row_per_priority_and_the_total()
    {
        using var agent = _gateway.Agent();
        var response = await agent.GetAsync($"/api/v1/reports/sla?{November}&format=csv");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType!.ToString(), Is.EqualTo("text/csv; charset=utf-8"));
        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo(
            "priority,closed,met,share_met,median_hours_to_resolution,p90_hours_to_resolution,median_hours_to_closure,p90_hours_to_closure\r\n" +
            "emergency,2,1,0.5,10,14,10,14\r\n" +
            "high,3,2,0.6667,12,28,12,28\r\n" +
            "medium,2,2,1,27,30,32,40\r\n" +
            "low,3,2,0.6667,50,100,50,100\r\n" +
            "total,10,7,0.7,25,50,25,50\r\n"));
    }

    [TestCase("a,b", "\"a,b\"")]
    [TestCase("say \"hi\"", "\"say \"\"hi\"\"\"")]
    [TestCase("two\r\nlines", "\"two\r\nlines\"")]
    [TestCase("plain", "plain")]
    public void Csv_fields_are_quoted_as_rfc_4180_says(string value, string expected) =>
        Assert.That(ReportFormats.CsvField(value), Is.EqualTo(expected));

    [TestCase("from=yesterday", "from")]
    [TestCase("to=2026-02-30", "to")]
    [TestCase("from=2026-12-01&to=2026-11-01", "from")]
    [TestCase("format=xlsx", "format")]
    [TestCase("organisation=NOPE-9", "organisation")]
    public async Task Bad_parameter_is_a_400_problem_naming_the_field(string query, string field)
    {
        using var agent = _gateway.Agent();
        var response = await agent.GetAsync($"/api/v1/reports/sla?{query}");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("application/problem+json"));
        Assert.That((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString(), Is.EqualTo(field));
    }

    [TestCase("GET", "/api/v1/reports/sla")]
    [TestCase("POST", "/api/v1/reports/sla/link")]
    public async Task Without_an_agent_key_the_api_answers_401(string method, string path)
    {
        using var anonymous = _gateway.CreateClient();
        var response = await anonymous.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    [Test]
    public async Task Login_sets_a_signed_http_only_strict_cookie_never_the_key()
    {
        using var browser = _gateway.CreateClient(new() { AllowAutoRedirect = false });
        var wrong = await browser.PostAsync("/reports/sla/login", new FormUrlEncodedContent(new Dictionary<string, string> { ["key"] = "not-a-key-at-all" }));
        Assert.That(wrong.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(wrong.Headers.Contains("Set-Cookie"), Is.False);

        var response = await browser.PostAsync($"/reports/sla/login?{November}&lang=ru",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["key"] = GatewayFactory.AgentKey }));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.SeeOther));
        Assert.That(response.Headers.Location!.ToString(), Is.EqualTo($"/reports/sla?{November}&lang=ru"));
        var cookie = response.Headers.GetValues("Set-Cookie").Single();
        Assert.That(cookie, Does.StartWith("sg_report=").And.Contain("httponly").And.Contain("samesite=strict").And.Contain("path=/reports"));
        Assert.That(cookie, Does.Not.Contain(GatewayFactory.AgentKey));
    }

    [Test]
    public async Task Signed_link_opens_the_page_for_24_hours_and_a_forged_one_is_refused()
    {
        using var agent = _gateway.Agent();
        var link = await (await agent.PostAsync($"/api/v1/reports/sla/link?{November}", null)).Content.ReadFromJsonAsync<JsonElement>();
        var url = new Uri(link.GetProperty("url").GetString()!);
        Assert.That(url.Query, Does.StartWith($"?{November}&token="));

        using var browser = _gateway.CreateClient();
        var page = await browser.GetAsync(url.PathAndQuery);
        Assert.That(page.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await page.Content.ReadAsStringAsync(), Does.Contain("id=\"sla-table\""));
        Assert.That(page.Headers.GetValues("Referrer-Policy").Single(), Is.EqualTo("no-referrer"));

        var forged = url.PathAndQuery[..^2] + (url.PathAndQuery[^2] == 'A' ? "B" : "A") + url.PathAndQuery[^1];
        var refused = await browser.GetAsync(forged);
        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(await refused.Content.ReadAsStringAsync(), Does.Contain("id=\"sla-login\"").And.Not.Contain("id=\"sla-table\""));

        _clock.Advance(TimeSpan.FromHours(24));
        Assert.That((await browser.GetAsync(url.PathAndQuery)).StatusCode, Is.EqualTo(HttpStatusCode.Forbidden), "expired after 24 h");
    }

    [Test]
    public void A_changed_api_key_revokes_the_agent_s_tokens()
    {
        var before = new AgentOptions { Name = "Anna", Email = GatewayFactory.AgentEmail, ApiKey = "old-key-0000000001" };
        var token = ReportAccess.Issue(before, Instant.FromUtc(2030, 1, 1, 0, 0));
        var now = Instant.FromUtc(2026, 11, 1, 0, 0);
        var same = new AgentDirectory(Options.Create(new List<AgentOptions> { before }));
        var rotated = new AgentDirectory(Options.Create(new List<AgentOptions> { new() { Name = "Anna", Email = before.Email, ApiKey = "new-key-0000000002" } }));

        Assert.That(ReportAccess.Verify(same, token, now)?.Email, Is.EqualTo(before.Email));
        Assert.That(ReportAccess.Verify(rotated, token, now), Is.Null);
        Assert.That(ReportAccess.Verify(same, token + "x", now), Is.Null);
        Assert.That(ReportAccess.Verify(same, "bm90LWEtdG9rZW4", now), Is.Null);
    }
}
