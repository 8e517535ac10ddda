using System.Data.Common;
using Dapper;

namespace SupportGateway.Core.Storage;

/// <summary>Opens connections and write sessions for the configured engine.</summary>
public sealed class Database : IAsyncDisposable
{
    private readonly SemaphoreSlim? _writerGate;

    static Database() => DefaultTypeMap.MatchNamesWithUnderscores = true;

    public Database(StorageOptions options)
    {
        Dialect = SqlDialect.For(options.Provider, options.ConnectionString)
            ?? throw new NotSupportedException($"Storage provider '{options.Provider}' is not supported; use {SqlDialect.Providers}.");
        _writerGate = Dialect.SingleWriter ? new SemaphoreSlim(1, 1) : null;
    }

    public SqlDialect Dialect { get; }

    public async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = Dialect.CreateConnection();
        try
        {
            await connection.OpenAsync(cancellationToken);
            await Dialect.PrepareAsync(connection, cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// A write transaction for background chores (the SLA scheduler): on a single-writer engine it waits, up to
    /// <paramref name="patience"/>, for the writer to be free instead of queueing in front of the next ingest batch,
    /// so ingest keeps its pace while the chore works through a backlog; then it takes its turn like anyone.
    /// </summary>
    public async Task<DbSession> BeginBackgroundAsync(TimeSpan patience, CancellationToken cancellationToken)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (_writerGate is { CurrentCount: 0 } && waited.Elapsed < patience)
            await Task.Delay(2, cancellationToken);
        return await BeginAsync(cancellationToken);
    }

    /// <summary>
    /// Holds the single writer without a transaction (nothing is written through it meanwhile), waiting up to
    /// <paramref name="patience"/> for it to be free first, as <see cref="BeginBackgroundAsync"/> does; null on an engine
    /// with no single writer. Dispose to release it.
    /// </summary>
    internal async Task<IDisposable?> HoldWriterAsync(TimeSpan patience, CancellationToken cancellationToken)
    {
        if (_writerGate is null)
            return null;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (_writerGate.CurrentCount == 0 && waited.Elapsed < patience)
            await Task.Delay(2, cancellationToken);
        await _writerGate.WaitAsync(cancellationToken);
        return new Held(_writerGate);
    }

    private sealed class Held(SemaphoreSlim gate) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
                gate.Release();
        }
    }

    /// <summary>
    /// Opens a write transaction. Dispose without commit rolls back. On a single-writer engine the
    /// writer gate owns one long-lived connection whose prepared statements are reused.
    /// </summary>
    public async Task<DbSession> BeginAsync(CancellationToken cancellationToken)
    {
        if (_writerGate is null)
        {
            var connection = await OpenAsync(cancellationToken);
            try
            {
                return new DbSession(connection, await connection.BeginTransactionAsync(cancellationToken), null, null, ownsConnection: true);
            }
            catch
            {
                await connection.DisposeAsync();
                throw;
            }
        }

        await _writerGate.WaitAsync(cancellationToken);
        try
        {
            if (_writer is null || _writer.State != System.Data.ConnectionState.Open)
            {
                await ResetWriterAsync();
                _writer = await OpenAsync(cancellationToken);
                _writerStatements = new StatementCache(_writer);
            }
            return new DbSession(_writer, await _writer.BeginTransactionAsync(cancellationToken), _writerGate, _writerStatements, ownsConnection: false);
        }
        catch
        {
            await ResetWriterAsync();
            _writerGate.Release();
            throw;
        }
    }

    private DbConnection? _writer;
    private StatementCache? _writerStatements;

    /// <summary>The statements the single writer has prepared (SQLite), for tests of their query plans.</summary>
    internal IReadOnlyCollection<string> WriterStatements => _writerStatements?.Statements ?? [];

    private async Task ResetWriterAsync()
    {
        _writerStatements?.Dispose();
        _writerStatements = null;
        if (_writer is not null)
            await _writer.DisposeAsync();
        _writer = null;
    }

    public async ValueTask DisposeAsync()
    {
        if (_writerGate is not null)
        {
            await _writerGate.WaitAsync();
            await ResetWriterAsync();
            _writerGate.Release();
        }
        await Dialect.DisposeAsync();
    }
}

/// <summary>A connection with its open transaction; holds the writer gate until disposed.</summary>
public sealed class DbSession(DbConnection connection, DbTransaction transaction, SemaphoreSlim? gate, StatementCache? cache, bool ownsConnection)
    : IAsyncDisposable
{
    private bool _disposed;

    public DbConnection Connection { get; } = connection;

    public DbTransaction Transaction { get; } = transaction;

    /// <summary>Prepared statements of the writer connection, when the engine has one.</summary>
    public StatementCache? Cache { get; } = cache;

    private Dictionary<string, Action>? _afterCommit;

    /// <summary>
    /// Commits, then runs what the transaction's writes asked for once they are visible (<see cref="AfterCommit"/>):
    /// the wake-up of the sender of a channel a message was queued for.
    /// </summary>
    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        await FlushAsync(cancellationToken);
        await Transaction.CommitAsync(cancellationToken);
        if (_afterCommit is { } actions)
        {
            _afterCommit = null;
            foreach (var action in actions.Values)
                action();
        }
    }

    /// <summary>
    /// Writes held to travel with the next statement (<see cref="SqlScope.WriteAsync"/>); null where each statement is
    /// sent at once (SQLite runs in this process: a statement costs no round trip).
    /// </summary>
    internal DeferredWrites? Deferred { get; } = connection is Npgsql.NpgsqlConnection ? new DeferredWrites() : null;

    /// <summary>Sends the held writes now, in one round trip.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (Deferred is { IsEmpty: false } deferred)
        {
            await using var batch = deferred.Take((Npgsql.NpgsqlConnection)Connection, (Npgsql.NpgsqlTransaction)Transaction);
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>A savepoint: on PostgreSQL it travels with the next statement.</summary>
    public Task SaveAsync(string savepoint, CancellationToken cancellationToken)
    {
        if (Deferred is not { } deferred)
            return Transaction.SaveAsync(savepoint, cancellationToken);
        deferred.Add($"SAVEPOINT {savepoint}", null);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Ends a savepoint's work: every write held since is sent, so that its failure is the failure of the work behind
    /// this savepoint and not of whatever the session runs next.
    /// </summary>
    public async Task ReleaseAsync(string savepoint, CancellationToken cancellationToken)
    {
        if (Deferred is not { } deferred)
        {
            await Transaction.ReleaseAsync(savepoint, cancellationToken);
            return;
        }
        deferred.Add($"RELEASE SAVEPOINT {savepoint}", null);
        await FlushAsync(cancellationToken);
    }

    /// <summary>Undoes the work since the savepoint; held writes are dropped, and a savepoint never sent needs no rollback.</summary>
    public Task RollbackToAsync(string savepoint, CancellationToken cancellationToken) =>
        Deferred?.DiscardSince($"SAVEPOINT {savepoint}") == true ? Task.CompletedTask : Transaction.RollbackAsync(savepoint, cancellationToken);

    /// <summary>Runs <paramref name="action"/> after this session commits, once per <paramref name="key"/>; never if it does not.</summary>
    public void AfterCommit(string key, Action action) => (_afterCommit ??= new(StringComparer.Ordinal)).TryAdd(key, action);

    public CommandDefinition Command(string sql, object? parameters, CancellationToken cancellationToken) =>
        new SqlScope(Connection, Transaction).Command(sql, parameters, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
            return;
        _disposed = true;
        try
        {
            await Transaction.DisposeAsync();
        }
        catch (Exception) when (!ownsConnection)
        {
            // The rollback itself failed (SQLite may have ended the transaction on a full disk): the shared writer's
            // state is unknown, so it is closed and the next session opens a fresh one. The first error is the caller's.
            await Connection.CloseAsync();
        }
        finally
        {
            if (ownsConnection)
                await Connection.DisposeAsync();
            gate?.Release();
        }
    }
}
