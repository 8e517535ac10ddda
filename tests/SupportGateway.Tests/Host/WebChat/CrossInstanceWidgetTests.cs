using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.Playwright;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.WebChat;

/// <summary>The widget in real Chromium, loaded from one instance, while the agent answers through another.</summary>
[NonParallelizable]
public sealed class CrossInstanceWidgetTests
{
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    [OneTimeSetUp]
    public async Task StartBrowser()
    {
        _playwright = await Playwright.CreateAsync();
        _browser = await Chromium.LaunchAsync(_playwright);
    }

    [OneTimeTearDown]
    public async Task StopBrowser()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }

    [Test]
    public async Task The_widget_loaded_from_one_instance_shows_an_answer_posted_through_another()
    {
        await using var database = await TestDatabase.CreateAsync(StorageEngine.Postgres);
        using var first = new GatewayFactory(database.Settings, kestrel: true);
        using var second = new GatewayFactory(database.Settings, kestrel: true);

        await AnswerShowsInTheWidgetAsync(_browser, first.ServerAddress, second.ServerAddress);
    }

    /// <summary>
    /// A visitor files a request in the widget served at <paramref name="widgetBase"/>; an agent answers through the API
    /// at <paramref name="agentBase"/>; the answer shows live. The two may be instances, or balancers in front of them.
    /// </summary>
    internal static async Task AnswerShowsInTheWidgetAsync(IBrowser browser, Uri widgetBase, Uri agentBase)
    {
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { Locale = "en-US" });
        var page = await context.NewPageAsync();
        await page.GotoAsync(widgetBase.ToString());
        await page.Locator("#sg-launcher").ClickAsync();
        await page.Locator("#sg-form [name=name]").FillAsync("Ivan");
        await page.Locator("#sg-form [name=description]").FillAsync("The printer on floor 3 is jammed");
        await page.Locator("#sg-submit").ClickAsync();
        var numberLocator = page.Locator("#sg-number");
        await Assertions.Expect(numberLocator).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^SG-\d{5,}$"));
        var number = await numberLocator.TextContentAsync();
        await Assertions.Expect(page.Locator("#supportgateway-webchat[data-live=true]")).ToHaveCountAsync(1);

        using var agent = new HttpClient { BaseAddress = agentBase };
        agent.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayFactory.AgentKey);
        var reply = await agent.PostAsJsonAsync($"/api/v1/tickets/{number}/replies", new { text = "Fixed: the tray was stuck." });
        Assert.That(reply.IsSuccessStatusCode, Is.True, await reply.Content.ReadAsStringAsync());

        await Assertions.Expect(page.Locator(".sg-msg.sg-agent .sg-text")).ToHaveTextAsync("Fixed: the tray was stuck.", new() { Timeout = 10_000 });
        await Assertions.Expect(page.Locator(".sg-msg.sg-agent")).ToHaveCountAsync(1);
    }
}
