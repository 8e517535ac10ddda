using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SupportGateway.Core.Storage;

namespace SupportGateway.Core.Pipeline;

/// <summary>
/// Settles an ingestion commit whose answer was lost with the connection (<see cref="SqlDialect.CommitMayHaveHappened"/>):
/// the server committed it or not, and only the server can say. A payload's inbound row is written in the transaction
/// with an id the server never hands out twice, so the row being there is the commit having happened.
/// </summary>
public sealed class CommitCheck(Database database, InboundStore inbound, IOptions<StorageOptions> options, ILogger<CommitCheck> logger)
{
    /// <summary>
    /// Whether the transaction that wrote inbound row <paramref name="inboundId"/> committed: asked of the server until it
    /// answers or <see cref="StorageOptions.CommitCheckTimeout"/> passes (null: still unknown).
    /// </summary>
    public async Task<bool?> CommittedAsync(long inboundId)
    {
        var timeout = options.Value.CommitCheckTimeout;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var delay = TimeSpan.FromMilliseconds(100);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await database.OpenAsync(CancellationToken.None);
                var committed = await inbound.GetAsync(new SqlScope(connection), inboundId, CancellationToken.None) is not null;
                logger.LogWarning("The commit of inbound {InboundId} lost its answer; the server says it was {Outcome} (asked {Attempts} times)",
                    inboundId, committed ? "committed" : "rolled back", attempt);
                return committed;
            }
            catch (Exception ex)
            {
                // Whatever the failure, the batch's callers wait for this answer: unknown is the answer it cannot give.
                if (database.Dialect.Unavailable(ex) is null)
                {
                    logger.LogError(ex, "The commit of inbound {InboundId} lost its answer, and asking the server failed; its requests are answered 503 with the outcome unknown", inboundId);
                    return null;
                }
                var left = timeout - System.Diagnostics.Stopwatch.GetElapsedTime(started);
                if (left <= TimeSpan.Zero)
                {
                    logger.LogError("The commit of inbound {InboundId} lost its answer and the server could not be asked for {Timeout:g}; "
                        + "its requests are answered 503 with the outcome unknown (a retry with the same key finds its ticket if it was kept)",
                        inboundId, timeout);
                    return null;
                }
                await Task.Delay(delay < left ? delay : left);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(1).Ticks));
            }
        }
    }
}
