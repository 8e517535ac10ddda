using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.WebChat;

/// <summary>The widget in real headless Chromium against the gateway on a real socket.</summary>
[NonParallelizable]
public sealed class WidgetBrowserTests
{
    private const string Xss = "<img src=x onerror=alert(1)>";

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

    private async Task<IPage> OpenDemoAsync(string locale = "en-US")
    {
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions { Locale = locale });
        var page = await context.NewPageAsync();
        page.Dialog += (_, dialog) => Assert.Fail($"A script ran from visitor input: dialog '{dialog.Message}'");
        await page.GotoAsync(_gateway.ServerAddress.ToString());
        return page;
    }

    [Test]
    public async Task Visitor_files_a_request_sees_the_number_gets_the_answer_live_and_keeps_history()
    {
        var page = await OpenDemoAsync();
        await page.Locator("#sg-launcher").ClickAsync();
        await page.Locator("#sg-form [name=name]").FillAsync("Ivan");
        await page.Locator("#sg-form [name=description]").FillAsync(Xss);
        await page.Locator("#sg-form [name=type]").SelectOptionAsync("defect");
        await page.Locator("#sg-form [name=files]").SetInputFilesAsync(new FilePayload
        {
            Name = "screenshot.png", MimeType = "image/png", Buffer = Convert.FromBase64String(OnePixelPng),
        });
        await page.Locator("#sg-submit").ClickAsync();

        var numberLocator = page.Locator("#sg-number");
        await Assertions.Expect(numberLocator).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^SG-\d{5,}$"));
        var number = await numberLocator.TextContentAsync();

        // The visitor's markup is shown as text and never becomes an element.
        var customerMessage = page.Locator(".sg-msg.sg-customer .sg-text");
        await Assertions.Expect(customerMessage).ToHaveTextAsync(Xss);
        Assert.That(await page.Locator("#sg-messages img").CountAsync(), Is.Zero);
        await Assertions.Expect(page.Locator(".sg-msg.sg-system")).ToContainTextAsync(number!);

        // An agent's reply arrives live, without a reload, within a second.
        await Assertions.Expect(page.Locator("#supportgateway-webchat[data-live=true]")).ToHaveCountAsync(1);
        using var agent = _gateway.Agent();
        var clock = Stopwatch.StartNew();
        var reply = await agent.PostAsJsonAsync($"/api/v1/tickets/{number}/replies", new { text = $"We are on it. {Xss}" });
        Assert.That(reply.IsSuccessStatusCode, Is.True);
        await Assertions.Expect(page.Locator(".sg-msg.sg-agent .sg-text")).ToHaveTextAsync($"We are on it. {Xss}", new() { Timeout = 1000 });
        TestContext.Out.WriteLine($"agent reply visible in the widget after {clock.ElapsedMilliseconds} ms");

        // A reload keeps the whole conversation.
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("#sg-number")).ToHaveTextAsync(number!);
        await Assertions.Expect(page.Locator(".sg-msg")).ToHaveCountAsync(3);
        await Assertions.Expect(page.Locator(".sg-msg.sg-agent .sg-text")).ToHaveTextAsync($"We are on it. {Xss}");
        Assert.That(await page.Locator("#sg-messages img").CountAsync(), Is.Zero);

        var ticket = await agent.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{number}");
        var attachment = ticket.GetProperty("messages")[0].GetProperty("attachments")[0];
        Assert.That(attachment.GetProperty("fileName").GetString(), Is.EqualTo("screenshot.png"));
        Assert.That(attachment.GetProperty("size").GetInt64(), Is.EqualTo(Convert.FromBase64String(OnePixelPng).Length));
        Assert.That(ticket.GetProperty("ticket").GetProperty("type").GetString(), Is.EqualTo("defect"));
    }

    [Test]
    public async Task Visitor_follows_up_and_can_always_start_a_new_request()
    {
        var page = await OpenDemoAsync("ru-RU");
        await Assertions.Expect(page.Locator("#sg-launcher")).ToHaveTextAsync("Помощь");
        await page.Locator("#sg-launcher").ClickAsync();
        await page.Locator("#sg-form [name=description]").FillAsync("Не печатает принтер");
        await page.Locator("#sg-submit").ClickAsync();
        var first = await page.Locator("#sg-number").TextContentAsync();
        await Assertions.Expect(page.Locator(".sg-msg.sg-system")).ToContainTextAsync("Спасибо");

        await page.Locator("#sg-reply [name=text]").FillAsync("Модель HP 1020");
        await page.Locator("#sg-send").ClickAsync();
        await Assertions.Expect(page.Locator(".sg-msg.sg-customer")).ToHaveCountAsync(2);

        await page.Locator("#sg-new").ClickAsync();
        await page.Locator("#sg-form [name=description]").FillAsync("И ещё почта не работает");
        await page.Locator("#sg-submit").ClickAsync();
        await Assertions.Expect(page.Locator("#sg-number")).Not.ToHaveTextAsync(first!);
        var second = await page.Locator("#sg-number").TextContentAsync();

        await page.Locator("#sg-all").ClickAsync();
        await Assertions.Expect(page.Locator("#sg-requests li")).ToHaveCountAsync(2);
        using var agent = _gateway.Agent();
        var firstTicket = await agent.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{first}");
        Assert.That(firstTicket.GetProperty("messages").EnumerateArray().Count(m => m.GetProperty("authorKind").GetString() == "customer"), Is.EqualTo(2));
        Assert.That(second, Does.Match(@"^SG-\d{5,}$"));
    }

    [Test]
    public async Task A_stranger_cannot_read_someone_elses_request()
    {
        var page = await OpenDemoAsync();
        await page.Locator("#sg-launcher").ClickAsync();
        await page.Locator("#sg-form [name=description]").FillAsync("secret problem");
        await page.Locator("#sg-submit").ClickAsync();
        var number = await page.Locator("#sg-number").TextContentAsync();

        using var stranger = new HttpClient { BaseAddress = _gateway.ServerAddress };
        stranger.DefaultRequestHeaders.Add("X-Visitor-Token", new string('a', 43));
        var read = await stranger.GetAsync($"/webchat/api/requests/{number}");
        var noToken = await new HttpClient { BaseAddress = _gateway.ServerAddress }.GetAsync($"/webchat/api/requests/{number}");
        Assert.That(read.StatusCode, Is.EqualTo(System.Net.HttpStatusCode.NotFound));
        Assert.That(noToken.StatusCode, Is.EqualTo(System.Net.HttpStatusCode.Unauthorized));
    }

    [TestCase("ru-RU", "Решено", "Не решено")]
    [TestCase("en-US", "Solved", "Not solved")]
    public async Task The_resolution_notice_has_buttons_that_confirm_or_reopen(string locale, string solved, string notSolved)
    {
        var page = await OpenDemoAsync(locale);
        await page.Locator("#sg-launcher").ClickAsync();
        await page.Locator("#sg-form [name=description]").FillAsync("Не печатает принтер");
        await page.Locator("#sg-submit").ClickAsync();
        var number = await page.Locator("#sg-number").TextContentAsync();
        await Assertions.Expect(page.Locator("#supportgateway-webchat[data-live=true]")).ToHaveCountAsync(1);
        using var agent = _gateway.Agent();

        // Resolved: the notice arrives live with both buttons in the widget's language.
        await agent.PatchAsJsonAsync($"/api/v1/tickets/{number}", new { status = "resolved", resolution = "solved" });
        await Assertions.Expect(page.Locator(".sg-verdict .sg-not-solved")).ToHaveTextAsync(notSolved);
        await Assertions.Expect(page.Locator(".sg-verdict .sg-solved")).ToHaveTextAsync(solved);
        await page.Locator(".sg-verdict .sg-not-solved").ClickAsync();
        await Assertions.Expect(page.Locator(".sg-verdict:visible")).ToHaveCountAsync(0);
        // The widget shows the answer to the click (before the agent resolves again), and the server agrees.
        await Assertions.Expect(page.Locator("#sg-status")).ToHaveTextAsync(locale == "ru-RU" ? "В работе" : "In progress");
        Assert.That((await agent.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{number}")).GetProperty("ticket").GetProperty("status").GetString(),
            Is.EqualTo("in_progress"), "not solved reopens it");

        // Resolved again: this time the customer confirms, and the ticket closes as confirmed.
        await agent.PatchAsJsonAsync($"/api/v1/tickets/{number}", new { status = "resolved", resolution = "solved" });
        await Assertions.Expect(page.Locator(".sg-verdict:visible .sg-solved")).ToHaveCountAsync(1);
        await page.Locator(".sg-verdict:visible .sg-solved").ClickAsync();
        await Assertions.Expect(page.Locator(".sg-verdict:visible")).ToHaveCountAsync(0);
        var ticket = await agent.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{number}");
        var actions = ticket.GetProperty("audit").EnumerateArray().Select(a => a.GetProperty("action").GetString()).ToList();
        Assert.That(actions, Does.Contain("customer_rejected").And.Contain("customer_confirmed"));
        Assert.That(ticket.GetProperty("ticket").GetProperty("status").GetString(), Is.Not.EqualTo("resolved"));
    }

    [TestCase("ru-RU", @"^Не удалось отправить: Слишком много запросов\. Попробуйте ещё раз через \d+ мин\.$")]
    [TestCase("en-US", @"^Could not send: Too many requests from you\. Please try again in \d+ min\.$")]
    public async Task Over_the_limit_the_widget_says_so_in_the_visitors_language(string locale, string expected)
    {
        _gateway.Dispose();
        _gateway = new GatewayFactory(new Dictionary<string, string?> { ["SupportGateway:Limits:WebChat:NewRequestsPerVisitor:Permits"] = "1" },
            kestrel: true);
        var page = await OpenDemoAsync(locale);
        await page.Locator("#sg-launcher").ClickAsync();
        await page.Locator("#sg-form [name=description]").FillAsync("Не печатает принтер");
        await page.Locator("#sg-submit").ClickAsync();
        await Assertions.Expect(page.Locator("#sg-number")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^SG-\d{5,}$"));

        await page.Locator("#sg-new").ClickAsync();
        await page.Locator("#sg-form [name=description]").FillAsync("И ещё одно");
        await page.Locator("#sg-submit").ClickAsync();
        await Assertions.Expect(page.Locator("#sg-form .sg-error")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(expected));
        // The form stays filled and usable for a later try; nothing was stored.
        await Assertions.Expect(page.Locator("#sg-submit")).ToBeEnabledAsync();
        Assert.That((await DbProbe.CountsAsync(_gateway.Directory))["tickets"], Is.EqualTo(1));
    }

    [TestCase("ru-RU", @"^Не удалось отправить: Поддержка временно не принимает сообщения\. Ничего не отправлено; попробуйте ещё раз через \d+ мин\.$")]
    [TestCase("en-US", @"^Could not send: Support cannot take messages for a moment\. Nothing was sent; please try again in \d+ min\.$")]
    public async Task A_storage_outage_is_said_in_the_visitors_language_and_the_same_form_goes_through_afterwards(string locale, string expected)
    {
        _gateway.Dispose();
        var directory = TempDirectory.Create();
        var file = Path.Combine(directory, "gateway.db");
        try
        {
            await StorageOutageInTheWidgetAsync(locale, expected, directory, file);
        }
        finally
        {
            _gateway.Dispose();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            TempDirectory.Delete(directory);
        }
    }

    private async Task StorageOutageInTheWidgetAsync(string locale, string expected, string directory, string file)
    {
        _gateway = new GatewayFactory(new Dictionary<string, string?>
        {
            // The busy timeout is how long a write waits for another process's lock before the storage counts as unavailable.
            ["SupportGateway:Storage:ConnectionString"] = $"Data Source={file};Default Timeout=1",
            ["SupportGateway:Storage:ProbeFirstDelay"] = "00:00:00.200",
            ["SupportGateway:Storage:ProbeMaxDelay"] = "00:00:01",
        }, kestrel: true);
        var page = await OpenDemoAsync(locale);
        await page.Locator("#sg-launcher").ClickAsync();
        await page.Locator("#sg-form [name=description]").FillAsync("Не печатает принтер");
        // A refused post may have been kept (a commit whose answer was lost): each retry must be the same request.
        var posts = new System.Collections.Concurrent.ConcurrentQueue<(string? Token, string ClientId)>();
        page.Request += (_, request) =>
        {
            if (request.Method == "POST" && request.Url.EndsWith("/webchat/api/requests", StringComparison.Ordinal))
                posts.Enqueue((request.Headers.GetValueOrDefault("x-visitor-token"),
                    System.Text.RegularExpressions.Regex.Match(request.PostData ?? "", "name=\"clientId\"\r\n\r\n([^\r]+)").Groups[1].Value));
        };

        await using (var other = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={file};Pooling=False"))
        {
            await other.OpenAsync();
            await using (var begin = other.CreateCommand())
            {
                begin.CommandText = "BEGIN EXCLUSIVE";
                await begin.ExecuteNonQueryAsync();
            }
            await page.Locator("#sg-submit").ClickAsync();
            await Assertions.Expect(page.Locator("#sg-form .sg-error")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(expected),
                new() { Timeout = 15_000 });
            await using var commit = other.CreateCommand();
            commit.CommandText = "COMMIT";
            await commit.ExecuteNonQueryAsync();
        }
        Assert.That((await DbProbe.CountsAsync(directory))["tickets"], Is.EqualTo(0), "nothing stored from the refused request");

        // The visitor's text is still in the form; once the storage takes writes again the same click files it.
        await Assertions.Expect(page.Locator("#sg-submit")).ToBeEnabledAsync();
        await Eventually.HoldsAsync(async () =>
        {
            await page.Locator("#sg-submit").ClickAsync();
            return await WaitNumberAsync(page);
        }, 30, () => "the form goes through once the storage is back");
        await Assertions.Expect(page.Locator("#sg-number")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^SG-\d{5,}$"));
        Assert.That((await DbProbe.CountsAsync(directory))["tickets"], Is.EqualTo(1));
        Assert.That(posts, Has.Count.GreaterThanOrEqualTo(2));
        Assert.That(posts.Distinct().ToList(), Has.Count.EqualTo(1), "every post of the form with the same visitor token and clientId");
        Assert.That(posts.First().Token, Has.Length.GreaterThanOrEqualTo(32));
        Assert.That(posts.First().ClientId, Has.Length.GreaterThanOrEqualTo(8));
        Assert.That(await page.EvaluateAsync<string>("() => Object.keys(localStorage).filter(k => k.endsWith('token')).map(k => localStorage.getItem(k))[0]"),
            Is.EqualTo(posts.First().Token), "the token the first post made is the one the widget keeps");
    }

    private static async Task<bool> WaitNumberAsync(IPage page)
    {
        try
        {
            await page.Locator("#sg-number").WaitForAsync(new() { State = WaitForSelectorState.Visible, Timeout = 2_000 });
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private const string OnePixelPng =
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
}
