using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Reports;

/// <summary>The report page in real headless Chromium against the seeded gateway on a real socket.</summary>
[NonParallelizable]
public sealed class SlaReportPageTests
{
    private const string November = "from=2026-11-01&to=2026-12-01";
    private const string Xss = "<img src=x onerror=alert(1)>";

    private GatewayFactory _gateway = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;
    private IReadOnlyDictionary<string, string> _numbers = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        var clock = SlaReportScenario.NewClock();
        _gateway = SlaReportScenario.NewGateway(clock, kestrel: true);
        _numbers = await SlaReportScenario.SeedAsync(_gateway, clock);
        _playwright = await Playwright.CreateAsync();
        _browser = await Chromium.LaunchAsync(_playwright);
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        _gateway.Dispose();
    }

    private async Task<IPage> OpenAsync(string path, string locale = "en-US")
    {
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions { Locale = locale, ViewportSize = new() { Width = 1100, Height = 1300 } });
        var page = await context.NewPageAsync();
        page.Dialog += (_, dialog) => Assert.Fail($"A script ran from report input: dialog '{dialog.Message}'");
        await page.GotoAsync(new Uri(_gateway.ServerAddress, path).ToString());
        return page;
    }

    private static async Task ScreenshotAsync(IPage page, string name)
    {
        var path = Path.Combine(TestContext.CurrentContext.WorkDirectory, $"{name}.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        TestContext.AddTestAttachment(path, name);
    }

    [Test]
    public async Task Agent_signs_in_with_the_key_and_sees_the_table_and_the_chart()
    {
        var page = await OpenAsync($"/reports/sla?{November}");
        await Assertions.Expect(page.Locator("#sla-login")).ToBeVisibleAsync();
        Assert.That(await page.Locator("#sla-table").CountAsync(), Is.Zero, "no report without a session");

        await page.Locator("#sla-login [name=key]").FillAsync(GatewayFactory.AgentKey);
        await page.Locator("#sla-login button").ClickAsync();

        var total = page.Locator("#sla-table tr[data-priority=total]");
        await Assertions.Expect(total.Locator("th")).ToHaveTextAsync("Total");
        await Assertions.Expect(total.Locator("[data-col=closed]")).ToHaveTextAsync("10");
        await Assertions.Expect(total.Locator("[data-col=share]")).ToHaveTextAsync("70%");
        await Assertions.Expect(total.Locator("[data-col=resolution-median]")).ToHaveTextAsync("25");
        await Assertions.Expect(total.Locator("[data-col=closure-p90]")).ToHaveTextAsync("50");
        await Assertions.Expect(page.Locator("#sla-table tr[data-priority=high] [data-col=share]")).ToHaveTextAsync("66.7%");
        await Assertions.Expect(page.Locator("#sla-table tr[data-priority=medium] [data-col=closure-median]")).ToHaveTextAsync("32");
        await Assertions.Expect(page.Locator("#sla-breached tbody th")).ToHaveTextAsync([_numbers["B"], _numbers["D"], _numbers["K"]]);

        var chart = page.Locator("svg#sla-chart");
        await Assertions.Expect(chart).ToBeVisibleAsync();
        Assert.That(await chart.Locator("g.series").CountAsync(), Is.EqualTo(4));
        // A bar per week and priority with closures: emergency 1, high 2, medium 2, low 2.
        Assert.That(await chart.Locator("g.series rect").CountAsync(), Is.EqualTo(7));
        Assert.That(await chart.Locator("g.series[data-priority=low] rect[data-week='2026-11-16']").GetAttributeAsync("data-share"), Is.EqualTo("0"));
        Assert.That(await chart.Locator("g.series[data-priority=high] rect[data-week='2026-11-23'] title").TextContentAsync(),
            Is.EqualTo("High, Week of 2026-11-23: 100% (Closed: 1)"));
        await Assertions.Expect(chart.Locator("g.axis.y text")).ToHaveTextAsync(["0%", "25%", "50%", "75%", "100%"]);
        await Assertions.Expect(chart.Locator("g.legend text")).ToHaveTextAsync(["Emergency", "High", "Medium", "Low"]);

        var cookie = (await page.Context.CookiesAsync()).Single(c => c.Name == "sg_report");
        Assert.That((cookie.HttpOnly, cookie.SameSite), Is.EqualTo((true, SameSiteAttribute.Strict)));
        Assert.That(cookie.Value, Does.Not.Contain(GatewayFactory.AgentKey));
        await ScreenshotAsync(page, "sla-report-en");

        // Input comes back encoded, as text.
        await page.GotoAsync(new Uri(_gateway.ServerAddress, $"/reports/sla?organisation={Uri.EscapeDataString(Xss)}").ToString());
        await Assertions.Expect(page.Locator("#sla-error")).ToContainTextAsync(Xss);
        Assert.That(await page.Locator("main img").CountAsync(), Is.Zero);
    }

    [Test]
    public async Task Signed_link_opens_the_page_in_russian_without_signing_in()
    {
        using var agent = _gateway.Agent();
        var link = await (await agent.PostAsync($"/api/v1/reports/sla/link?{November}", null)).Content.ReadFromJsonAsync<JsonElement>();

        var page = await OpenAsync(new Uri(link.GetProperty("url").GetString()!).PathAndQuery, "ru-RU");

        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Отчёт по SLA");
        var total = page.Locator("#sla-table tr[data-priority=total]");
        await Assertions.Expect(total.Locator("th")).ToHaveTextAsync("Итого");
        await Assertions.Expect(total.Locator("[data-col=share]")).ToHaveTextAsync("70\u00a0%");
        await Assertions.Expect(page.Locator("#sla-table tr[data-priority=high] [data-col=share]")).ToHaveTextAsync("66,7\u00a0%");
        await Assertions.Expect(page.Locator("svg#sla-chart g.legend text")).ToHaveTextAsync(["Критический", "Высокий", "Средний", "Низкий"]);
        await ScreenshotAsync(page, "sla-report-ru");

        // The language links keep the token, so switching language keeps the access.
        await page.Locator("nav a[lang=en]").ClickAsync();
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("SLA report");
    }

    [Test]
    public async Task Forged_token_is_refused_with_the_sign_in_form()
    {
        using var agent = _gateway.Agent();
        var link = await (await agent.PostAsync($"/api/v1/reports/sla/link?{November}", null)).Content.ReadFromJsonAsync<JsonElement>();
        var url = new Uri(link.GetProperty("url").GetString()!).PathAndQuery;
        // The same e-mail and a later expiry, signed with a guessed key.
        var forged = SupportGateway.Host.Reports.ReportAccess.Issue(
            new() { Name = "Anna", Email = GatewayFactory.AgentEmail, ApiKey = "guessed-key-000001" }, NodaTime.Instant.FromUtc(2030, 1, 1, 0, 0));

        var page = await OpenAsync(url[..(url.IndexOf("token=", StringComparison.Ordinal) + 6)] + forged);

        await Assertions.Expect(page.Locator("#sla-error")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#sla-login")).ToBeVisibleAsync();
        Assert.That(await page.Locator("#sla-table").CountAsync(), Is.Zero);
    }
}
