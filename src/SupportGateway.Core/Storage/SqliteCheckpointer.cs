using System.Data.Common;
using Dapper;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace SupportGateway.Core.Storage;

/// <summary>
/// Copies the SQLite write-ahead log back into the database file in the background, and starts the log over when it is long.
/// </summary>
/// <remarks>
/// A PASSIVE checkpoint never blocks a writer, but under writes without a pause it never quite catches up with the last
/// commit, and SQLite starts the log over only once every frame in it is copied. Left alone, the log would grow until
/// SQLite's own auto-checkpoint ran inside the commit that crossed its threshold, copying the rest and syncing both
/// files while the single writer, and so every webhook waiting to store its payload, stood still: at 20,000 frames that
/// was 30–50 ms every 2.4 s at 1,000 deliveries a second (a delivery adds about 8 frames), and it held the webhooks'
/// p99 above 20 ms. So once the log is <see cref="RestartAt"/> frames long and a PASSIVE pass has nearly caught up (no
/// reader keeps an old snapshot), a second pass runs at once holding the writer: it copies only what the first left,
/// and the next commit starts the log over. SQLite's threshold, set higher still, is the safety net for when this
/// service does not run (the CLI).
/// </remarks>
public sealed class SqliteCheckpointer(Database database, StorageAvailability availability, TimeProvider time, ILogger<SqliteCheckpointer> logger)
    : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Log frames (pages of 4 KiB) after which the log is started over: 160 MB, one pause of the writer every 5 s at
    /// 1,000 webhook deliveries a second, none while writes leave gaps for the background passes to catch up.
    /// </summary>
    internal int RestartAt { get; init; } = 40_000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (database.Dialect is not SqliteDialect)
            return;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Interval, time, stoppingToken);
                var (log, copied) = await CheckpointAsync("PASSIVE", stoppingToken);
                if (log >= RestartAt && log - copied < RestartAt / 4)
                    await RestartLogAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (availability.Observe(ex))
            {
                // A full disk or a lock: the outage is logged once; the log is copied back when a write succeeds again.
                await availability.WaitAvailableAsync(stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Background WAL checkpoint failed; SQLite's own checkpoint still bounds the log");
                await Task.Delay(TimeSpan.FromSeconds(5), time, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (database.Dialect is not SqliteDialect)
            return;
        try
        {
            await CheckpointAsync("TRUNCATE", cancellationToken);
        }
        catch (Exception ex) when (ex is DbException or OperationCanceledException)
        {
            // A full disk or a reader still open: the log stays beside the database, complete, and SQLite copies it back
            // when the database is next opened. Nothing is lost, so stopping goes on.
            logger.LogWarning("The write-ahead log could not be copied back into the database at stop ({Error}); it is copied when the database is next opened", ex.Message);
        }
    }

    /// <summary>Copies every frame with no commit coming in between, so that the next commit starts the log over.</summary>
    private async Task RestartLogAsync(CancellationToken cancellationToken)
    {
        using var writer = await database.HoldWriterAsync(TimeSpan.FromMilliseconds(5), cancellationToken);
        await CheckpointAsync("PASSIVE", cancellationToken);
    }

    /// <summary>Runs a checkpoint on a connection of its own; returns the frames in the log and how many of them are copied.</summary>
    internal async Task<(long Log, long Copied)> CheckpointAsync(string mode, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        // One row: busy (0 or 1), the frames in the log, the frames copied into the database file.
        var (_, log, copied) = await connection.QuerySingleAsync<(long, long, long)>(new CommandDefinition($"PRAGMA wal_checkpoint({mode})", cancellationToken: cancellationToken));
        return (log, copied);
    }
}
