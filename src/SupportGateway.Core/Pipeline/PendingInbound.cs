using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SupportGateway.Core.Storage;

namespace SupportGateway.Core.Pipeline;

/// <summary>
/// Wakes the pending worker when a stored payload is committed: on this instance, and on the others of the same
/// database through <see cref="InstanceSignals"/> (the worker runs on one of them, see <see cref="PendingInboundWorker.Work"/>).
/// </summary>
public sealed class InboundSignal
{
    /// <summary>The <see cref="InstanceSignals"/> topic of "a payload was stored for processing".</summary>
    public const string Topic = "inbound";

    private readonly SemaphoreSlim _signal = new(0, 1);
    private readonly InstanceSignals _signals;

    public InboundSignal(InstanceSignals signals, StorageAvailability availability)
    {
        _signals = signals;
        signals.On(Topic, (_, _) => WakeHere());
        signals.OnResumed((_, _) => WakeHere());
        // The stored payloads left pending by an outage are processed as soon as it ends, not at the next poll.
        availability.OnRecovered(() => WakeHere());
    }

    public void Notify()
    {
        WakeHere();
        _signals.Send(Topic);
    }

    private Task WakeHere()
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
        return Task.CompletedTask;
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _signal.WaitAsync(timeout, cancellationToken);
}

public sealed class PendingInboundOptions
{
    public const string Section = "SupportGateway:Inbound";

    /// <summary>How often the worker looks for stored payloads when no signal wakes it (a commit here or on another instance).</summary>
    public TimeSpan PendingPollInterval { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// Processes payloads stored as pending (webhooks answered before processing), oldest first and in order, so a
/// conversation's messages keep their order; see <see cref="InboundProcessor.ProcessPendingAsync"/>. Pending rows
/// left by a crash are picked up at start.
/// </summary>
public sealed class PendingInboundWorker(Database database, InboundStore inbound, InboundProcessor processor, InboundSignal signal,
    ExclusiveWork exclusive, StorageAvailability availability, IOptions<PendingInboundOptions> options, ILogger<PendingInboundWorker> logger) : BackgroundService
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
                    await signal.WaitAsync(options.Value.PendingPollInterval, stoppingToken);
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
