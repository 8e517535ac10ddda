using System.CommandLine;
using Microsoft.Extensions.Options;
using SupportGateway.Core.Pipeline;
using SupportGateway.Core.Storage;
using SupportGateway.Host.Agents;
using SupportGateway.Host.Health;

namespace SupportGateway.Host.Cli;

/// <summary>Operator commands in the same executable: <c>check-config</c>, <c>dead-letters</c>, <c>mail</c>, <c>sla</c> and <c>report</c>.</summary>
internal static class GatewayCli
{
    private static readonly string[] Commands = ["check-config", "dead-letters", "mail", "sla", "report"];

    public static bool Handles(string[] args) => args.Length > 0 && Commands.Contains(args[0]);

    public static Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("SupportGateway: run without arguments to start the gateway.");

        var check = new Command("check-config", "Validate the configuration and show which channels are on.");
        check.SetAction((_, ct) => WithHostAsync(ct, CheckConfigAsync));
        root.Subcommands.Add(check);

        var deadLetters = new Command("dead-letters", "Payloads that failed processing and are kept for replay.");
        var list = new Command("list", "List dead letters.");
        list.SetAction((_, ct) => WithHostAsync(ct, ListDeadLettersAsync));
        var target = new Argument<string>("id") { Description = "A dead letter's id, or 'all'." };
        var replay = new Command("replay", "Process dead letters again.") { target };
        replay.SetAction((parse, ct) => WithHostAsync(ct, (services, c) => ReplayAsync(services, parse.GetValue(target)!, c)));
        deadLetters.Subcommands.Add(list);
        deadLetters.Subcommands.Add(replay);
        root.Subcommands.Add(deadLetters);
        root.Subcommands.Add(MailCommands.Create());
        root.Subcommands.Add(SlaCommands.Create());
        root.Subcommands.Add(ReportCommands.Create(WithHostAsync));

        return root.Parse(args).InvokeAsync();
    }

    internal static async Task<int> WithHostAsync(CancellationToken ct, Func<IServiceProvider, CancellationToken, Task<int>> action)
    {
        try
        {
            var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
            GatewayHost.UseSettingsBesideBinary(builder.Configuration);
            // Command output is the result; logs are for trouble only and go to stderr.
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Warning" });
            builder.Logging.ClearProviders();
            builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
            builder.AddGateway();
            using var host = builder.Build();
            host.Services.GetRequiredService<IStartupValidator>().Validate();
            return await action(host.Services, ct);
        }
        catch (Exception ex) when (StartupErrors.Describe(ex) is { } lines)
        {
            foreach (var line in lines)
                Console.Error.WriteLine($"error: {line}");
            return 2;
        }
    }

    private static Task<int> CheckConfigAsync(IServiceProvider services, CancellationToken ct)
    {
        Console.WriteLine("Configuration is valid.");
        Console.WriteLine($"storage: {services.GetRequiredService<IOptions<StorageOptions>>().Value.Provider}");
        foreach (var channel in services.GetServices<IChannelStatus>())
        {
            var (state, detail) = channel.Initial();
            Console.WriteLine($"{channel.Channel}: {state.ToString().ToLowerInvariant()} ({detail})");
        }
        Console.WriteLine($"agents: {services.GetRequiredService<AgentDirectory>().All.Count}");
        var sla = services.GetRequiredService<Core.Sla.SlaCatalog>();
        Console.WriteLine($"sla: default {sla.Default.Name}; policies {string.Join(", ", sla.Policies.Select(p => $"{p.Name} ({p.Calendar.Name})"))}");
        foreach (var calendar in sla.WithoutYear(services.GetRequiredService<TimeProvider>().GetUtcNow().Year))
            Console.WriteLine($"warning: calendar {calendar.Name} lists holidays up to {calendar.LastDatedYear} only; add this year's calendar");
        return Task.FromResult(0);
    }

    private static async Task<int> ListDeadLettersAsync(IServiceProvider services, CancellationToken ct)
    {
        await services.GetRequiredService<Migrator>().MigrateAsync(ct);
        var database = services.GetRequiredService<Database>();
        await using var connection = await database.OpenAsync(ct);
        var rows = await services.GetRequiredService<InboundStore>().ListAsync(new SqlScope(connection), InboundStore.Dead, 1000, ct);
        if (rows.Count == 0)
        {
            Console.WriteLine("No dead letters.");
            return 0;
        }
        Console.WriteLine($"{"id",8}  {"channel",-9} {"received (UTC)",-20} {"tries",5}  error");
        foreach (var row in rows)
        {
            var received = DateTimeOffset.FromUnixTimeMilliseconds(row.ReceivedAt).ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
            Console.WriteLine($"{row.Id,8}  {row.Channel,-9} {received,-20} {row.Attempts,5}  {row.LastError}");
        }
        return 0;
    }

    private static async Task<int> ReplayAsync(IServiceProvider services, string target, CancellationToken ct)
    {
        await services.GetRequiredService<Migrator>().MigrateAsync(ct);
        var database = services.GetRequiredService<Database>();
        var store = services.GetRequiredService<InboundStore>();
        List<long> ids;
        if (target.Equals("all", StringComparison.OrdinalIgnoreCase))
        {
            await using var connection = await database.OpenAsync(ct);
            ids = [.. (await store.ListAsync(new SqlScope(connection), InboundStore.Dead, int.MaxValue, ct)).Select(r => r.Id)];
        }
        else if (long.TryParse(target, out var id))
        {
            ids = [id];
        }
        else
        {
            Console.Error.WriteLine($"error: '{target}' is neither a dead letter id nor 'all'.");
            return 2;
        }

        var processor = services.GetRequiredService<InboundProcessor>();
        int done = 0, stillDead = 0;
        foreach (var id in ids)
        {
            var result = await processor.ReplayAsync(id, ct);
            done++;
            var what = result is null ? "not a dead letter" : result.Outcome == IngestOutcome.Parked ? $"still failing: {result.Error}"
                : $"{result.Outcome.ToString().ToLowerInvariant()} {result.TicketNumber}";
            stillDead += result?.Outcome == IngestOutcome.Parked || result is null ? 1 : 0;
            Console.WriteLine($"[{done}/{ids.Count}] {id}: {what}");
        }
        Console.WriteLine($"Replayed {ids.Count - stillDead} of {ids.Count}.");
        return stillDead == 0 ? 0 : 1;
    }
}
