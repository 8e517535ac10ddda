using Dapper;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace SupportGateway.Core.Storage;

/// <summary>
/// Copies the SQLite write-ahead log back into the database file in the background. SQLite's own
/// auto-checkpoint runs inside whichever commit crosses the threshold, which put a several-millisecond
/// stall on every fiftieth message; a PASSIVE checkpoint here never blocks the writer.
/// </summary>
public sealed class SqliteCheckpointer(Database database, StorageAvailability availability, TimeProvider time, ILogger<SqliteCheckpointer> logger)
    : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (database.Dialect is not SqliteDialect)
            return;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Interval, time, stoppingToken);
                await CheckpointAsync("PASSIVE", stoppingToken);
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
        if (database.Dialect is SqliteDialect)
            await CheckpointAsync("TRUNCATE", cancellationToken);
    }

    private async Task CheckpointAsync(string mode, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition($"PRAGMA wal_checkpoint({mode})", cancellationToken: cancellationToken));
    }
}
