using Npgsql;
using SupportGateway.Core.Storage;

namespace SupportGateway.Tests.Core.Storage;

/// <summary>What the PostgreSQL dialect adds to a configured connection string, and what it leaves as configured.</summary>
public sealed class PostgresSettingsTests
{
    [Test]
    public void A_string_that_names_neither_gets_prepared_statements_and_no_reset_on_close()
    {
        var completed = new NpgsqlConnectionStringBuilder(PostgresDialect.Completed("Host=db.example.ru;Database=sg;Username=sg"));
        Assert.That(completed.MaxAutoPrepare, Is.EqualTo(128));
        Assert.That(completed.AutoPrepareMinUsages, Is.EqualTo(2));
        Assert.That(completed.NoResetOnClose, Is.True);
        Assert.That(completed.Host, Is.EqualTo("db.example.ru"));
    }

    [TestCase("Host=db;Max Auto Prepare=0;No Reset On Close=false")]
    [TestCase("Host=db;maxautoprepare=0;NORESETONCLOSE=false")]
    [TestCase("Host=db;MaxAutoPrepare=0;NoResetOnClose=False")]
    public void What_the_string_sets_is_kept_in_any_spelling_npgsql_takes(string configured)
    {
        var completed = new NpgsqlConnectionStringBuilder(PostgresDialect.Completed(configured));
        Assert.That(completed.MaxAutoPrepare, Is.Zero);
        Assert.That(completed.NoResetOnClose, Is.False);
    }
}
