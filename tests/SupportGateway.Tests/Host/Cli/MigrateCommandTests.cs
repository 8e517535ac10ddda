using SupportGateway.Core.Storage;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Cli;

/// <summary><c>migrate</c> brings the configured database up to date on demand and says what it applied.</summary>
public sealed class MigrateCommandTests
{
    [TestCase(StorageEngine.Sqlite)]
    [TestCase(StorageEngine.Postgres)]
    public async Task Migrate_lists_what_it_applied_and_then_that_nothing_is_left(StorageEngine engine)
    {
        await using var database = await TestDatabase.CreateAsync(engine, "gateway.db");
        var directory = TempDirectory.Create();
        try
        {
            var env = GatewayProcess.Environment(directory);
            env["SupportGateway__Storage__Provider"] = database.Provider;
            env["SupportGateway__Storage__ConnectionString"] = database.ConnectionString;
            var embedded = Migrator.Embedded().Select(m => $"applied {m.Version:D4}_{m.Name}").ToList();

            var (exit, output) = await GatewayProcess.RunAsync(directory, env, "migrate");
            Assert.That(exit, Is.Zero, output);
            Assert.That(output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => l.StartsWith("applied ", StringComparison.Ordinal)),
                Is.EqualTo(embedded), output);
            Assert.That(output, Does.Contain($"Applied {embedded.Count} migrations to the {database.Provider} database."));

            (exit, output) = await GatewayProcess.RunAsync(directory, env, "migrate");
            Assert.That(exit, Is.Zero, output);
            Assert.That(output, Does.Contain($"The {database.Provider} schema is up to date; nothing to apply.").And.Not.Contain("applied "));
        }
        finally
        {
            TempDirectory.Delete(directory);
        }
    }

    [Test]
    public async Task An_unknown_storage_provider_is_one_error_line_naming_the_key()
    {
        var directory = TempDirectory.Create();
        try
        {
            var env = GatewayProcess.Environment(directory);
            env["SupportGateway__Storage__Provider"] = "mysql";
            var (exit, output) = await GatewayProcess.RunAsync(directory, env, "migrate");
            Assert.That(exit, Is.EqualTo(2), output);
            Assert.That(output.Split('\n').Where(l => l.Contains("error", StringComparison.OrdinalIgnoreCase)).Select(l => l.Trim()),
                Is.EqualTo(new[] { "error: SupportGateway:Storage:Provider: 'mysql' is not supported (use 'sqlite' or 'postgresql')" }), output);
        }
        finally
        {
            TempDirectory.Delete(directory);
        }
    }
}
