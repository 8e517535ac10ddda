using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace SupportGateway.Core.Storage;

/// <summary>The few places where SQLite and PostgreSQL differ. Everything else is shared SQL.</summary>
public abstract class SqlDialect
{
    public abstract string Name { get; }

    /// <summary>True when the engine allows one writer at a time; writes then queue in-process instead of spinning on SQLITE_BUSY.</summary>
    public abstract bool SingleWriter { get; }

    /// <summary>Suffix for a claim sub-select, e.g. <c>FOR UPDATE SKIP LOCKED</c>.</summary>
    public abstract string SkipLocked { get; }

    public abstract string Greatest(string left, string right);

    /// <summary>Replaces migration tokens: <c>{{id}}</c> (generated key), <c>{{key}}</c> (given key), <c>{{blob}}</c>, <c>{{bool}}</c>, <c>{{without_rowid}}</c>.</summary>
    public abstract string Translate(string migrationSql);

    public abstract DbConnection CreateConnection(string connectionString);

    public virtual Task PrepareAsync(DbConnection connection, CancellationToken cancellationToken) => Task.CompletedTask;
}

public sealed class SqliteDialect : SqlDialect
{
    public override string Name => "sqlite";

    public override bool SingleWriter => true;

    public override string SkipLocked => "";

    public override string Greatest(string left, string right) => $"MAX({left}, {right})";

    public override string Translate(string migrationSql) => migrationSql
        .Replace("{{id}}", "INTEGER PRIMARY KEY AUTOINCREMENT", StringComparison.Ordinal)
        .Replace("{{key}}", "INTEGER PRIMARY KEY", StringComparison.Ordinal)
        .Replace("{{without_rowid}}", " WITHOUT ROWID", StringComparison.Ordinal)
        .Replace("{{blob}}", "BLOB", StringComparison.Ordinal)
        .Replace("{{bool}}", "INTEGER", StringComparison.Ordinal);

    /// <summary>
    /// A connection with foreign keys and pooling on. The configured string is completed, and the database's folder
    /// made, once per string: connections are opened for every read, and doing both each time was a parse, a stat and
    /// a mkdir per query.
    /// </summary>
    public override DbConnection CreateConnection(string connectionString) =>
        new SqliteConnection(Completed.GetOrAdd(connectionString, static configured =>
        {
            var builder = new SqliteConnectionStringBuilder(configured) { ForeignKeys = true, Pooling = true };
            if (builder.DataSource is { Length: > 0 } file && file != ":memory:" && Path.GetDirectoryName(Path.GetFullPath(file)) is { } dir)
                Directory.CreateDirectory(dir);
            return builder.ToString();
        }));

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> Completed = new(StringComparer.Ordinal);

    public override async Task PrepareAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        // Pooled connections keep their settings: configure each physical connection once.
        var handle = ((SqliteConnection)connection).Handle!;
        if (Prepared.TryGetValue(handle, out _))
            return;
        // WAL survives a process kill with synchronous=NORMAL: a commit is in the log before it returns.
        // Checkpoints run in the background (SqliteCheckpointer); the high threshold is only a safety net.
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000; PRAGMA wal_autocheckpoint=20000;";
        await command.ExecuteNonQueryAsync(cancellationToken);
        Prepared.AddOrUpdate(handle, Marker);
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<SQLitePCL.sqlite3, object> Prepared = new();
    private static readonly object Marker = new();
}
