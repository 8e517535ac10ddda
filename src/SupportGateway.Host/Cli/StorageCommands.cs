using System.CommandLine;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Npgsql;
using SupportGateway.Core.Storage;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Host.Cli;

/// <summary><c>storage copy --from "Data Source=…" --to "Host=…"</c>: moves an embedded installation into PostgreSQL.</summary>
internal static class StorageCommands
{
    public static Command Create()
    {
        var from = new Option<string>("--from") { Description = "The SQLite installation's connection string (Data Source=FILE).", Required = true };
        var to = new Option<string>("--to") { Description = "An empty PostgreSQL database's connection string (Host=…;Database=…).", Required = true };
        var copy = new Command("copy", """
            Copy every table of an SQLite installation into an empty PostgreSQL database, keeping ids, then check the row
            counts. Stop the gateway first: the copy reads one snapshot, and what arrives after it would not be copied.
            """) { from, to };
        copy.SetAction((parse, ct) => GatewayCli.WithHostAsync(ct, (services, c) =>
            CopyAsync(parse.GetValue(from)!, parse.GetValue(to)!, services.GetRequiredService<IOptions<TicketOptions>>(), c)));
        var storage = new Command("storage", "Move the gateway's data between storage engines.");
        storage.Subcommands.Add(copy);
        return storage;
    }

    private static async Task<int> CopyAsync(string from, string to, IOptions<TicketOptions> tickets, CancellationToken ct)
    {
        if (Invalid(from, to) is { } problem)
            return Fail(problem);
        IReadOnlyList<TableCount> counts;
        try
        {
            counts = await new StorageCopy(from, to, tickets).RunAsync(new Lines(), ct);
        }
        catch (StorageCopyRefused refused)
        {
            return Fail(refused.Message);
        }
        catch (NpgsqlException ex)
        {
            return Fail($"PostgreSQL: {ex.Message} (nothing was copied).");
        }
        Console.WriteLine($"{"table",-24} {"source",10} {"copied",10}");
        foreach (var count in counts)
            Console.WriteLine($"{count.Table,-24} {count.Source,10} {count.Target,10}{(count.Source == count.Target ? "" : "  MISMATCH")}");
        var mismatches = counts.Count(c => c.Source != c.Target);
        if (mismatches > 0)
        {
            Console.Error.WriteLine($"error: {mismatches} table{(mismatches == 1 ? "" : "s")} differ between the source and the copy.");
            return 1;
        }
        Console.WriteLine($"Copied {counts.Sum(c => c.Source)} rows in {counts.Count} tables; every count matches.");
        return 0;
    }

    private static string? Invalid(string from, string to)
    {
        try
        {
            if (new SqliteConnectionStringBuilder(from).DataSource is not { Length: > 0 })
                return "--from needs a SQLite connection string with a Data Source.";
        }
        catch (ArgumentException ex)
        {
            return $"--from is not a SQLite connection string: {ex.Message}";
        }
        try
        {
            if (new NpgsqlConnectionStringBuilder(to).Host is not { Length: > 0 })
                return "--to needs a PostgreSQL connection string with a Host.";
        }
        catch (ArgumentException ex)
        {
            return $"--to is not a PostgreSQL connection string: {ex.Message}";
        }
        return null;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return 2;
    }

    /// <summary>A progress line per batch, written in order on the copying thread.</summary>
    private sealed class Lines : IProgress<TableProgress>
    {
        public void Report(TableProgress value) => Console.WriteLine($"{value.Table}: {value.Copied}/{value.Total}");
    }
}
