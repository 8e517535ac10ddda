using System.Collections;
using System.Collections.Concurrent;
using System.Data;
using System.Data.Common;
using System.Reflection;
using System.Text.RegularExpressions;
using Npgsql;

namespace SupportGateway.Core.Storage;

/// <summary>
/// The writes of a PostgreSQL session that nobody reads an answer of (<see cref="SqlScope.WriteAsync"/>), held until
/// the session sends its next statement and sent in front of it, in one round trip (an <see cref="NpgsqlBatch"/>).
/// A round trip costs the gateway and the server more than the statements of an ingest do on this scale: a new
/// request sent statement by statement was 17 round trips before its commit, and is 10. The server runs a batch in
/// order and stops at the first error, so the statements keep their order and a failing write fails the statement
/// it travels with, in the same savepoint.
/// </summary>
internal sealed partial class DeferredWrites
{
    private readonly List<(string Sql, object? Parameters)> _writes = [];

    public bool IsEmpty => _writes.Count == 0;

    public void Add(string sql, object? parameters) => _writes.Add((sql, parameters));

    /// <summary>
    /// Forgets the writes held since <paramref name="savepoint"/> was set, for a rollback to it; true when the savepoint
    /// itself was still held (the server never saw it, nor anything after it). Writes held before it stay.
    /// </summary>
    public bool DiscardSince(string savepoint)
    {
        var set = _writes.FindLastIndex(w => w.Parameters is null && string.Equals(w.Sql, savepoint, StringComparison.Ordinal));
        _writes.RemoveRange(Math.Max(0, set), _writes.Count - Math.Max(0, set));
        return set >= 0;
    }

    /// <summary>The held writes, then <paramref name="sql"/> when given, as one batch; the held writes are gone either way.</summary>
    public NpgsqlBatch Take(NpgsqlConnection connection, NpgsqlTransaction transaction, string? sql = null, object? parameters = null)
    {
        var batch = new NpgsqlBatch(connection, transaction);
        foreach (var (text, values) in _writes)
            batch.BatchCommands.Add(Command(text, values));
        _writes.Clear();
        if (sql is not null)
            batch.BatchCommands.Add(Command(sql, parameters));
        return batch;
    }

    /// <summary>Whether a statement's parameters can go in a batch: not a list, which only Dapper expands.</summary>
    public static bool Batchable(object? parameters) => parameters is null || Binder.Of(parameters.GetType(), "").Batchable;

    private static NpgsqlBatchCommand Command(string sql, object? parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        if (parameters is not null)
            Binder.Of(parameters.GetType(), sql).Bind(command.Parameters, parameters);
        return command;
    }

    public static async Task<T?> ScalarAsync<T>(NpgsqlBatch batch, CancellationToken cancellationToken)
    {
        // The held writes return no rows: the reader starts at the last statement's.
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? StatementCache.Convert<T>(reader.GetValue(0)) : default;
    }

    public static async Task<List<T>> RowsAsync<T>(NpgsqlBatch batch, CancellationToken cancellationToken)
    {
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        return await StatementCache.RowsAsync<T>(reader, cancellationToken);
    }

    public static async Task<int> ExecuteAsync(NpgsqlBatch batch, CancellationToken cancellationToken)
    {
        await batch.ExecuteNonQueryAsync(cancellationToken);
        return batch.BatchCommands[^1].RecordsAffected;
    }

    /// <summary>
    /// A parameter type's properties that a statement names (<c>@Name</c>, as Dapper binds them), with their values'
    /// types for nulls and enums as their numbers (as Dapper sends them).
    /// </summary>
    private sealed record Binder(string[] Names, Func<object, object?>[] Getters, DbType?[] Types, bool Batchable)
    {
        private static readonly ConcurrentDictionary<(Type, string), Binder> Cache = new();

        public static Binder Of(Type type, string sql) => Cache.GetOrAdd((type, sql), static key => Create(key.Item1, key.Item2));

        public void Bind(NpgsqlParameterCollection parameters, object values)
        {
            for (var i = 0; i < Names.Length; i++)
            {
                var value = Getters[i](values);
                var parameter = new NpgsqlParameter(Names[i], value is Enum e ? Convert.ChangeType(e, e.GetTypeCode(), null) : value ?? DBNull.Value);
                if (Types[i] is { } dbType)
                    parameter.DbType = dbType;
                parameters.Add(parameter);
            }
        }

        private static Binder Create(Type type, string sql)
        {
            var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance);
            var batchable = !properties.Any(p => p.PropertyType != typeof(string) && p.PropertyType != typeof(byte[]) && typeof(IEnumerable).IsAssignableFrom(p.PropertyType));
            var named = Placeholder().Matches(sql).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.OrdinalIgnoreCase);
            var used = properties.Where(p => named.Contains(p.Name)).ToArray();
            return new([.. used.Select(p => p.Name)], [.. used.Select(StatementCache.Getter)], [.. used.Select(p => TypeOf(p.PropertyType))], batchable);
        }

        private static DbType? TypeOf(Type type) => (Nullable.GetUnderlyingType(type) ?? type) switch
        {
            var t when t == typeof(string) => DbType.String,
            var t when t == typeof(long) => DbType.Int64,
            var t when t == typeof(int) => DbType.Int32,
            var t when t == typeof(bool) => DbType.Boolean,
            var t when t == typeof(double) => DbType.Double,
            var t when t == typeof(byte[]) => DbType.Binary,
            _ => null,
        };
    }

    [GeneratedRegex(@"@(\w+)", RegexOptions.CultureInvariant)]
    private static partial Regex Placeholder();
}
