using System.Data.Common;
using Dapper;

namespace SupportGateway.Core.Storage;

/// <summary>The tables of a migrated PostgreSQL schema as the catalog describes them, for <see cref="StorageCopy"/>.</summary>
internal static class PostgresSchema
{
    public sealed record Column(string Name, string Type, bool Identity);

    public sealed record Table(string Name, IReadOnlyList<Column> Columns);

    private const string ColumnsSql = """
        SELECT c.table_name, c.column_name, c.data_type, c.is_identity = 'YES' AS identity
        FROM information_schema.columns c
        JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
        WHERE c.table_schema = current_schema() AND c.table_name <> 'schema_migrations'
        ORDER BY c.table_name, c.ordinal_position
        """;

    private const string ReferencesSql = """
        SELECT src.relname AS referencing, dst.relname AS referenced
        FROM pg_constraint k
        JOIN pg_class src ON src.oid = k.conrelid
        JOIN pg_class dst ON dst.oid = k.confrelid
        WHERE k.contype = 'f' AND k.connamespace = current_schema()::regnamespace
        """;

    /// <summary>Every table but the migration ledger, each after the tables it references (Kahn's order, ties by name).</summary>
    public static async Task<IReadOnlyList<Table>> TablesInDependencyOrderAsync(DbConnection connection, DbTransaction transaction, CancellationToken ct)
    {
        var columns = await connection.QueryAsync<(string Table, string Column, string Type, bool Identity)>(
            new CommandDefinition(ColumnsSql, transaction: transaction, cancellationToken: ct));
        var tables = columns.GroupBy(c => c.Table, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => new Table(g.Key, [.. g.Select(c => new Column(c.Column, c.Type, c.Identity))]), StringComparer.Ordinal);
        var references = await connection.QueryAsync<(string Referencing, string Referenced)>(
            new CommandDefinition(ReferencesSql, transaction: transaction, cancellationToken: ct));
        var waitsFor = tables.Keys.ToDictionary(t => t, _ => new HashSet<string>(StringComparer.Ordinal), StringComparer.Ordinal);
        foreach (var (referencing, referenced) in references)
        {
            if (referencing != referenced && waitsFor.ContainsKey(referencing) && tables.ContainsKey(referenced))
                waitsFor[referencing].Add(referenced);
        }

        var ordered = new List<Table>();
        while (waitsFor.Count > 0)
        {
            var ready = waitsFor.Where(w => w.Value.Count == 0).Select(w => w.Key).Order(StringComparer.Ordinal).ToList();
            if (ready.Count == 0)
                throw new InvalidOperationException($"The foreign keys of {string.Join(", ", waitsFor.Keys)} form a cycle.");
            foreach (var name in ready)
            {
                ordered.Add(tables[name]);
                waitsFor.Remove(name);
                foreach (var others in waitsFor.Values)
                    others.Remove(name);
            }
        }
        return ordered;
    }
}
