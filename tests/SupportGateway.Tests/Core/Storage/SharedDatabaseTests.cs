using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SupportGateway.Core.Pipeline;
using SupportGateway.Core.Storage;
using SupportGateway.Core.Tickets;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Core.Storage;

/// <summary>Several gateway instances on one PostgreSQL database: numbering and migrations.</summary>
public sealed class SharedDatabaseTests
{
    [TestCase(StorageEngine.Sqlite, 1000)]
    [TestCase(StorageEngine.Postgres, 1000)]
    [TestCase(StorageEngine.Postgres, 50000)]
    public async Task A_fresh_database_numbers_from_NumberStart_one_by_one(StorageEngine engine, long start)
    {
        await using var core = await CoreHarness.StartAsync(engine, settings: new Dictionary<string, string?>
        {
            ["SupportGateway:Tickets:NumberStart"] = start.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        var processor = core.Get<InboundProcessor>();
        var first = await processor.IngestAsync(Messages.From("ext:1", "First"), CancellationToken.None);
        var second = await processor.IngestAsync(Messages.From("ext:2", "Second"), CancellationToken.None);

        var format = core.Get<TicketNumberFormat>();
        Assert.That(new[] { first.TicketNumber, second.TicketNumber }, Is.EqualTo(new[] { format.Render(start), format.Render(start + 1) }));
    }

    [Test]
    public async Task Two_instances_numbering_at_once_never_hand_out_the_same_number()
    {
        await using var database = await TestDatabase.CreateAsync(StorageEngine.Postgres);
        await using var first = await CoreHarness.StartOnAsync(database);
        await using var second = await CoreHarness.StartOnAsync(database);

        const int PerInstance = 40;
        var ingests = new[] { first, second }.SelectMany((core, instance) => Enumerable.Range(0, PerInstance).Select(i => Task.Run(() =>
            core.Get<InboundProcessor>().IngestAsync(Messages.From($"ext:{instance}-{i}", $"Request {instance}-{i}"), CancellationToken.None))));
        var results = await Task.WhenAll(ingests);

        Assert.That(results.Select(r => r.Outcome), Is.All.EqualTo(IngestOutcome.Created));
        var numbers = results.Select(r => r.TicketNumber!).ToList();
        Assert.That(numbers, Is.Unique);
        Assert.That(await first.CountAsync("tickets"), Is.EqualTo(2 * PerInstance));
        var format = first.Get<TicketNumberFormat>();
        Assert.That(numbers.Select(n => format.TryParse(n, out var sequence) ? sequence : -1), Is.All.GreaterThanOrEqualTo(format.Start), "the sequence starts at NumberStart");
    }

    [Test]
    public async Task Instances_migrating_an_empty_database_together_apply_each_migration_once()
    {
        await using var database = await TestDatabase.CreateAsync(StorageEngine.Postgres);
        var engines = Enumerable.Range(0, 4).Select(_ => new Database(new StorageOptions { Provider = "postgresql", ConnectionString = database.ConnectionString })).ToList();
        try
        {
            var migrators = engines.Select(engine => new Migrator(engine, Options.Create(new TicketOptions()), NullLogger<Migrator>.Instance));
            var applied = await Task.WhenAll(migrators.Select(m => Task.Run(() => m.MigrateAsync(CancellationToken.None))));

            var embedded = Migrator.Embedded().Select(m => $"{m.Version:D4}_{m.Name}").ToList();
            Assert.That(applied.SelectMany(a => a), Is.EquivalentTo(embedded), "every migration applied by exactly one instance");
            Assert.That(applied.Count(a => a.Count > 0), Is.EqualTo(1), "the first holder of the lock applies them all");
            await using var connection = await engines[0].OpenAsync(CancellationToken.None);
            Assert.That(await new SqlScope(connection).ScalarAsync<long>("SELECT COUNT(*) FROM schema_migrations", null, CancellationToken.None),
                Is.EqualTo(embedded.Count));
        }
        finally
        {
            foreach (var engine in engines)
                await engine.DisposeAsync();
        }
    }
}
