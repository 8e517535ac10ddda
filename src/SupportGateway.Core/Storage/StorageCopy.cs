using System.Data.Common;
using System.Globalization;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Core.Storage;

/// <summary>Rows copied so far of one table, for the progress line.</summary>
public readonly record struct TableProgress(string Table, long Copied, long Total);

/// <summary>One table's rows in the source snapshot and in the target after the copy.</summary>
public readonly record struct TableCount(string Table, long Source, long Target);

/// <summary>Why the copy did not start (a non-empty target, a source from another schema version): one line for the operator.</summary>
public sealed class StorageCopyRefused(string message) : Exception(message);

/// <summary>
/// Copies an embedded (SQLite) installation into an empty PostgreSQL database: migrations on the target first, then
/// every table of the schema in foreign-key order, ids kept, all in one target transaction, read from one SQLite read
/// transaction (a consistent snapshot). The table list and column types come from the migrated target, so a table a
/// new migration adds is copied without a change here.
/// </summary>
public sealed class StorageCopy(string from, string to, IOptions<TicketOptions> tickets)
{
    public const int BatchRows = 1000;

    /// <summary>Tables the migrations fill themselves: their rows are replaced by the source's, and do not make a target "not empty".</summary>
    private static readonly string[] Seeded = ["counters"];

    /// <summary>Any other copier of the same target waits ("SGCOPY").</summary>
    private const long CopyLock = 0x53_47_43_4F_50_59;

    public async Task<IReadOnlyList<TableCount>> RunAsync(IProgress<TableProgress> progress, CancellationToken ct)
    {
        var sourceFile = new SqliteConnectionStringBuilder(from).DataSource;
        if (string.IsNullOrEmpty(sourceFile) || !File.Exists(sourceFile))
            throw new StorageCopyRefused($"there is no SQLite database at '{sourceFile}' (--from).");
        await using (var target = new Database(new StorageOptions { Provider = "postgresql", ConnectionString = to }))
            await new Migrator(target, tickets, NullLogger<Migrator>.Instance).MigrateAsync(ct);

        var source = new SqliteConnectionStringBuilder(from) { Mode = SqliteOpenMode.ReadOnly, Pooling = false };
        await using var sqlite = new SqliteConnection(source.ToString());
        await sqlite.OpenAsync(ct);
        // A deferred transaction takes its WAL snapshot at the first read and keeps it to the end: every table is read
        // as of one commit, while a running gateway could go on writing.
        await using var snapshot = sqlite.BeginTransaction(deferred: true);
        await RequireSameSchemaAsync(sqlite, snapshot, ct);

        await using var pg = new NpgsqlConnection(to);
        await pg.OpenAsync(ct);
        await using var write = await pg.BeginTransactionAsync(ct);
        await pg.ExecuteAsync(new CommandDefinition($"SELECT pg_advisory_xact_lock({CopyLock})", transaction: write, cancellationToken: ct));
        var tables = await PostgresSchema.TablesInDependencyOrderAsync(pg, write, ct);
        await RequireEmptyAsync(pg, write, tables, ct);

        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var table in tables)
        {
            var total = await sqlite.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT COUNT(*) FROM \"{table.Name}\"", transaction: snapshot, cancellationToken: ct));
            counts[table.Name] = total;
            if (Seeded.Contains(table.Name))
                await pg.ExecuteAsync(new CommandDefinition($"DELETE FROM \"{table.Name}\"", transaction: write, cancellationToken: ct));
            await CopyTableAsync(sqlite, snapshot, pg, table, total, progress, ct);
        }
        await MoveSequencesAsync(pg, write, tables, ct);
        await write.CommitAsync(ct);

        var result = new List<TableCount>();
        foreach (var table in tables)
        {
            var copied = await pg.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT COUNT(*) FROM \"{table.Name}\"", cancellationToken: ct));
            result.Add(new TableCount(table.Name, counts[table.Name], copied));
        }
        return result;
    }

    private static async Task RequireSameSchemaAsync(SqliteConnection sqlite, SqliteTransaction snapshot, CancellationToken ct)
    {
        var expected = Migrator.Embedded().Max(m => m.Version);
        var ledger = await sqlite.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'", transaction: snapshot, cancellationToken: ct));
        var version = ledger == 0 ? 0 : await sqlite.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT MAX(version) FROM schema_migrations", transaction: snapshot, cancellationToken: ct)) ?? 0;
        if (version != expected)
            throw new StorageCopyRefused(version < expected
                ? $"the SQLite database is at schema version {version}, this gateway's is {expected}: run 'migrate' on it first (or start this gateway on it once)."
                : $"the SQLite database is at schema version {version}, newer than this gateway's {expected}: copy it with the gateway version that wrote it.");
    }

    private static async Task RequireEmptyAsync(NpgsqlConnection pg, DbTransaction write, IReadOnlyList<PostgresSchema.Table> tables, CancellationToken ct)
    {
        foreach (var table in tables.Where(t => !Seeded.Contains(t.Name)))
        {
            var any = await pg.ExecuteScalarAsync<bool>(new CommandDefinition($"SELECT EXISTS (SELECT 1 FROM \"{table.Name}\")", transaction: write, cancellationToken: ct));
            if (any)
                throw new StorageCopyRefused($"the PostgreSQL database is not empty (table {table.Name} has rows); copy into a new, empty database.");
        }
    }

    /// <summary>Streams the table in batches of <see cref="BatchRows"/>, each one binary COPY on the target transaction.</summary>
    private static async Task CopyTableAsync(SqliteConnection sqlite, SqliteTransaction snapshot, NpgsqlConnection pg, PostgresSchema.Table table,
        long total, IProgress<TableProgress> progress, CancellationToken ct)
    {
        var columns = string.Join(", ", table.Columns.Select(c => $"\"{c.Name}\""));
        await using var read = sqlite.CreateCommand();
        read.Transaction = snapshot;
        read.CommandText = $"SELECT {columns} FROM \"{table.Name}\"";
        await using var rows = await read.ExecuteReaderAsync(ct);
        long copied = 0;
        var more = await rows.ReadAsync(ct);
        progress.Report(new TableProgress(table.Name, 0, total));
        while (more)
        {
            await using (var copy = await pg.BeginBinaryImportAsync($"COPY \"{table.Name}\" ({columns}) FROM STDIN (FORMAT BINARY)", ct))
            {
                for (var n = 0; more && n < BatchRows; n++, copied++, more = await rows.ReadAsync(ct))
                {
                    await copy.StartRowAsync(ct);
                    for (var i = 0; i < table.Columns.Count; i++)
                        await WriteAsync(copy, table.Columns[i], rows.IsDBNull(i) ? null : rows.GetValue(i), ct);
                }
                await copy.CompleteAsync(ct);
            }
            progress.Report(new TableProgress(table.Name, copied, total));
        }
    }

    private static Task WriteAsync(NpgsqlBinaryImporter copy, PostgresSchema.Column column, object? value, CancellationToken ct)
    {
        if (value is null)
            return copy.WriteNullAsync(ct);
        var c = CultureInfo.InvariantCulture;
        return column.Type switch
        {
            "bigint" => copy.WriteAsync(Convert.ToInt64(value, c), NpgsqlDbType.Bigint, ct),
            "integer" => copy.WriteAsync(Convert.ToInt32(value, c), NpgsqlDbType.Integer, ct),
            "boolean" => copy.WriteAsync(Convert.ToInt64(value, c) != 0, NpgsqlDbType.Boolean, ct),
            "bytea" => copy.WriteAsync((byte[])value, NpgsqlDbType.Bytea, ct),
            "text" => copy.WriteAsync(Convert.ToString(value, c)!, NpgsqlDbType.Text, ct),
            _ => throw new NotSupportedException($"Column {column.Name} has type {column.Type}, which storage copy does not know."),
        };
    }

    /// <summary>
    /// Identities go on after the highest copied id; the ticket-number sequence after the copied counter and the
    /// highest ticket id (a ticket's id is its sequence value), unless the configured start is already past both.
    /// </summary>
    private static async Task MoveSequencesAsync(NpgsqlConnection pg, DbTransaction write, IReadOnlyList<PostgresSchema.Table> tables, CancellationToken ct)
    {
        foreach (var table in tables)
        {
            foreach (var column in table.Columns.Where(c => c.Identity))
            {
                await pg.ExecuteAsync(new CommandDefinition($"""
                    SELECT setval(pg_get_serial_sequence('"{table.Name}"', '{column.Name}'), MAX("{column.Name}"))
                    FROM "{table.Name}" HAVING MAX("{column.Name}") IS NOT NULL
                    """, transaction: write, cancellationToken: ct));
            }
        }
        await pg.ExecuteAsync(new CommandDefinition("""
            SELECT setval('ticket_numbers', top)
            FROM (SELECT GREATEST((SELECT MAX(value) FROM counters WHERE name = 'ticket'), (SELECT MAX(id) FROM tickets)) AS top) copied
            WHERE top >= (SELECT last_value FROM ticket_numbers)
            """, transaction: write, cancellationToken: ct));
    }
}
