using System.CommandLine;
using NodaTime;
using SupportGateway.Core.Sla;
using SupportGateway.Core.Storage;
using SupportGateway.Host.Reports;

namespace SupportGateway.Host.Cli;

/// <summary><c>report sla --from 2026-11-01 --to 2026-12-01 [--organisation ACC] [--csv]</c>: the SLA report's table.</summary>
internal static class ReportCommands
{
    /// <param name="withHost">GatewayCli's host runner: the same configuration and validation as every other command.</param>
    public static Command Create(Func<CancellationToken, Func<IServiceProvider, CancellationToken, Task<int>>, Task<int>> withHost)
    {
        var from = new Option<string?>("--from") { Description = "First day (2026-11-01, midnight on the default calendar) or an instant; 30 days before --to by default." };
        var to = new Option<string?>("--to") { Description = "The day after the last (exclusive) or an instant; now by default." };
        var organisation = new Option<string?>("--organisation") { Description = "Only this organisation's tickets (its account number)." };
        var csv = new Option<bool>("--csv") { Description = "Print CSV (RFC 4180) instead of an aligned table." };
        var sla = new Command("sla", "Tickets closed in a period: share met, business hours to resolution and closure, breaches.")
        {
            from, to, organisation, csv,
        };
        sla.SetAction((parse, ct) => withHost(ct, (services, c) =>
            SlaAsync(services, parse.GetValue(from), parse.GetValue(to), parse.GetValue(organisation), parse.GetValue(csv), c)));
        var report = new Command("report", "Reports on the tickets.");
        report.Subcommands.Add(sla);
        return report;
    }

    private static async Task<int> SlaAsync(IServiceProvider services, string? from, string? to, string? organisation, bool csv, CancellationToken ct)
    {
        await services.GetRequiredService<Migrator>().MigrateAsync(ct);
        var now = Instant.FromDateTimeOffset(services.GetRequiredService<TimeProvider>().GetUtcNow());
        var (result, field, error) = await ReportQuery.RunAsync(services.GetRequiredService<SlaReport>(), services.GetRequiredService<Database>(),
            from, to, organisation, now, ct);
        if (result is null)
        {
            await Console.Error.WriteLineAsync($"error: --{field}: {error}");
            return 2;
        }
        await Console.Out.WriteAsync(csv ? ReportFormats.Csv(result) : ReportFormats.Text(result));
        return 0;
    }
}
