using System.Data.Common;
using Dapper;

namespace SupportGateway.Core.Storage;

/// <summary>
/// A connection and, when writing, its transaction: what every store method runs on. <see cref="Session"/> is the
/// session it came from, when it did, for what must happen after its commit (<see cref="DbSession.AfterCommit"/>).
/// </summary>
public readonly record struct SqlScope(DbConnection Connection, DbTransaction? Transaction = null, StatementCache? Cache = null, DbSession? Session = null)
{
    public static implicit operator SqlScope(DbSession session) => new(session.Connection, session.Transaction, session.Cache, session);

    /// <summary>
    /// When set (by the query-plan tests), every statement run through a scope in the setting flow of execution is
    /// recorded here; null otherwise.
    /// </summary>
    internal static readonly AsyncLocal<System.Collections.Concurrent.ConcurrentDictionary<string, byte>?> Observed = new();

    /// <summary>The writer's prepared statement for <paramref name="sql"/>, or null where statements are not cached.</summary>
    private DbCommand? Bind(string sql, object? parameters)
    {
        Observed.Value?.TryAdd(sql, 0);
        return Cache?.Bind(sql, parameters, Transaction);
    }

    public CommandDefinition Command(string sql, object? parameters, CancellationToken cancellationToken) =>
        new(Connection is Npgsql.NpgsqlConnection ? PostgresDialect.Adapt(sql) : sql, parameters, Transaction, cancellationToken: cancellationToken);

    /// <summary>
    /// A write whose answer (the count of rows) nobody reads: an INSERT of a row whose key is known, an audit entry, a
    /// state update. In a PostgreSQL session it is held and sent in front of the session's next statement, or with its
    /// savepoint's release or its commit, in one round trip (<see cref="DeferredWrites"/>); elsewhere it runs at once.
    /// It must return no rows.
    /// </summary>
    public Task WriteAsync(string sql, object? parameters, CancellationToken cancellationToken)
    {
        if (Session?.Deferred is not { } deferred || !DeferredWrites.Batchable(parameters))
            return ExecuteAsync(sql, parameters, cancellationToken);
        Observed.Value?.TryAdd(sql, 0);
        deferred.Add(sql, parameters);
        return Task.CompletedTask;
    }

    /// <summary>The session's held writes, when there are some and they can travel with this statement; null otherwise.</summary>
    private Npgsql.NpgsqlBatch? WithDeferred(string sql, object? parameters)
    {
        if (Session?.Deferred is not { IsEmpty: false } deferred || !DeferredWrites.Batchable(parameters))
            return null;
        Observed.Value?.TryAdd(sql, 0);
        return deferred.Take((Npgsql.NpgsqlConnection)Connection, (Npgsql.NpgsqlTransaction)Transaction!, sql, parameters);
    }

    /// <summary>Sends the held writes first when this statement cannot take them along (a list parameter, which only Dapper expands).</summary>
    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (Session is { Deferred.IsEmpty: false } session)
            await session.FlushAsync(cancellationToken);
    }

    public async Task<int> ExecuteAsync(string sql, object? parameters, CancellationToken cancellationToken)
    {
        if (WithDeferred(sql, parameters) is { } batch)
        {
            await using (batch)
                return await DeferredWrites.ExecuteAsync(batch, cancellationToken);
        }
        await FlushAsync(cancellationToken);
        return Bind(sql, parameters) is { } prepared
            ? await prepared.ExecuteNonQueryAsync(cancellationToken)
            : await Connection.ExecuteAsync(Command(sql, parameters, cancellationToken));
    }

    public async Task<T?> ScalarAsync<T>(string sql, object? parameters, CancellationToken cancellationToken)
    {
        if (WithDeferred(sql, parameters) is { } batch)
        {
            await using (batch)
                return await DeferredWrites.ScalarAsync<T>(batch, cancellationToken);
        }
        await FlushAsync(cancellationToken);
        return Bind(sql, parameters) is { } prepared
            ? await StatementCache.ScalarAsync<T>(prepared, cancellationToken)
            : await Connection.ExecuteScalarAsync<T>(Command(sql, parameters, cancellationToken));
    }

    public async Task<T?> SingleOrDefaultAsync<T>(string sql, object? parameters, CancellationToken cancellationToken)
    {
        var rows = await ListAsync<T>(sql, parameters, cancellationToken);
        return rows.Count switch
        {
            0 => default,
            1 => rows[0],
            _ => throw new InvalidOperationException("The query returned more than one row."),
        };
    }

    public async Task<IReadOnlyList<T>> ListAsync<T>(string sql, object? parameters, CancellationToken cancellationToken)
    {
        if (WithDeferred(sql, parameters) is { } batch)
        {
            await using (batch)
                return await DeferredWrites.RowsAsync<T>(batch, cancellationToken);
        }
        await FlushAsync(cancellationToken);
        return Bind(sql, parameters) is { } prepared
            ? await StatementCache.RowsAsync<T>(prepared, cancellationToken)
            : (await Connection.QueryAsync<T>(Command(sql, parameters, cancellationToken))).AsList();
    }
}
