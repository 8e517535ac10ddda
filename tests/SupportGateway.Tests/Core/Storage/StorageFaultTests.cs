using System.Net.Sockets;
using Microsoft.Data.Sqlite;
using Npgsql;
using SupportGateway.Core.Storage;

namespace SupportGateway.Tests.Core.Storage;

/// <summary>
/// Which errors the dialects read as the storage being unavailable (the environment) and which stay the caller's (the
/// statement): SQLite's result codes, PostgreSQL's SQLSTATEs, Npgsql's own connection failures. Reasons are fixed
/// phrases, never the exception's message, which may carry a host, a path or a password.
/// </summary>
public sealed class StorageFaultTests
{
    private const string Secret = "Password=hunter2-never-shown;Host=db.internal";

    private static readonly SqlDialect Sqlite = new SqliteDialect("Data Source=/tmp/sg-fault-test.db");
    private static readonly SqlDialect Postgres = new PostgresDialect("Host=127.0.0.1;Port=1;Username=sg;Database=sg");

    [TestCase(13, "disk full (SQLITE_FULL)")]
    [TestCase(10, "disk I/O error (SQLITE_IOERR)")]
    [TestCase(5, "database locked by another connection beyond the busy timeout (SQLITE_BUSY)")]
    [TestCase(6, "database table locked (SQLITE_LOCKED)")]
    [TestCase(14, "database file cannot be opened (SQLITE_CANTOPEN)")]
    [TestCase(8, "database is read-only (SQLITE_READONLY)")]
    public void Sqlite_environment_codes_are_unavailability(int code, string reason) =>
        Assert.That(Sqlite.Unavailable(new SqliteException(Secret, code)), Is.EqualTo(reason));

    [TestCase(19)] // SQLITE_CONSTRAINT
    [TestCase(1)] // SQLITE_ERROR: a syntax error, a missing table
    [TestCase(20)] // SQLITE_MISMATCH
    public void Sqlite_statement_errors_stay_the_callers(int code) => Assert.That(Sqlite.Unavailable(new SqliteException(Secret, code)), Is.Null);

    [TestCase("53100", "disk full (SQLSTATE 53100)")]
    [TestCase("53300", "too many connections (SQLSTATE 53300)")]
    [TestCase("53200", "server out of memory (SQLSTATE 53200)")]
    [TestCase("53000", "insufficient resources (SQLSTATE 53000)")]
    [TestCase("58030", "disk I/O error (SQLSTATE 58030)")]
    [TestCase("57P01", "server shutting down or starting (SQLSTATE 57P01)")]
    [TestCase("57P03", "server shutting down or starting (SQLSTATE 57P03)")]
    [TestCase("08006", "connection failed (SQLSTATE 08006)")]
    [TestCase("25006", "server is read-only (SQLSTATE 25006)")]
    public void Postgres_environment_sqlstates_are_unavailability(string sqlState, string reason) =>
        Assert.That(Postgres.Unavailable(new PostgresException(Secret, "FATAL", "FATAL", sqlState)), Is.EqualTo(reason));

    [TestCase("23505")] // unique_violation
    [TestCase("42P01")] // undefined_table
    [TestCase("40001")] // serialization_failure: the caller retries its own transaction
    [TestCase("22P02")] // invalid_text_representation
    public void Postgres_statement_errors_stay_the_callers(string sqlState) =>
        Assert.That(Postgres.Unavailable(new PostgresException(Secret, "ERROR", "ERROR", sqlState)), Is.Null);

    [Test]
    public void A_refused_connection_is_the_server_out_of_reach() =>
        Assert.That(Postgres.Unavailable(new NpgsqlException(Secret, new SocketException((int)SocketError.ConnectionRefused))),
            Is.EqualTo("server unreachable (connection refused)"));

    [Test]
    public void A_broken_connection_is_the_server_out_of_reach() =>
        Assert.That(Postgres.Unavailable(new NpgsqlException(Secret, new EndOfStreamException())), Is.EqualTo("server unreachable"));

    [Test]
    public void A_full_disk_found_by_the_gateway_itself_is_unavailability() =>
        Assert.That(Sqlite.Unavailable(new IOException(Secret, 28)), Is.EqualTo("disk full"));

    [Test]
    public void A_wrapped_error_is_read_through_its_wrappers()
    {
        var wrapped = new AggregateException(new InvalidOperationException("the batch failed", new SqliteException(Secret, 13)));
        Assert.That(Sqlite.Unavailable(wrapped), Is.EqualTo("disk full (SQLITE_FULL)"));
        Assert.That(Sqlite.Unavailable(new InvalidOperationException(Secret)), Is.Null);
    }

    [Test]
    public void No_reason_carries_the_exceptions_message()
    {
        string?[] reasons =
        [
            .. new[] { 5, 6, 8, 10, 13, 14 }.Select(code => Sqlite.Unavailable(new SqliteException(Secret, code))),
            .. new[] { "53100", "53300", "08006", "57P01" }.Select(state => Postgres.Unavailable(new PostgresException(Secret, "FATAL", "FATAL", state))),
            Postgres.Unavailable(new NpgsqlException(Secret, new SocketException((int)SocketError.ConnectionRefused))),
        ];
        Assert.That(reasons, Has.All.Not.Null.And.All.Not.Contain("hunter2").And.All.Not.Contain("db.internal"));
    }
}
