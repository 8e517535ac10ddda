using System.Reflection;
using Dapper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Core.Storage;

/// <summary>
/// Applies the embedded, numbered migrations (<c>Storage/Migrations/NNNN_name.sql</c>) in order, once each, under the
/// dialect's migration lock: several instances starting together on one database apply each migration once.
/// </summary>
public sealed class Migrator(Database database, IOptions<TicketOptions> tickets, ILogger<Migrator> logger)
{
    private const string Ledger = """
        CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)
        """;

    /// <summary>Brings the schema up to date; returns the migrations this call applied ("0012_ticket_sequence"), oldest first.</summary>
    public async Task<IReadOnlyList<string>> MigrateAsync(CancellationToken cancellationToken)
    {
        await using var guard = await database.OpenAsync(cancellationToken);
        await using var held = await database.Dialect.LockMigrationsAsync(guard, cancellationToken);
        await guard.ExecuteAsync(new CommandDefinition(Ledger, cancellationToken: cancellationToken));

        var applied = new List<string>();
        foreach (var (version, name, sql) in Embedded())
        {
            await using var session = await database.BeginAsync(cancellationToken);
            var done = await session.Connection.ExecuteScalarAsync<long>(session.Command(
                "SELECT COUNT(*) FROM schema_migrations WHERE version = @version", new { version }, cancellationToken));
            if (done > 0)
                continue;
            await session.Connection.ExecuteAsync(session.Command(database.Dialect.Translate(sql), null, cancellationToken));
            await session.Connection.ExecuteAsync(session.Command(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (@version, @name, @at)",
                new { version, name, at = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() }, cancellationToken));
            await session.CommitAsync(cancellationToken);
            applied.Add($"{version:D4}_{name}");
            logger.LogInformation("Applied migration {Version} {Name}", version, name);
        }

        // Folding is C# (TextFold), so a migration's SQL cannot fill the rows it adds a folded column to.
        await using var fill = await database.BeginAsync(cancellationToken);
        await TicketStore.FillFoldedSubjectsAsync(new SqlScope(fill.Connection, fill.Transaction), cancellationToken);
        if (database.Dialect.StartTicketsSql is { } start)
            await fill.Connection.ExecuteAsync(fill.Command(start, new { start = tickets.Value.NumberStart }, cancellationToken));
        await fill.CommitAsync(cancellationToken);
        return applied;
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
