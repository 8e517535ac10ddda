using Dapper;
using Microsoft.Data.Sqlite;

namespace SupportGateway.Tests.Support;

/// <summary>Reads the gateway's database file directly, to prove what was (not) written.</summary>
internal static class DbProbe
{
    public static async Task<Dictionary<string, long>> CountsAsync(string directory, string file = "gateway.db")
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(directory, file)};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        var counts = new Dictionary<string, long>();
        foreach (var table in new[] { "tickets", "messages", "attachments", "inbound", "outbox", "contacts", "audit" })
            counts[table] = await connection.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM {table}");
        return counts;
    }

    public static async Task<T> ScalarAsync<T>(string directory, string sql, object? parameters = null, string file = "gateway.db")
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(directory, file)};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        return (await connection.ExecuteScalarAsync<T>(sql, parameters))!;
    }

    public static async Task<IReadOnlyList<T>> ListAsync<T>(string directory, string sql, object? parameters = null, string file = "gateway.db")
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(directory, file)};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        return [.. await connection.QueryAsync<T>(sql, parameters)];
    }
}
