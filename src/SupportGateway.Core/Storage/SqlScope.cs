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

    public Task<int> ExecuteAsync(string sql, object? parameters, CancellationToken cancellationToken) =>
        Bind(sql, parameters) is { } prepared
            ? prepared.ExecuteNonQueryAsync(cancellationToken)
            : Connection.ExecuteAsync(Command(sql, parameters, cancellationToken));

    public Task<T?> ScalarAsync<T>(string sql, object? parameters, CancellationToken cancellationToken) =>
        Bind(sql, parameters) is { } prepared
            ? StatementCache.ScalarAsync<T>(prepared, cancellationToken)
            : Connection.ExecuteScalarAsync<T>(Command(sql, parameters, cancellationToken));

    public async Task<T?> SingleOrDefaultAsync<T>(string sql, object? parameters, CancellationToken cancellationToken)
    {
        if (Bind(sql, parameters) is not { } prepared)
            return await Connection.QuerySingleOrDefaultAsync<T>(Command(sql, parameters, cancellationToken));
        var rows = await StatementCache.RowsAsync<T>(prepared, cancellationToken);
        return rows.Count switch
        {
            0 => default,
            1 => rows[0],
            _ => throw new InvalidOperationException("The query returned more than one row."),
        };
    }

    public async Task<IReadOnlyList<T>> ListAsync<T>(string sql, object? parameters, CancellationToken cancellationToken) =>
        Bind(sql, parameters) is { } prepared
            ? await StatementCache.RowsAsync<T>(prepared, cancellationToken)
            : (await Connection.QueryAsync<T>(Command(sql, parameters, cancellationToken))).AsList();
}
