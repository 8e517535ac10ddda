using System.CommandLine;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using SupportGateway.Core.Storage;

namespace SupportGateway.Host.Cli;

/// <summary>
/// <c>backup --to FILE</c>: a consistent copy of the SQLite database while the gateway runs, through SQLite's online
/// backup API (a file copy of a database in WAL mode can miss committed pages still in the -wal file, or tear).
/// </summary>
internal static class BackupCommand
{
    public static Command Create()
    {
        var to = new Option<FileInfo>("--to") { Description = "The backup file to write; it must not exist yet.", Required = true };
        var backup = new Command("backup", "Copy the SQLite database, also while the gateway runs, then open the copy and count its tickets.") { to };
        backup.SetAction((parse, ct) => GatewayCli.WithHostAsync(ct, (services, c) => RunAsync(services, parse.GetValue(to)!, c)));
        return backup;
    }

    private static async Task<int> RunAsync(IServiceProvider services, FileInfo target, CancellationToken ct)
    {
        var storage = services.GetRequiredService<IOptions<StorageOptions>>().Value;
        if (!storage.Provider.Equals("sqlite", StringComparison.OrdinalIgnoreCase))
            return Fail($"backup copies SQLite databases; for {storage.Provider} use its own tool (PostgreSQL: pg_dump, see the README).");
        var source = new SqliteConnectionStringBuilder(storage.ConnectionString) { Pooling = false };
        if (!File.Exists(source.DataSource))
            return Fail($"there is no database at {Path.GetFullPath(source.DataSource)} ({StorageOptions.Section}:ConnectionString).");
        if (target.Exists)
            return Fail($"{target.FullName} exists; name a new file.");
        target.Directory?.Create();
        // Written under another name and renamed once checked, so a file of the given name is always a whole backup.
        var partial = target.FullName + ".partial";
        File.Delete(partial);
        await using (var from = new SqliteConnection(source.ToString()))
        await using (var into = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = partial, Pooling = false }.ToString()))
        {
            await from.OpenAsync(ct);
            await into.OpenAsync(ct);
            // sqlite3_backup_step(-1): every page in one step, under one read transaction, so the copy is the database
            // as of one commit; in WAL mode the gateway's writer goes on meanwhile.
            from.BackupDatabase(into);
        }
        var (check, tickets) = await VerifyAsync(partial, ct);
        if (check != "ok")
        {
            File.Delete(partial);
            return Fail($"the copy failed SQLite's integrity check ({check}); nothing was written to {target.FullName}.");
        }
        File.Move(partial, target.FullName);
        target.Refresh();
        Console.WriteLine($"Backed up {tickets} tickets to {target.FullName} ({target.Length:N0} bytes); the copy opens and passes SQLite's integrity check.");
        return 0;
    }

    private static async Task<(string Check, long Tickets)> VerifyAsync(string file, CancellationToken ct)
    {
        var copy = new SqliteConnectionStringBuilder { DataSource = file, Mode = SqliteOpenMode.ReadOnly, Pooling = false };
        await using var connection = new SqliteConnection(copy.ToString());
        await connection.OpenAsync(ct);
        var check = await connection.ExecuteScalarAsync<string>(new CommandDefinition("PRAGMA integrity_check", cancellationToken: ct)) ?? "";
        var tickets = await connection.ExecuteScalarAsync<long>(new CommandDefinition("SELECT COUNT(*) FROM tickets", cancellationToken: ct));
        return (check, tickets);
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return 2;
    }
}
