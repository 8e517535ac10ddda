using System.CommandLine;
using Microsoft.Extensions.Options;
using SupportGateway.Core.Storage;
using SupportGateway.Host.Agents;
using SupportGateway.Host.Health;

namespace SupportGateway.Host.Cli;

/// <summary><c>check-config [--probe]</c>: the options as the gateway reads them, sample values left in, and with
/// <c>--probe</c> each configured connection tried once.</summary>
internal static class ConfigCheck
{
    public static Command Create()
    {
        var probe = new Option<bool>("--probe")
        {
            Description = "Also try each configured connection: IMAP login, SMTP EHLO and AUTH, Telegram getMe, the WhatsApp providers' tokens.",
        };
        var check = new Command("check-config", "Validate the configuration, show which channels are on and flag sample values left in.") { probe };
        check.SetAction((parse, ct) => GatewayCli.WithHostAsync(ct, (services, c) => RunAsync(services, parse.GetValue(probe), c)));
        return check;
    }

    private static async Task<int> RunAsync(IServiceProvider services, bool probe, CancellationToken ct)
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
        foreach (var key in Placeholders.Find(services.GetRequiredService<IConfiguration>()))
            Console.WriteLine($"warning: {key} still holds a sample value; replace it before going live");
        if (!probe)
            return 0;
        var failed = 0;
        await foreach (var (name, error) in ConnectionProbe.RunAsync(services, ct))
        {
            Console.WriteLine(error is null ? $"probe {name}: ok" : $"probe {name}: failed ({error})");
            failed += error is null ? 0 : 1;
        }
        return failed == 0 ? 0 : 1;
    }
}
