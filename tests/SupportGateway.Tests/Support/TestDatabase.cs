using Npgsql;

namespace SupportGateway.Tests.Support;

/// <summary>The storage engines the store and pipeline tests run on, each fixture once per engine.</summary>
public enum StorageEngine
{
    Sqlite,
    Postgres,
}

/// <summary>
/// A fresh, empty database for one test: a SQLite file in a temporary folder, or a database of its own in the shared
/// PostgreSQL cluster that tests/postgres.sh starts (SG_POSTGRES_CONNECTION), dropped afterwards.
/// </summary>
internal sealed class TestDatabase : IAsyncDisposable
{
    public const string ConnectionVariable = "SG_POSTGRES_CONNECTION";

    private readonly string? _directory;
    private readonly string? _postgresName;

    private TestDatabase(StorageEngine engine, string connectionString, string? directory, string? postgresName)
    {
        Engine = engine;
        ConnectionString = connectionString;
        _directory = directory;
        _postgresName = postgresName;
    }

    public StorageEngine Engine { get; }

    public string Provider => Engine == StorageEngine.Postgres ? "postgresql" : "sqlite";

    public string ConnectionString { get; }

    /// <summary>The gateway's storage keys for this database.</summary>
    public Dictionary<string, string?> Settings => new()
    {
        ["SupportGateway:Storage:Provider"] = Provider,
        ["SupportGateway:Storage:ConnectionString"] = ConnectionString,
    };

    /// <summary>The cluster's own connection string; a test that needs PostgreSQL fails (never skips) without it.</summary>
    public static string Cluster
    {
        get
        {
            if (Environment.GetEnvironmentVariable(ConnectionVariable) is { Length: > 0 } value)
                return value;
            Assert.Fail($"{ConnectionVariable} is not set: start a cluster with 'bash tests/postgres.sh start' and " +
                $"export the connection string it prints as {ConnectionVariable} (tests/run.sh does both).");
            return "";
        }
    }

    public static async Task<TestDatabase> CreateAsync(StorageEngine engine, string file = "test.db")
    {
        if (engine == StorageEngine.Sqlite)
        {
            var directory = TempDirectory.Create();
            return new TestDatabase(engine, $"Data Source={Path.Combine(directory, file)}", directory, null);
        }
        var name = "sg_test_" + Guid.NewGuid().ToString("N");
        await AdminAsync($"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'");
        var builder = new NpgsqlConnectionStringBuilder(Cluster) { Database = name };
        return new TestDatabase(engine, builder.ConnectionString, null, name);
    }

    private static async Task AdminAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(Cluster);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_directory is not null)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            TempDirectory.Delete(_directory);
        }
        if (_postgresName is not null)
            await AdminAsync($"DROP DATABASE IF EXISTS {_postgresName} WITH (FORCE)");
    }
}
