using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SupportGateway.Core.Storage;

namespace SupportGateway.Core.Pipeline;

/// <summary>Wakes the pending worker when a stored payload is committed.</summary>
public sealed class InboundSignal
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Notify()
    {
        if (_signal.CurrentCount == 0)
        {
            try
            {
                _signal.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already signalled.
            }
        }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _signal.WaitAsync(timeout, cancellationToken);
}

/// <summary>
/// Processes payloads stored as pending (webhooks answered before processing), oldest first and in order, so a
/// conversation's messages keep their order; see <see cref="InboundProcessor.ProcessPendingAsync"/>. Pending rows
/// left by a crash are picked up at start.
/// </summary>
public sealed class PendingInboundWorker(Database database, InboundStore inbound, InboundProcessor processor, InboundSignal signal,
    ExclusiveWork exclusive, StorageAvailability availability, ILogger<PendingInboundWorker> logger) : BackgroundService
{
    private const int Round = 100;

    /// <summary>One worker across instances: the payloads of a conversation are processed in the order they came.</summary>
    public const string Work = "inbound:pending";

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => exclusive.RunAsync(Work, ProcessAsync, stoppingToken);

    private async Task ProcessAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                IReadOnlyList<(long Id, RawInbound Raw)> pending;
                await using (var connection = await database.OpenAsync(stoppingToken))
                    pending = await inbound.PendingAsync(new SqlScope(connection), Round, stoppingToken);
                await processor.ProcessPendingAsync(pending, stoppingToken);
                if (pending.Count < Round)
                    await signal.WaitAsync(TimeSpan.FromSeconds(5), stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (availability.Observe(ex))
            {
                // The payloads stay pending: processed once a write succeeds again.
                await availability.WaitAvailableAsync(stoppingToken);
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Processing pending inbound payloads failed; retrying");
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
    }
}
