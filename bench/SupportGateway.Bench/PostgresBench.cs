using System.Diagnostics;
using Npgsql;

/// <summary>
/// A fresh database on the given PostgreSQL server for one ingest run, and that server's commit ceiling measured
/// first: bare transactions of one small insert each, from the same number of concurrent clients as the ingest, so the
/// ingest's rate can be read against what the server commits at all.
/// </summary>
internal sealed class PostgresBench
{
    private readonly string _server;
    private readonly string _name;

    private PostgresBench(string server, string name, string connectionString, double ceiling) =>
        (_server, _name, ConnectionString, Ceiling) = (server, name, connectionString, ceiling);

    public string ConnectionString { get; }

    public double Ceiling { get; }

    public static async Task<PostgresBench> CreateAsync(string server, int concurrency, int transactions = 20_000)
    {
        var name = $"sg_bench_{Guid.NewGuid():N}"[..24];
        await using (var admin = new NpgsqlConnection(server))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
            await create.ExecuteNonQueryAsync();
        }
        var connectionString = new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
        await using var source = NpgsqlDataSource.Create(connectionString);
        await using (var table = source.CreateCommand("CREATE TABLE ceiling (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at BIGINT NOT NULL, payload TEXT NOT NULL)"))
            await table.ExecuteNonQueryAsync();
        var next = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref next) <= transactions)
            {
                await using var connection = await source.OpenConnectionAsync();
                await using var transaction = await connection.BeginTransactionAsync();
                await using var insert = new NpgsqlCommand("INSERT INTO ceiling (at, payload) VALUES (@at, @payload)", connection, transaction);
                insert.Parameters.AddWithValue("at", Stopwatch.GetTimestamp());
                insert.Parameters.AddWithValue("payload", "Не открывается отчёт по продажам, ошибка 500.");
                await insert.ExecuteNonQueryAsync();
                await transaction.CommitAsync();
            }
        })));
        var ceiling = transactions / clock.Elapsed.TotalSeconds;
        Console.WriteLine($"PostgreSQL commit ceiling: {transactions} one-row transactions from {concurrency} clients in {clock.Elapsed.TotalSeconds:F2} s: {ceiling:F0}/s");
        return new PostgresBench(server, name, connectionString, ceiling);
    }

    public async Task DropAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(_server);
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {_name} WITH (FORCE)", admin);
        await drop.ExecuteNonQueryAsync();
    }
}
