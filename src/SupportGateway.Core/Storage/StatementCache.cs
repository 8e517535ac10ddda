using System.Collections;
using System.Collections.Concurrent;
using System.Data;
using System.Data.Common;
using System.Reflection;
using Dapper;

namespace SupportGateway.Core.Storage;

/// <summary>
/// Prepared commands kept on the long-lived SQLite writer connection. Microsoft.Data.Sqlite
/// prepares every new command from its text (about half the cost of a small statement); reusing the
/// command keeps the prepared statement. Rows are still mapped by Dapper.
/// </summary>
public sealed class StatementCache : IDisposable
{
    private static readonly ConcurrentDictionary<Type, (PropertyInfo[] Properties, bool HasList)> Shapes = new();

    private readonly DbConnection _connection;
    private readonly Dictionary<string, DbCommand> _commands = new(StringComparer.Ordinal);

    public StatementCache(DbConnection connection) => _connection = connection;

    /// <summary>The prepared command with the parameters bound; null when Dapper must expand a list parameter.</summary>
    public DbCommand? Bind(string sql, object? parameters, DbTransaction? transaction)
    {
        var (properties, hasList) = parameters is null ? ([], false) : Shapes.GetOrAdd(parameters.GetType(), static t =>
        {
            var all = t.GetProperties(BindingFlags.Public | BindingFlags.Instance);
            return (all, all.Any(p => p.PropertyType != typeof(string) && p.PropertyType != typeof(byte[]) && typeof(IEnumerable).IsAssignableFrom(p.PropertyType)));
        });
        if (hasList)
            return null;
        if (!_commands.TryGetValue(sql, out var command))
        {
            command = _connection.CreateCommand();
            command.CommandText = sql;
            _commands[sql] = command;
        }
        command.Transaction = transaction;
        command.Parameters.Clear();
        foreach (var property in properties)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = "@" + property.Name;
            parameter.Value = property.GetValue(parameters) ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }
        return command;
    }

    public static async Task<T?> ScalarAsync<T>(DbCommand command, CancellationToken cancellationToken)
    {
        var value = await command.ExecuteScalarAsync(cancellationToken);
        if (value is null or DBNull)
            return default;
        var target = Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T);
        return (T)(target.IsInstanceOfType(value) ? value : Convert.ChangeType(value, target, System.Globalization.CultureInfo.InvariantCulture));
    }

    public static async Task<List<T>> RowsAsync<T>(DbCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(CommandBehavior.Default, cancellationToken);
        var rows = new List<T>();
        if (!reader.HasRows)
            return rows;
        // A list of one column (strings, numbers): Dapper's typed parser for those is a Func<…, object> that cannot be
        // cast to Func<…, string>, so the untyped one is used and its value cast.
        if (typeof(T) == typeof(string) || typeof(T).IsValueType)
        {
            var untyped = reader.GetRowParser(typeof(T));
            while (await reader.ReadAsync(cancellationToken))
                rows.Add((T)untyped(reader));
            return rows;
        }
        var parse = reader.GetRowParser<T>();
        while (await reader.ReadAsync(cancellationToken))
            rows.Add(parse(reader));
        return rows;
    }

    public void Dispose()
    {
        foreach (var command in _commands.Values)
            command.Dispose();
        _commands.Clear();
    }
}
