using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace SupportGateway.Core.Storage;

/// <summary>
/// While the storage is unavailable, tries a small write transaction with exponential backoff
/// (<see cref="StorageOptions.ProbeFirstDelay"/> doubling up to <see cref="StorageOptions.ProbeMaxDelay"/>); the first
/// that commits, with room left on a file-based engine's disk, ends the outage. No restart is needed.
/// </summary>
public sealed class StorageProbe(Database database, StorageAvailability availability, IOptions<StorageOptions> options, TimeProvider time,
    ILogger<StorageProbe> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await availability.WaitFailedAsync(stoppingToken);
                await ProbeUntilAvailableAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task ProbeUntilAvailableAsync(CancellationToken stoppingToken)
    {
        var delay = options.Value.ProbeFirstDelay;
        while (!availability.IsAvailable)
        {
            availability.Scheduled(time.GetUtcNow() + delay);
            await Task.Delay(delay, time, stoppingToken);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, options.Value.ProbeMaxDelay.Ticks));
            try
            {
                if (database.Dialect.LacksRoom() is { } reason)
                {
                    availability.Fail(reason);
                    continue;
                }
                await using (var session = await database.BeginAsync(stoppingToken))
                {
                    await new SqlScope(session.Connection, session.Transaction).ExecuteAsync(SqlDialect.ProbeSql, null, stoppingToken);
                    await session.CommitAsync(stoppingToken);
                }
                availability.Recovered();
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Not about the environment (the schema is broken, say): still no write succeeds, so the outage goes on.
                if (!availability.Observe(ex))
                    logger.LogWarning("The storage probe failed: {Error}; trying again in {Delay}", ex.GetType().Name, delay);
            }
        }
    }
}
