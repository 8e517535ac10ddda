using System.Data.Common;
using Dapper;

namespace SupportGateway.Core.Storage;

/// <summary>Opens connections and write sessions for the configured engine.</summary>
public sealed class Database
{
    private readonly string _connectionString;
    private readonly SemaphoreSlim? _writerGate;

    static Database() => DefaultTypeMap.MatchNamesWithUnderscores = true;

    public Database(StorageOptions options)
    {
        Dialect = options.Provider.ToLowerInvariant() switch
        {
            "sqlite" => new SqliteDialect(),
            _ => throw new NotSupportedException($"Storage provider '{options.Provider}' is not supported; use 'sqlite'."),
        };
        _connectionString = options.ConnectionString;
        _writerGate = Dialect.SingleWriter ? new SemaphoreSlim(1, 1) : null;
    }

    public SqlDialect Dialect { get; }

    public async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = Dialect.CreateConnection(_connectionString);
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

    /// <summary>Opens a connection and a write transaction. Dispose without commit rolls back.</summary>
    public async Task<DbSession> BeginAsync(CancellationToken cancellationToken)
    {
        if (_writerGate is not null)
            await _writerGate.WaitAsync(cancellationToken);
        DbConnection? connection = null;
        try
        {
            connection = await OpenAsync(cancellationToken);
            var transaction = await connection.BeginTransactionAsync(cancellationToken);
            return new DbSession(connection, transaction, _writerGate);
        }
        catch
        {
            if (connection is not null)
                await connection.DisposeAsync();
            _writerGate?.Release();
            throw;
        }
    }
}

/// <summary>A connection with its open transaction; holds the writer gate until disposed.</summary>
public sealed class DbSession(DbConnection connection, DbTransaction transaction, SemaphoreSlim? gate) : IAsyncDisposable
{
    private bool _disposed;

    public DbConnection Connection { get; } = connection;

    public DbTransaction Transaction { get; } = transaction;

    public Task CommitAsync(CancellationToken cancellationToken) => Transaction.CommitAsync(cancellationToken);

    public CommandDefinition Command(string sql, object? parameters, CancellationToken cancellationToken) =>
        new(sql, parameters, Transaction, cancellationToken: cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
            return;
        _disposed = true;
        await Transaction.DisposeAsync();
        await Connection.DisposeAsync();
        gate?.Release();
    }
}
