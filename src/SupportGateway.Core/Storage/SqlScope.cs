using System.Data.Common;
using Dapper;

namespace SupportGateway.Core.Storage;

/// <summary>A connection and, when writing, its transaction: what every store method runs on.</summary>
public readonly record struct SqlScope(DbConnection Connection, DbTransaction? Transaction = null, StatementCache? Cache = null)
{
    public static implicit operator SqlScope(DbSession session) => new(session.Connection, session.Transaction, session.Cache);

    public CommandDefinition Command(string sql, object? parameters, CancellationToken cancellationToken) =>
        new(Connection is Npgsql.NpgsqlConnection ? PostgresDialect.Adapt(sql) : sql, parameters, Transaction, cancellationToken: cancellationToken);

    public Task<int> ExecuteAsync(string sql, object? parameters, CancellationToken cancellationToken) =>
        Cache?.Bind(sql, parameters, Transaction) is { } prepared
            ? prepared.ExecuteNonQueryAsync(cancellationToken)
            : Connection.ExecuteAsync(Command(sql, parameters, cancellationToken));

    public Task<T?> ScalarAsync<T>(string sql, object? parameters, CancellationToken cancellationToken) =>
        Cache?.Bind(sql, parameters, Transaction) is { } prepared
            ? StatementCache.ScalarAsync<T>(prepared, cancellationToken)
            : Connection.ExecuteScalarAsync<T>(Command(sql, parameters, cancellationToken));

    public async Task<T?> SingleOrDefaultAsync<T>(string sql, object? parameters, CancellationToken cancellationToken)
    {
        if (Cache?.Bind(sql, parameters, Transaction) is not { } prepared)
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
        Cache?.Bind(sql, parameters, Transaction) is { } prepared
            ? await StatementCache.RowsAsync<T>(prepared, cancellationToken)
            : (await Connection.QueryAsync<T>(Command(sql, parameters, cancellationToken))).AsList();
}
