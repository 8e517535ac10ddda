using Npgsql;

namespace SupportGateway.Core.Storage;

/// <summary>
/// Signals between instances by LISTEN/NOTIFY on one channel. The listener has a connection of its own, outside the
/// pool, as <see cref="PostgresWorkLock"/>'s locks do: a LISTEN belongs to its session, and a pooled connection would
/// carry it off to other callers. Notifications are sent from pooled connections, after the sender's commit.
/// </summary>
internal sealed class PostgresSignalChannel(string connectionString, NpgsqlDataSource dataSource, string instance) : SignalChannel
{
    /// <summary>The NOTIFY channel every instance of one database listens on.</summary>
    public const string Name = "sg_signals";

    /// <summary>The prefix of the listener connection's <c>application_name</c>, followed by the instance's mark, for pg_stat_activity.</summary>
    public const string ApplicationPrefix = "sg-signals ";

    /// <summary>How long the listener waits for a notification before it checks that its connection is alive.</summary>
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(5);

    public override async Task ListenAsync(Action<string> heard, Action listening, CancellationToken cancellationToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString)
        {
            Pooling = false,
            TcpKeepAlive = true,
            CommandTimeout = 5,
            ApplicationName = ApplicationPrefix + instance,
        };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        connection.Notification += (_, e) => heard(e.Payload);
        await connection.OpenAsync(cancellationToken);
        await using (var command = new NpgsqlCommand($"LISTEN {Name}", connection))
            await command.ExecuteNonQueryAsync(cancellationToken);
        listening();
        while (true)
        {
            if (!await connection.WaitAsync(CheckInterval, cancellationToken))
            {
                // Quiet for a while: a query proves the session (and its LISTEN) is still there.
                await using var command = new NpgsqlCommand("SELECT 1", connection);
                await command.ExecuteScalarAsync(cancellationToken);
            }
            listening();
        }
    }

    public override async Task SendAsync(IReadOnlyList<string> payloads, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"SELECT pg_notify('{Name}', p) FROM unnest(@payloads) AS p", connection);
        command.Parameters.AddWithValue("payloads", payloads.ToArray());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
