using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace SupportGateway.Core.Storage;

/// <summary>
/// A session-level advisory lock (<c>pg_try_advisory_lock</c>) on a connection of its own, outside the pool: the lock
/// lives exactly as long as that connection, so an instance that dies (or whose network goes) frees it at once, and a
/// pooled connection can never carry it off to an unrelated caller. The connection is checked every
/// <see cref="CheckInterval"/>; when a check fails the lock is reported lost.
/// </summary>
internal sealed class PostgresWorkLock : WorkLock
{
    /// <summary>How often the holder checks that its lock connection is alive.</summary>
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(2);

    /// <summary>The prefix of the lock connection's <c>application_name</c>, followed by the work's name.</summary>
    public const string ApplicationPrefix = "sg-work ";

    private readonly NpgsqlConnection _connection;
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _watch;

    private PostgresWorkLock(NpgsqlConnection connection)
    {
        _connection = connection;
        _watch = WatchAsync();
    }

    public override CancellationToken Lost => _lost.Token;

    /// <summary>A stable 64-bit key from the work's name: the same on every instance and every version.</summary>
    public static long KeyOf(string name) =>
        BinaryPrimitives.ReadInt64BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes("supportgateway:" + name)));

    public static string ApplicationName(string name)
    {
        var full = ApplicationPrefix + name;
        return full.Length > 60 ? full[..60] : full;
    }

    public static async Task<WorkLock?> TryAcquireAsync(string connectionString, string name, CancellationToken cancellationToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString)
        {
            Pooling = false,
            TcpKeepAlive = true,
            CommandTimeout = 5,
            // PostgreSQL keeps the first 63 bytes (NAMEDATALEN); pg_stat_activity shows which lock a connection holds.
            ApplicationName = ApplicationName(name),
        };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(@key)", connection);
            command.Parameters.AddWithValue("key", KeyOf(name));
            if (await command.ExecuteScalarAsync(cancellationToken) is true)
                return new PostgresWorkLock(connection);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
        await connection.DisposeAsync();
        return null;
    }

    private async Task WatchAsync()
    {
        try
        {
            while (true)
            {
                await Task.Delay(CheckInterval, _stop.Token);
                await using var command = new NpgsqlCommand("SELECT 1", _connection);
                await command.ExecuteScalarAsync(_stop.Token);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Released by its holder.
        }
        catch (Exception)
        {
            // The connection is gone, and the lock with it: another instance may hold it already.
            await _lost.CancelAsync();
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _watch;
        // Closing the session releases its advisory locks (the connection is not pooled).
        await _connection.DisposeAsync();
        _stop.Dispose();
        _lost.Dispose();
    }
}
