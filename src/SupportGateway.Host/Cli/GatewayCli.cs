using System.CommandLine;
using System.CommandLine.Parsing;
using Microsoft.Extensions.Options;
using SupportGateway.Core.Pipeline;
using SupportGateway.Core.Storage;

namespace SupportGateway.Host.Cli;

/// <summary>
/// Operator commands in the same executable. Without a command the gateway runs; anything the gateway would not
/// read (an unknown command or option) is an error with exit code 2, never a start of the server.
/// </summary>
internal static class GatewayCli
{
    /// <summary>What the web host itself reads from the command line; configuration keys go as <c>--Section:Key=value</c>.</summary>
    private static readonly string[] HostOptions = ["--urls", "--environment", "--contentRoot", "--applicationName"];

    /// <summary>True when the arguments start the gateway: none, or only host options and configuration keys with their values.</summary>
    public static bool StartsServer(string[] args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i].Split('=', 2)[0];
            if (!HostOptions.Contains(name, StringComparer.OrdinalIgnoreCase) && !(name.StartsWith("--", StringComparison.Ordinal) && name.Contains(':')))
                return false;
            if (!args[i].Contains('='))
                i++;
        }
        return true;
    }

    public static Task<int> RunAsync(string[] args)
    {
        // "help" and "help mail" read as "--help" and "mail --help".
        if (args is ["help", .. var rest])
            args = [.. rest, "--help"];
        var root = Create();
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            Console.Error.WriteLine($"error: {Explain(parse)}");
            return Task.FromResult(2);
        }
        return parse.InvokeAsync();
    }

    private static RootCommand Create()
    {
        var root = new RootCommand("""
            SupportGateway. Without a command it runs the gateway: --urls http://HOST:PORT sets where it listens, and any
            option of appsettings.json can be given as --Section:Key=value.
            """);
        root.Subcommands.Add(ConfigCheck.Create());
        var deadLetters = new Command("dead-letters", "Payloads that failed processing and are kept for replay.");
        var list = new Command("list", "List dead letters.");
        list.SetAction((_, ct) => WithHostAsync(ct, ListDeadLettersAsync));
        var target = new Argument<string>("id") { Description = "A dead letter's id, or 'all'." };
        var replay = new Command("replay", "Process dead letters again.") { target };
        replay.SetAction((parse, ct) => WithHostAsync(ct, (services, c) => ReplayAsync(services, parse.GetValue(target)!, c)));
        deadLetters.Subcommands.Add(list);
        deadLetters.Subcommands.Add(replay);
        root.Subcommands.Add(deadLetters);
        var migrate = new Command("migrate", "Bring the database schema up to date and list what was applied (the gateway also does it at start).");
        migrate.SetAction((_, ct) => WithHostAsync(ct, MigrateAsync));
        root.Subcommands.Add(migrate);
        root.Subcommands.Add(BackupCommand.Create());
        root.Subcommands.Add(StorageCommands.Create());
        root.Subcommands.Add(HealthCheckCommand.Create());
        root.Subcommands.Add(MailCommands.Create());
        root.Subcommands.Add(SlaCommands.Create());
        root.Subcommands.Add(OutboxCommands.Create());
        root.Subcommands.Add(ReportCommands.Create(WithHostAsync));
        return root;
    }

    /// <summary>The first parse error in one line, with the nearest command or option when a word was mistyped.</summary>
    private static string Explain(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        var help = string.Join(' ', ["help", .. CommandPath(parse.CommandResult)]);
        if (parse.UnmatchedTokens is not [var token, ..])
            return $"{parse.Errors[0].Message.TrimEnd('.')}; see '{help}'.";
        var names = token.StartsWith('-') ? command.Options.Where(o => !o.Hidden).Select(o => o.Name) : command.Subcommands.Select(c => c.Name);
        var what = token.StartsWith('-') ? "option" : "command";
        return Nearest(token, names) is { } nearest
            ? $"unknown {what} '{token}'; did you mean {nearest}? See '{help}'."
            : $"unknown {what} '{token}'; see '{help}'.";
    }

    /// <summary>"sla due" for the due command; nothing for the root.</summary>
    private static IEnumerable<string> CommandPath(CommandResult result)
    {
        var names = new Stack<string>();
        for (SymbolResult? r = result; r is CommandResult { Parent: not null } c; r = c.Parent)
            names.Push(c.Command.Name);
        return names;
    }

    private static string? Nearest(string token, IEnumerable<string> names)
    {
        var best = names.Select(n => (Name: n, Distance: Distance(token.ToLowerInvariant(), n.ToLowerInvariant())))
            .OrderBy(x => x.Distance).FirstOrDefault();
        return best.Name is not null && best.Distance <= Math.Max(2, best.Name.Length / 3) ? best.Name : null;
    }

    /// <summary>Levenshtein distance: insertions, deletions and substitutions.</summary>
    private static int Distance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var diagonal = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
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

    private static async Task<int> MigrateAsync(IServiceProvider services, CancellationToken ct)
    {
        var applied = await services.GetRequiredService<Migrator>().MigrateAsync(ct);
        var engine = services.GetRequiredService<Database>().Dialect.Name;
        foreach (var name in applied)
            Console.WriteLine($"applied {name}");
        Console.WriteLine(applied.Count == 0
            ? $"The {engine} schema is up to date; nothing to apply."
            : $"Applied {applied.Count} migration{(applied.Count == 1 ? "" : "s")} to the {engine} database.");
        return 0;
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
