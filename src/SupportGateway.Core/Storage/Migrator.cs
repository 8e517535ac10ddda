using System.Reflection;
using Dapper;
using Microsoft.Extensions.Logging;

namespace SupportGateway.Core.Storage;

/// <summary>Applies the embedded, numbered migrations (<c>Storage/Migrations/NNNN_name.sql</c>) in order, once each.</summary>
public sealed class Migrator(Database database, ILogger<Migrator> logger)
{
    private const string Ledger = """
        CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)
        """;

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using (var connection = await database.OpenAsync(cancellationToken))
        {
            if (database.Dialect is SqliteDialect)
                await connection.ExecuteAsync(new CommandDefinition("PRAGMA journal_mode=WAL", cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition(Ledger, cancellationToken: cancellationToken));
        }

        foreach (var (version, name, sql) in Embedded())
        {
            await using var session = await database.BeginAsync(cancellationToken);
            var applied = await session.Connection.ExecuteScalarAsync<long>(session.Command(
                "SELECT COUNT(*) FROM schema_migrations WHERE version = @version", new { version }, cancellationToken));
            if (applied > 0)
                continue;
            await session.Connection.ExecuteAsync(session.Command(database.Dialect.Translate(sql), null, cancellationToken));
            await session.Connection.ExecuteAsync(session.Command(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (@version, @name, @at)",
                new { version, name, at = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() }, cancellationToken));
            await session.CommitAsync(cancellationToken);
            logger.LogInformation("Applied migration {Version} {Name}", version, name);
        }

        // Folding is C# (TextFold), so a migration's SQL cannot fill the rows it adds a folded column to.
        await using var fill = await database.BeginAsync(cancellationToken);
        await Tickets.TicketStore.FillFoldedSubjectsAsync(new SqlScope(fill.Connection, fill.Transaction), cancellationToken);
        await fill.CommitAsync(cancellationToken);
    }

    internal static IEnumerable<(int Version, string Name, string Sql)> Embedded()
    {
        var assembly = typeof(Migrator).Assembly;
        const string prefix = "SupportGateway.Core.Storage.Migrations.";
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            var file = resource[prefix.Length..];
            var version = int.Parse(file.AsSpan(0, 4), System.Globalization.CultureInfo.InvariantCulture);
            using var reader = new StreamReader(assembly.GetManifestResourceStream(resource)!);
            yield return (version, Path.GetFileNameWithoutExtension(file)[5..], reader.ReadToEnd());
        }
    }
}
