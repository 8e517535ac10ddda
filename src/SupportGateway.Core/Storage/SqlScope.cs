using System.Data.Common;
using Dapper;

namespace SupportGateway.Core.Storage;

/// <summary>A connection and, when writing, its transaction: what every store method runs on.</summary>
public readonly record struct SqlScope(DbConnection Connection, DbTransaction? Transaction = null)
{
    public static implicit operator SqlScope(DbSession session) => new(session.Connection, session.Transaction);

    public CommandDefinition Command(string sql, object? parameters, CancellationToken cancellationToken) =>
        new(sql, parameters, Transaction, cancellationToken: cancellationToken);

    public Task<int> ExecuteAsync(string sql, object? parameters, CancellationToken cancellationToken) =>
        Connection.ExecuteAsync(Command(sql, parameters, cancellationToken));

    public Task<T?> ScalarAsync<T>(string sql, object? parameters, CancellationToken cancellationToken) =>
        Connection.ExecuteScalarAsync<T>(Command(sql, parameters, cancellationToken));

    public Task<T?> SingleOrDefaultAsync<T>(string sql, object? parameters, CancellationToken cancellationToken) =>
        Connection.QuerySingleOrDefaultAsync<T>(Command(sql, parameters, cancellationToken));

    public async Task<IReadOnlyList<T>> ListAsync<T>(string sql, object? parameters, CancellationToken cancellationToken) =>
        (await Connection.QueryAsync<T>(Command(sql, parameters, cancellationToken))).AsList();
}
