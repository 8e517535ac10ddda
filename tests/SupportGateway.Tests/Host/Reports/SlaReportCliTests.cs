using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Reports;

/// <summary><c>report sla</c> in the real executable, on a database the seeded gateway left behind.</summary>
[NonParallelizable]
public sealed class SlaReportCliTests
{
    private string _directory = "";
    private IReadOnlyDictionary<string, string> _numbers = null!;

    [OneTimeSetUp]
    public async Task Seed()
    {
        _directory = TempDirectory.Create();
        var clock = SlaReportScenario.NewClock();
        using var gateway = SlaReportScenario.NewGateway(clock, settings: new Dictionary<string, string?>
        {
            ["SupportGateway:Storage:ConnectionString"] = $"Data Source={Path.Combine(_directory, "gateway.db")}",
        });
        _numbers = await SlaReportScenario.SeedAsync(gateway, clock);
    }

    [OneTimeTearDown]
    public void TearDown() => TempDirectory.Delete(_directory);

    private Dictionary<string, string> Env()
    {
        var env = GatewayProcess.Environment(_directory);
        foreach (var (key, value) in SlaReportScenario.Settings)
            env[key.Replace(":", "__", StringComparison.Ordinal)] = value!;
        return env;
    }

    [Test]
    public async Task Report_sla_prints_the_aligned_table_and_the_breaches()
    {
        var (exit, output) = await GatewayProcess.RunAsync(_directory, Env(), "report", "sla", "--from", "2026-11-01", "--to", "2026-12-01");

        Assert.That(exit, Is.Zero, output);
        var lines = output.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        Assert.That(lines[0], Is.EqualTo("SLA report: tickets closed from 2026-11-01 00:00 to 2026-12-01 00:00 (Europe/Moscow)"));
        Assert.That(lines.Skip(2).Take(6), Is.EqualTo(new[]
        {
            "priority   closed  met  met %  resolution h median  p90  closure h median  p90",
            "emergency       2    1    50%                   10   14                10   14",
            "high            3    2  66.7%                   12   28                12   28",
            "medium          2    2   100%                   27   30                32   40",
            "low             3    2  66.7%                   50  100                50  100",
            "total          10    7    70%                   25   50                25   50",
        }));
        Assert.That(output, Does.Contain($"  {_numbers["K"]}  low        100 h of 96 h"));
    }

    [Test]
    public async Task Report_sla_csv_for_one_organisation()
    {
        var (exit, output) = await GatewayProcess.RunAsync(_directory, Env(), "report", "sla", "--from", "2026-11-01", "--to", "2026-12-01",
            "--organisation", SlaReportScenario.Organisation, "--csv");

        Assert.That(exit, Is.Zero, output);
        // The process harness reads lines, so the CRLF ends are checked on the API's CSV instead.
        Assert.That(output.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0), Is.EqualTo(new[]
        {
            "priority,closed,met,share_met,median_hours_to_resolution,p90_hours_to_resolution,median_hours_to_closure,p90_hours_to_closure",
            "emergency,0,0,,,,,", "high,1,1,1,10,10,10,10", "medium,0,0,,,,,", "low,0,0,,,,,", "total,1,1,1,10,10,10,10",
        }));
    }

    [Test]
    public async Task Report_sla_names_a_bad_option()
    {
        var (exit, output) = await GatewayProcess.RunAsync(_directory, Env(), "report", "sla", "--from", "soon");

        Assert.That((exit, output.Trim()), Is.EqualTo((2, "error: --from: 'soon' is not a date (2026-11-01) or an instant (2026-11-01T00:00:00Z).")));
    }
}
