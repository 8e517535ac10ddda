using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace SupportGateway.Core.Storage;

/// <summary>The few places where SQLite and PostgreSQL differ. Everything else is shared SQL.</summary>
public abstract class SqlDialect : IAsyncDisposable
{
    public const string Providers = "'sqlite' or 'postgresql'";

    /// <summary>The dialect of a configured provider; null for one this gateway does not know.</summary>
    public static SqlDialect? For(string provider, string connectionString) => provider.ToLowerInvariant() switch
    {
        "sqlite" => new SqliteDialect(connectionString),
        "postgresql" => new PostgresDialect(connectionString),
        _ => null,
    };

    public abstract string Name { get; }

    /// <summary>True when the engine allows one writer at a time; writes then queue in-process instead of spinning on SQLITE_BUSY.</summary>
    public abstract bool SingleWriter { get; }

    /// <summary>Suffix for a claim sub-select, e.g. <c>FOR UPDATE SKIP LOCKED</c>.</summary>
    public abstract string SkipLocked { get; }

    /// <summary>
    /// Replaces migration tokens: <c>{{id}}</c> (generated key), <c>{{key}}</c> (given key), <c>{{blob}}</c>, <c>{{bool}}</c>,
    /// <c>{{without_rowid}}</c>, <c>{{ticket_sequence}}</c> (what numbers tickets where the engine has sequences).
    /// </summary>
    public abstract string Translate(string migrationSql);

    /// <summary>The next ticket sequence value (a scalar), at least <c>@start</c>.</summary>
    public abstract string NextTicketSql { get; }

    /// <summary>Run by the migrator with <c>@start</c> where the next value does not already honour it; null where it does.</summary>
    public virtual string? StartTicketsSql => null;

    public abstract DbConnection CreateConnection();

    public virtual Task PrepareAsync(DbConnection connection, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Holds off every other migrator of the same database until the returned handle is disposed: instances started
    /// together apply each migration once. <paramref name="connection"/> stays open meanwhile.
    /// </summary>
    public abstract Task<IAsyncDisposable> LockMigrationsAsync(DbConnection connection, CancellationToken cancellationToken);

    /// <summary>
    /// The lock of work that must run on one instance at a time (<see cref="ExclusiveWork"/>), or null when another
    /// instance holds it. The lock's <see cref="WorkLock.Lost"/> fires when it can no longer be trusted.
    /// </summary>
    public abstract Task<WorkLock?> TryLockWorkAsync(string name, CancellationToken cancellationToken);

    /// <summary>
    /// How instances sharing the database signal each other (<see cref="InstanceSignals"/>); null where one process
    /// owns it, as SQLite's file is. <paramref name="instance"/> names this instance to the server's monitoring.
    /// </summary>
    public virtual SignalChannel? CreateSignalChannel(string instance) => null;

    /// <summary>
    /// Why the storage cannot take writes now, when <paramref name="exception"/> (or one it wraps) is about the environment
    /// rather than the statement: the disk full, an I/O error, the database locked beyond the busy timeout, the server out
    /// of reach or out of connections. Null for anything else (a constraint, a bug), which stays the caller's error. The
    /// reason is a fixed phrase with the engine's code, never the exception's message (it may name hosts or files).
    /// </summary>
    public string? Unavailable(Exception exception)
    {
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            if (current is AggregateException { InnerExceptions.Count: > 0 } aggregate)
                return aggregate.InnerExceptions.Select(Unavailable).FirstOrDefault(reason => reason is not null);
            if (Describe(current) is { } reason)
                return reason;
        }
        return null;
    }

    /// <summary>The engine's reading of one exception for <see cref="Unavailable"/>; null when it is not about the environment.</summary>
    protected abstract string? Describe(Exception exception);

    /// <summary>
    /// True when <paramref name="exception"/>, thrown by a commit, leaves its outcome unknown: the server may have
    /// committed and its answer been lost with the connection. False where a failed commit is a rollback, as SQLite's
    /// is (the file is local: the commit either returned or did not happen).
    /// </summary>
    public virtual bool CommitMayHaveHappened(Exception exception) => false;

    /// <summary>
    /// Checked by the storage probe before it reports the storage usable again: a reason to wait longer (the file
    /// system still has next to no room), or null. A small write can succeed on a full disk, in space the log already had.
    /// </summary>
    public virtual string? LacksRoom() => null;

    /// <summary>The write that <see cref="StorageProbe"/> tries while the storage is unavailable: it changes nothing, but writes a row.</summary>
    public const string ProbeSql = "UPDATE counters SET value = value WHERE name = 'ticket'";

    /// <summary>ENOSPC as .NET reports it on Linux (the errno) and Windows (ERROR_DISK_FULL, ERROR_HANDLE_DISK_FULL).</summary>
    protected static bool IsDiskFull(IOException exception) => exception.HResult is 28 or unchecked((int)0x80070070) or unchecked((int)0x80070027);

    /// <summary>
    /// Forgets pooled connections when an outage starts or ends: after the server was out of reach, an idle one is a
    /// socket that broke, and handing it out would fail the first write after recovery.
    /// </summary>
    public virtual void ForgetConnections()
    {
    }

    public virtual ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>A held lock of <see cref="ExclusiveWork"/>; disposing it releases the lock.</summary>
public abstract class WorkLock : IAsyncDisposable
{
    /// <summary>Cancelled when the lock is gone (its connection broke): the work must stop at once.</summary>
    public abstract CancellationToken Lost { get; }

    public abstract ValueTask DisposeAsync();
}

public sealed class SqliteDialect(string connectionString) : SqlDialect
{
    public override string Name => "sqlite";

    public override bool SingleWriter => true;

    public override string SkipLocked => "";

    public override string Translate(string migrationSql) => migrationSql
        .Replace("{{id}}", "INTEGER PRIMARY KEY AUTOINCREMENT", StringComparison.Ordinal)
        .Replace("{{key}}", "INTEGER PRIMARY KEY", StringComparison.Ordinal)
        .Replace("{{without_rowid}}", " WITHOUT ROWID", StringComparison.Ordinal)
        .Replace("{{blob}}", "BLOB", StringComparison.Ordinal)
        .Replace("{{bool}}", "INTEGER", StringComparison.Ordinal)
        // The counters row numbers tickets (see NextTicketSql).
        .Replace("{{ticket_sequence}}", "", StringComparison.Ordinal);

    public override string NextTicketSql => "UPDATE counters SET value = MAX(value + 1, @start) WHERE name = 'ticket' RETURNING value";

    /// <summary>The writer gate and SQLite's own file lock serialise migrators; WAL is set before the first one.</summary>
    public override async Task<IAsyncDisposable> LockMigrationsAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode=WAL";
        await command.ExecuteNonQueryAsync(cancellationToken);
        return NoLock.Instance;
    }

    /// <summary>An embedded database has one process: the work lock is always granted and never lost.</summary>
    public override Task<WorkLock?> TryLockWorkAsync(string name, CancellationToken cancellationToken) => Task.FromResult<WorkLock?>(NoLock.Instance);

    private sealed class NoLock : WorkLock, IAsyncDisposable
    {
        public static readonly NoLock Instance = new();

        public override CancellationToken Lost => CancellationToken.None;

        public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>
    /// A connection with foreign keys and pooling on. The configured string is completed, and the database's folder
    /// made, once per string: connections are opened for every read, and doing both each time was a parse, a stat and
    /// a mkdir per query.
    /// </summary>
    public override DbConnection CreateConnection() =>
        new SqliteConnection(Completed.GetOrAdd(connectionString, static configured =>
        {
            var builder = new SqliteConnectionStringBuilder(configured) { ForeignKeys = true, Pooling = true };
            if (builder.DataSource is { Length: > 0 } file && file != ":memory:" && Path.GetDirectoryName(Path.GetFullPath(file)) is { } dir)
                Directory.CreateDirectory(dir);
            return builder.ToString();
        }));

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> Completed = new(StringComparer.Ordinal);

    /// <summary>
    /// SQLite's result codes (sqlite.org/rescode.html): a full disk, an I/O error, a file that cannot be opened or is
    /// read-only, and a lock held by another connection beyond the busy timeout (<c>BEGIN EXCLUSIVE</c> elsewhere).
    /// </summary>
    protected override string? Describe(Exception exception) => exception switch
    {
        SqliteException { SqliteErrorCode: 13 } => "disk full (SQLITE_FULL)",
        SqliteException { SqliteErrorCode: 10 } => "disk I/O error (SQLITE_IOERR)",
        SqliteException { SqliteErrorCode: 5 } => "database locked by another connection beyond the busy timeout (SQLITE_BUSY)",
        SqliteException { SqliteErrorCode: 6 } => "database table locked (SQLITE_LOCKED)",
        SqliteException { SqliteErrorCode: 14 } => "database file cannot be opened (SQLITE_CANTOPEN)",
        SqliteException { SqliteErrorCode: 8 } => "database is read-only (SQLITE_READONLY)",
        IOException io when IsDiskFull(io) => "disk full",
        _ => null,
    };

    /// <summary>Below this much free space on the database's file system the probe waits on: a write would fill it again at once.</summary>
    internal const long MinimumRoom = 1 << 20;

    public override string? LacksRoom()
    {
        var file = new SqliteConnectionStringBuilder(connectionString).DataSource;
        if (file is not { Length: > 0 } || file == ":memory:" || Path.GetDirectoryName(Path.GetFullPath(file)) is not { } dir)
            return null;
        try
        {
            var free = new DriveInfo(dir).AvailableFreeSpace;
            return free < MinimumRoom ? $"disk full ({free / 1024} KiB free on the database's file system)" : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null; // the write itself is the test then
        }
    }

    public override async Task PrepareAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        // Pooled connections keep their settings: configure each physical connection once.
        var handle = ((SqliteConnection)connection).Handle!;
        if (Prepared.TryGetValue(handle, out _))
            return;
        // WAL survives a process kill with synchronous=NORMAL: a commit is in the log before it returns.
        // Checkpoints run in the background, and SqliteCheckpointer starts the log over at 40,000 frames; SQLite's own
        // threshold is the safety net for when it does not run (the CLI).
        await using var command = connection.CreateCommand();
        command.CommandText = $"PRAGMA synchronous=NORMAL; PRAGMA busy_timeout={BusyTimeout}; PRAGMA wal_autocheckpoint=100000;";
        await command.ExecuteNonQueryAsync(cancellationToken);
        Prepared.AddOrUpdate(handle, Marker);
    }

    /// <summary>
    /// How long, in milliseconds, a statement waits for another connection's lock before SQLITE_BUSY: the connection
    /// string's <c>Default Timeout</c> (seconds) when it sets one, 10 s otherwise. Past it the storage is unavailable.
    /// </summary>
    private int BusyTimeout => _busyTimeout ??= SetsTimeout(connectionString) ? new SqliteConnectionStringBuilder(connectionString).DefaultTimeout * 1000 : 10_000;

    /// <summary>Whether the string itself names the timeout (the typed builder answers with its default either way).</summary>
    private static bool SetsTimeout(string configured) =>
        new DbConnectionStringBuilder { ConnectionString = configured } is var raw && (raw.ContainsKey("Default Timeout") || raw.ContainsKey("DefaultTimeout") || raw.ContainsKey("Command Timeout"));

    private int? _busyTimeout;

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<SQLitePCL.sqlite3, object> Prepared = new();
    private static readonly object Marker = new();
}
