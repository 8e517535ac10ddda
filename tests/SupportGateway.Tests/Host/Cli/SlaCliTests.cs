using System.Net.Http.Json;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Cli;

/// <summary><c>sla due</c> on the shipped calendars (holidays and the decree's transfers included) and <c>sla explain</c>.</summary>
public sealed class SlaCliTests
{
    private string _directory = "";

    [SetUp]
    public void SetUp() => _directory = TempDirectory.Create();

    [TearDown]
    public void TearDown() => TempDirectory.Delete(_directory);

    // 30 Apr is shortened to 17:00 (Labour Code art. 95), 1 May a holiday, then the weekend: 1 h + 9 h + 2 h.
    [TestCase("ru-5day-2026", "2026-04-30T16:00:00+03:00", "12", "2026-05-05T11:00:00+03:00")]
    // 1-8 Jan are holidays and 9 Jan the day off moved from Sat 3 Jan by decree No. 1466: work resumes on 12 Jan.
    [TestCase("ru-5day-2026", "2026-01-01T10:00:00+03:00", "12", "2026-01-13T12:00:00+03:00")]
    [TestCase("ru-5day-2026", "2026-01-08T17:00:00+03:00", "1", "2026-01-12T10:00:00+03:00")]
    // Used up exactly at closing time: due then, not at the next opening (31 Dec is a day off by the decree).
    [TestCase("ru-5day-2026", "2026-12-30T17:00:00+03:00", "1", "2026-12-30T18:00:00+03:00")]
    // Russia Day, a Friday, given in UTC: the answer is in the calendar's offset.
    [TestCase("ru-5day-2026", "2026-06-12T06:00:00Z", "1", "2026-06-15T10:00:00+03:00")]
    [TestCase("moscow-6day", "2026-12-05T17:00:00+03:00", "2", "2026-12-07T10:00:00+03:00")]
    [TestCase("daily-9-21", "2026-12-31T20:00:00+03:00", "2", "2027-01-01T10:00:00+03:00")]
    [TestCase("24x7", "2026-12-31T17:00:00+03:00", "12", "2027-01-01T05:00:00+03:00")]
    public async Task Sla_due_prints_the_instant_in_the_calendars_offset(string calendar, string from, string hours, string expected)
    {
        var (exit, output) = await GatewayProcess.RunAsync(_directory, GatewayProcess.Environment(_directory),
            "sla", "due", "--calendar", calendar, "--from", from, "--hours", hours);
        Assert.That((exit, output.Trim()), Is.EqualTo((0, expected)));
    }

    [TestCase("nowhere", "2026-12-31T17:00:00+03:00", "error: 'nowhere' is not a calendar")]
    [TestCase("24x7", "2026-12-31T17:00:00", "error: --from '2026-12-31T17:00:00' is not an ISO 8601 instant with an offset")]
    public async Task Sla_due_refuses_bad_input_with_one_line(string calendar, string from, string expected)
    {
        var (exit, output) = await GatewayProcess.RunAsync(_directory, GatewayProcess.Environment(_directory),
            "sla", "due", "--calendar", calendar, "--from", from, "--hours", "1");
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(output.Trim(), Does.StartWith(expected));
        Assert.That(output.Trim().Split('\n'), Has.Length.EqualTo(1));
    }

    [Test]
    public async Task Check_config_names_the_policies_and_warns_of_a_calendar_whose_years_are_over()
    {
        var env = GatewayProcess.Environment(_directory);
        env["SupportGateway__Sla__Calendars__0__Name"] = "old-office";
        env["SupportGateway__Sla__Calendars__0__TimeZone"] = "Europe/Moscow";
        env["SupportGateway__Sla__Calendars__0__Hours__Mon__0"] = "09:00-18:00";
        env["SupportGateway__Sla__Calendars__0__Holidays__0"] = "2020-01-01";
        env["SupportGateway__Sla__Policies__0__Name"] = "contract";
        env["SupportGateway__Sla__Policies__0__Calendar"] = "old-office";
        env["SupportGateway__Sla__DefaultPolicy"] = "contract";
        var (exit, output) = await GatewayProcess.RunAsync(_directory, env, "check-config");
        Assert.That(exit, Is.Zero, output);
        Assert.That(output, Does.Contain("sla: default contract; policies contract (old-office)"));
        Assert.That(output, Does.Contain("warning: calendar old-office lists holidays up to 2020 only"));

        env["SupportGateway__Sla__Policies__0__Calendar"] = "nowhere";
        (exit, output) = await GatewayProcess.RunAsync(_directory, env, "check-config");
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(output, Does.Contain("error: SupportGateway:Sla:Policies:0:Calendar: 'nowhere' is not a calendar"));
    }

    [Test]
    public async Task Sla_explain_prints_the_intervals_and_totals_of_a_ticket()
    {
        // In the past: the CLI reads the ticket at the real now.
        var time = new ManualTime(new DateTimeOffset(2026, 11, 2, 9, 0, 0, TimeSpan.FromHours(3)));
        string number;
        using (var gateway = new GatewayFactory(new Dictionary<string, string?>
        {
            ["SupportGateway:Storage:ConnectionString"] = $"Data Source={Path.Combine(_directory, "gateway.db")}",
        }, time: time))
        {
            using var intake = gateway.Intake();
            using var agent = gateway.Agent();
            number = await gateway.FileRequestAsync(intake);
            time.Advance(TimeSpan.FromHours(2));
            await agent.PatchAsJsonAsync($"/api/v1/tickets/{number}", new { status = "clarification" });
            time.Advance(TimeSpan.FromHours(1));
            await agent.PatchAsJsonAsync($"/api/v1/tickets/{number}", new { status = "resolved", resolution = "solved" });
            time.Advance(TimeSpan.FromMinutes(30));
            await agent.PatchAsJsonAsync($"/api/v1/tickets/{number}", new { status = "closed" });
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();

        var (exit, output) = await GatewayProcess.RunAsync(_directory, GatewayProcess.Environment(_directory), "sla", "explain", number);
        Assert.That(exit, Is.Zero, output);
        Assert.That(output, Does.Contain($"{number} · closed · medium · policy standard · calendar 24x7"));
        Assert.That(output, Does.Contain("2026-11-02T09:00:00+03:00 → 2026-11-02T11:00:00+03:00  running       2 h 00 min"));
        Assert.That(output, Does.Contain("2026-11-02T11:00:00+03:00 → 2026-11-02T12:00:00+03:00  paused        1 h 00 min"), "clarification");
        Assert.That(output, Does.Contain("2026-11-02T12:00:00+03:00 → 2026-11-02T12:30:00+03:00  paused        0 h 30 min"), "awaiting confirmation");
        Assert.That(output, Does.Contain("2026-11-02T12:30:00+03:00 → ").And.Contain("stopped"));
        Assert.That(output, Does.Contain("elapsed:   2 h 00 min").And.Contain("paused:    1 h 30 min").And.Contain("state:     stopped"));

        (exit, output) = await GatewayProcess.RunAsync(_directory, GatewayProcess.Environment(_directory), "sla", "explain", "SG-99999");
        Assert.That((exit, output.Trim()), Is.EqualTo((2, "error: ticket SG-99999 does not exist.")));
    }
}
