using System.Net.Http.Json;
using Microsoft.Playwright;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.WebChat;

/// <summary>The widget in real headless Chromium: every payload a visitor or an agent writes is shown as text, live and after a reload.</summary>
[NonParallelizable]
public sealed class HostileWidgetTests
{
    private const string Widget = "supportgateway-webchat";

    private GatewayFactory _gateway = null!;
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

    [SetUp]
    public void StartGateway() => _gateway = new GatewayFactory(kestrel: true);

    [TearDown]
    public void StopGateway() => _gateway.Dispose();

    /// <summary>The widget lives in a shadow root, which the page's own HTML does not show.</summary>
    private static Task<string> WidgetHtmlAsync(IPage page) =>
        page.EvaluateAsync<string>($"() => document.getElementById('{Widget}').shadowRoot.innerHTML");

    [Test]
    public async Task Script_from_the_visitor_and_from_the_agent_stays_text_in_the_widget()
    {
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions { Locale = "en-US" });
        var page = await context.NewPageAsync();
        var dialogs = new List<string>();
        page.Dialog += async (_, dialog) =>
        {
            dialogs.Add(dialog.Message);
            await dialog.DismissAsync();
        };
        await page.GotoAsync(_gateway.ServerAddress.ToString());
        await page.Locator("#sg-launcher").ClickAsync();
        await page.Locator("#sg-form [name=name]").FillAsync(ActiveContent.Payloads[2]);
        await page.Locator("#sg-form [name=description]").FillAsync(ActiveContent.All);
        await page.Locator("#sg-form [name=files]").SetInputFilesAsync(new FilePayload
        {
            Name = "<svg onload=alert(1)>.png", MimeType = "image/png", Buffer = SampleFiles.OnePixelPng,
        });
        await page.Locator("#sg-submit").ClickAsync();
        await Assertions.Expect(page.Locator("#sg-number")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^SG-\d{5,}$"));
        var number = await page.Locator("#sg-number").TextContentAsync();

        await Assertions.Expect(page.Locator($"#{Widget}[data-live=true]")).ToHaveCountAsync(1);
        using var agent = _gateway.Agent();
        var reply = await agent.PostAsJsonAsync($"/api/v1/tickets/{number}/replies", new
        {
            text = "Agent: " + ActiveContent.All,
            attachments = new[] { new { fileName = "<img src=x onerror=alert(2)>.png", contentType = "image/png", contentBase64 = Convert.ToBase64String(SampleFiles.OnePixelPng) } },
        });
        Assert.That(reply.IsSuccessStatusCode, Is.True, await reply.Content.ReadAsStringAsync());
        await Assertions.Expect(page.Locator(".sg-msg.sg-agent .sg-text")).ToContainTextAsync("sg-xss-25");
        await Assertions.Expect(page.Locator(".sg-msg.sg-customer .sg-text")).ToContainTextAsync("<script>alert('sg-xss-1')</script>");
        var live = await WidgetHtmlAsync(page);

        await page.ReloadAsync();
        await Assertions.Expect(page.Locator(".sg-msg")).ToHaveCountAsync(3);
        await Assertions.Expect(page.Locator(".sg-msg.sg-agent .sg-text")).ToContainTextAsync("sg-xss-25");
        var reloaded = await WidgetHtmlAsync(page);

        foreach (var (moment, html) in new[] { ("live", live), ("after a reload", reloaded) })
        {
            Assert.That(html, Does.Contain("sg-xss-1").And.Contain("sg-file"), moment);
            Assert.That(ActiveContent.Find(html), Is.Empty, moment);
        }
        Assert.That(await page.Locator(".sg-file").AllTextContentsAsync(), Does.Contain("📎 _svg onload=alert(1)_.png").And.Contain("📎 _img src=x onerror=alert(2)_.png"));
        Assert.That(await page.EvaluateAsync<int>($"() => document.getElementById('{Widget}').shadowRoot.querySelectorAll('script, img, iframe, svg, object').length"), Is.Zero);
        Assert.That(dialogs, Is.Empty, "no script ran");
    }
}
