using System.Net.Http.Json;
using System.Text.Json;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Reports;

/// <summary>What strangers put into the report page (an account number through the intake API, a crafted link) comes back as text.</summary>
public sealed class HostileReportTests
{
    private GatewayFactory _gateway = null!;

    [SetUp]
    public void SetUp() => _gateway = new GatewayFactory();

    [TearDown]
    public void TearDown() => _gateway.Dispose();

    [Test]
    public async Task The_report_page_and_its_sign_in_carry_no_active_content_whatever_the_query_or_the_customers_wrote()
    {
        using var intake = _gateway.Intake();
        using var agent = _gateway.Agent();
        foreach (var payload in ActiveContent.Payloads.Take(5))
        {
            var filed = await intake.PostAsJsonAsync("/api/v1/requests", new
            {
                subject = payload, description = ActiveContent.All, contact = new { name = payload, email = "ivan@example.ru", accountNumber = payload },
            });
            Assert.That(filed.IsSuccessStatusCode, Is.True, await filed.Content.ReadAsStringAsync());
        }
        var link = await (await agent.PostAsync("/api/v1/reports/sla/link", null)).Content.ReadFromJsonAsync<JsonElement>();
        var signed = new Uri(link.GetProperty("url").GetString()!).PathAndQuery;
        using var browser = _gateway.CreateClient();

        var pages = new List<(string Query, string Html)> { ("signed", await browser.GetStringAsync(signed)) };
        foreach (var payload in ActiveContent.Payloads)
        {
            var hostile = Uri.EscapeDataString(payload);
            foreach (var query in new[] { $"organisation={hostile}", $"from={hostile}", $"to={hostile}&lang={hostile}" })
            {
                pages.Add(($"sign-in ?{query}", await browser.GetStringAsync($"/reports/sla?{query}")));
                pages.Add(($"signed &{query}", await (await browser.GetAsync($"{signed}&{query}")).Content.ReadAsStringAsync()));
            }
        }

        Assert.That(pages.Any(p => p.Html.Contains("sla-table", StringComparison.Ordinal)), Is.True, "the report itself was drawn");
        Assert.That(pages.Any(p => p.Html.Contains("sg-xss-1", StringComparison.Ordinal)), Is.True, "the input came back, as text");
        foreach (var (query, html) in pages)
            Assert.That(ActiveContent.Find(html), Is.Empty, query);
    }
}
