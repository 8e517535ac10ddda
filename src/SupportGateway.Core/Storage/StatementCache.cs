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
    private static readonly ConcurrentDictionary<Type, Shape> Shapes = new();

    private readonly DbConnection _connection;
    private readonly Dictionary<string, (DbCommand Command, Shape Shape)> _commands = new(StringComparer.Ordinal);

    public StatementCache(DbConnection connection) => _connection = connection;

    /// <summary>The text of every statement prepared so far: what the writer runs, for checking query plans.</summary>
    internal IReadOnlyCollection<string> Statements => _commands.Keys;

    /// <summary>The prepared command with the parameters bound; null when Dapper must expand a list parameter.</summary>
    public DbCommand? Bind(string sql, object? parameters, DbTransaction? transaction)
    {
        var shape = parameters is null ? Shape.None : Shapes.GetOrAdd(parameters.GetType(), Shape.Of);
        if (shape.HasList)
            return null;
        if (!_commands.TryGetValue(sql, out var cached))
        {
            var created = _connection.CreateCommand();
            created.CommandText = sql;
            cached = (created, Shape.None);
        }
        var command = cached.Command;
        // The parameters are made once per statement and parameter type; after that only their values change.
        if (!ReferenceEquals(cached.Shape, shape))
        {
            command.Parameters.Clear();
            foreach (var name in shape.Names)
            {
                var parameter = command.CreateParameter();
                parameter.ParameterName = name;
                command.Parameters.Add(parameter);
            }
            _commands[sql] = (command, shape);
        }
        command.Transaction = transaction;
        for (var i = 0; i < shape.Getters.Length; i++)
            command.Parameters[i].Value = shape.Getters[i](parameters!) ?? DBNull.Value;
        return command;
    }

    /// <summary>A parameter type's public properties as "@name" and compiled getters (reflection per call allocated and was slow).</summary>
    private sealed record Shape(string[] Names, Func<object, object?>[] Getters, bool HasList)
    {
        public static readonly Shape None = new([], [], false);

        public static Shape Of(Type type)
        {
            var all = type.GetProperties(BindingFlags.Public | BindingFlags.Instance);
            var hasList = all.Any(p => p.PropertyType != typeof(string) && p.PropertyType != typeof(byte[]) && typeof(IEnumerable).IsAssignableFrom(p.PropertyType));
            return new([.. all.Select(p => "@" + p.Name)], [.. all.Select(Getter)], hasList);
        }
    }

    /// <summary>A compiled getter of <paramref name="property"/> (reflection per call allocated and was slow).</summary>
    internal static Func<object, object?> Getter(PropertyInfo property)
    {
        var instance = System.Linq.Expressions.Expression.Parameter(typeof(object));
        var body = System.Linq.Expressions.Expression.Convert(
            System.Linq.Expressions.Expression.Property(System.Linq.Expressions.Expression.Convert(instance, property.DeclaringType!), property), typeof(object));
        return System.Linq.Expressions.Expression.Lambda<Func<object, object?>>(body, instance).Compile();
    }

    public static async Task<T?> ScalarAsync<T>(DbCommand command, CancellationToken cancellationToken) =>
        Convert<T>(await command.ExecuteScalarAsync(cancellationToken));

    /// <summary>A scalar as <typeparamref name="T"/>: null and DBNull as the default, numbers converted (a COUNT is a long, an id an int).</summary>
    internal static T? Convert<T>(object? value)
    {
        if (value is null or DBNull)
            return default;
        var target = Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T);
        return (T)(target.IsInstanceOfType(value) ? value : System.Convert.ChangeType(value, target, System.Globalization.CultureInfo.InvariantCulture));
    }

    public static async Task<List<T>> RowsAsync<T>(DbCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(CommandBehavior.Default, cancellationToken);
        return await RowsAsync<T>(reader, cancellationToken);
    }

    /// <summary>The rows of the reader's current result, mapped by Dapper.</summary>
    public static async Task<List<T>> RowsAsync<T>(DbDataReader reader, CancellationToken cancellationToken)
    {
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
        foreach (var (command, _) in _commands.Values)
            command.Dispose();
        _commands.Clear();
    }
}
