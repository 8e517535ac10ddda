using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using SupportGateway.Core.Sla;
using SupportGateway.Mail.Inbound;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Sla;

/// <summary>
/// Escalation and closure mail through the real Postfix and Dovecot, with the clock moved by hand: warnings and
/// breaches reach the team address once each, a medium breach waits for the morning, an emergency's goes at once,
/// and a web chat customer who gave an address hears of the auto-close by mail.
/// </summary>
[NonParallelizable]
public sealed class EscalationMailTests
{
    // Wednesday 2 December 2026, 09:00 in Moscow; the calendar is open every day 09:00-18:00.
    private static readonly DateTimeOffset Opening = new(2026, 12, 2, 9, 0, 0, TimeSpan.FromHours(3));

    private ManualTime _time = null!;
    private GatewayFactory _gateway = null!;
    private HttpClient _agent = null!;
    private HttpClient _intake = null!;
    private SlaScheduler _scheduler = null!;
    private string _team = "";

    [OneTimeSetUp]
    public Task Servers() => MailServers.EnsureStartedAsync();

    [SetUp]
    public void StartGateway()
    {
        var id = Guid.NewGuid().ToString("N")[..10];
        // The test servers take support<anything>@sg.test: the team address and the visitor are such mailboxes.
        _team = $"supportteam{id}@sg.test";
        var settings = MailServers.MailboxSettings($"support{id}@sg.test");
        settings["SupportGateway:Channels:Email:AgentNotifications:To"] = _team;
        settings["SupportGateway:Channels:Email:AgentNotifications:Secret"] = "test-secret-that-signs-reply-tokens-0001";
        _time = new ManualTime(Opening);
        _gateway = new GatewayFactory(ServiceLevelTests.OfficeHours(settings), time: _time);
        _agent = _gateway.Agent();
        _intake = _gateway.Intake();
        _scheduler = _gateway.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<SlaScheduler>().Single();
    }

    [TearDown]
    public void StopGateway()
    {
        _agent.Dispose();
        _intake.Dispose();
        _gateway.Dispose();
    }

    /// <summary>The SLA mails of one ticket in the team's mailbox, by subject.</summary>
    private List<string> SlaMails(string number)
    {
        var subjects = new List<string>();
        foreach (var dir in new[] { "new", "cur" }.Select(d => Path.Combine(MailServers.Maildir(_team), d)).Where(Directory.Exists))
        {
            foreach (var file in Directory.EnumerateFiles(dir))
            {
                var subject = InboundMail.Read(File.ReadAllBytes(file)).Subject;
                if (subject.Contains(number, StringComparison.Ordinal) && subject.Contains("SLA", StringComparison.Ordinal))
                    subjects.Add(subject);
            }
        }
        return subjects;
    }

    private async Task<List<string>> AuditAsync(string number) =>
        [.. (await _agent.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{number}")).GetProperty("audit").EnumerateArray().Select(a => a.GetProperty("action").GetString()!)];

    [Test]
    public async Task Warning_and_breach_reach_the_team_once_each_and_a_medium_breach_waits_for_the_morning()
    {
        var number = await _gateway.FileRequestAsync(_intake, "Не формируется отчёт");
        // Medium: 9 business hours from 09:00 is due at 18:00; 75 % of it is used at 15:45.
        _time.Advance(TimeSpan.FromHours(6) + TimeSpan.FromMinutes(46));
        Assert.That(await _scheduler.RunDueAsync(CancellationToken.None), Is.EqualTo(1));
        var warning = InboundMail.Read(await MailServers.WaitForDeliveryAsync(_team, "SLA 75%"));
        Assert.That(warning.Subject, Does.StartWith($"[{number}] SLA 75%"));
        Assert.That(warning.Text, Does.Contain("2026-12-02T18:00:00+03:00").And.Contain("2 h 14 min"), "due time and what is left");
        Assert.That(warning.InReplyTo.Single(), Does.StartWith(number), "in the ticket's thread");

        // 18:30: the target is used up at closing time, but a medium ticket's breach notice waits for business hours.
        _time.Advance(TimeSpan.FromHours(2) + TimeSpan.FromMinutes(44));
        Assert.That(await _scheduler.RunDueAsync(CancellationToken.None), Is.Zero);
        Assert.That(await AuditAsync(number), Does.Not.Contain("sla_breached"));

        // 09:01 the next morning it goes.
        _time.Advance(TimeSpan.FromHours(14) + TimeSpan.FromMinutes(31));
        Assert.That(await _scheduler.RunDueAsync(CancellationToken.None), Is.EqualTo(1));
        var breach = InboundMail.Read(await MailServers.WaitForDeliveryAsync(_team, "SLA breached"));
        Assert.That(breach.Subject, Does.StartWith($"[{number}] SLA breached"));

        // Even when the schedule is forced due again (a crash between steps, a second instance), nothing repeats.
        await using (var connection = new SqliteConnection($"Data Source={Path.Combine(_gateway.Directory, "gateway.db")};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "UPDATE tickets SET sla_next_at = 0";
            await command.ExecuteNonQueryAsync();
        }
        _time.Advance(TimeSpan.FromHours(3));
        await _scheduler.RunDueAsync(CancellationToken.None);
        await Task.Delay(1500);
        var audit = await AuditAsync(number);
        Assert.That(audit.Count(a => a == "sla_warning"), Is.EqualTo(1));
        Assert.That(audit.Count(a => a == "sla_breached"), Is.EqualTo(1));
        Assert.That(SlaMails(number), Has.Count.EqualTo(2));
    }

    [Test]
    public async Task An_emergency_breach_is_told_at_once_after_hours()
    {
        _time.Advance(TimeSpan.FromHours(8));
        var number = await _gateway.FileRequestAsync(_intake, "Сервер недоступен");
        var patched = await _agent.PatchAsJsonAsync($"/api/v1/tickets/{number}", new { priority = "emergency" });
        Assert.That(patched.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        // Filed at 17:00 with a 1-hour target: due at 18:00, closing time. At 18:05 the office is closed.
        _time.Advance(TimeSpan.FromMinutes(65));
        await _scheduler.RunDueAsync(CancellationToken.None);
        var breach = InboundMail.Read(await MailServers.WaitForDeliveryAsync(_team, "SLA breached"));
        Assert.That(breach.Subject, Does.Contain(number));
        Assert.That(breach.Text, Does.Contain("2026-12-02T18:00:00+03:00"));
    }

    [Test]
    public async Task A_web_chat_customer_who_gave_an_address_hears_of_the_auto_close_by_mail()
    {
        var visitorAddress = $"supportvisitor{Guid.NewGuid():N}"[..24] + "@sg.test";
        using var visitor = _gateway.CreateClient();
        var form = new MultipartFormDataContent
        {
            { new StringContent("Ольга"), "name" }, { new StringContent(visitorAddress), "email" },
            { new StringContent("Не открывается личный кабинет"), "description" }, { new StringContent("ru"), "lang" },
        };
        var created = await (await visitor.PostAsync("/webchat/api/requests", form)).Content.ReadFromJsonAsync<JsonElement>();
        var number = created.GetProperty("conversation").GetProperty("ticket").GetProperty("number").GetString()!;
        visitor.DefaultRequestHeaders.Add("X-Visitor-Token", created.GetProperty("token").GetString());
        await _agent.PatchAsJsonAsync($"/api/v1/tickets/{number}", new { status = "resolved", resolution = "solved" });

        _time.Advance(TimeSpan.FromDays(3) + TimeSpan.FromMinutes(1));
        Assert.That(await _scheduler.RunDueAsync(CancellationToken.None), Is.EqualTo(1));

        var notice = InboundMail.Read(await MailServers.WaitForDeliveryAsync(visitorAddress, number));
        Assert.That(notice.Subject, Does.Contain(number));
        Assert.That(notice.Text, Does.Contain("закрыто"), "in the customer's language");
        var conversation = await visitor.GetFromJsonAsync<JsonElement>($"/webchat/api/requests/{number}");
        Assert.That(conversation.GetProperty("ticket").GetProperty("status").GetString(), Is.EqualTo("closed"));
        Assert.That(conversation.GetProperty("messages").EnumerateArray().Last().GetProperty("text").GetString(), Does.Contain("закрыто"));
    }
}
