using System.Collections.Concurrent;
using System.Threading.Channels;
using SupportGateway.Core.Storage;

namespace SupportGateway.Core.Outbox;

/// <summary>
/// Wakes the per-channel senders right after a commit, so delivery does not wait for the next poll: this instance's at
/// once, and the other instances' on the same database through <see cref="InstanceSignals"/> (any of them may claim the rows).
/// </summary>
public sealed class OutboxSignal
{
    /// <summary>The <see cref="InstanceSignals"/> topic of "outbound messages were queued".</summary>
    public const string Topic = "outbox";

    private readonly ConcurrentDictionary<string, Channel<bool>> _channels = new(StringComparer.Ordinal);
    private readonly InstanceSignals _signals;

    public OutboxSignal(InstanceSignals signals, StorageAvailability availability)
    {
        _signals = signals;
        signals.On(Topic, (_, _) => WakeHere());
        // Rows queued while the listener was away were not heard of.
        signals.OnResumed((_, _) => WakeHere());
        // After an outage every loop claims at once what became due or was handed back meanwhile.
        availability.OnRecovered(() => WakeHere());
    }

    public void NotifyAll()
    {
        WakeHere();
        _signals.Send(Topic);
    }

    /// <summary>Wakes this instance's loop for <paramref name="channel"/> only: it has rows due again (handed back after an outage).</summary>
    internal void Wake(string channel) => SignalOf(channel).Writer.TryWrite(true);

    private Channel<bool> SignalOf(string channel) => _channels.GetOrAdd(channel, static _ => Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite }));

    private Task WakeHere()
    {
        foreach (var channel in _channels.Values)
            channel.Writer.TryWrite(true);
        return Task.CompletedTask;
    }

    /// <summary>Completes when notified or when <paramref name="timeout"/> passes.</summary>
    public async Task WaitAsync(string channel, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var signal = SignalOf(channel);
        if (signal.Reader.TryRead(out _))
            return;
        using var timeoutSource = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutSource.Token);
        try
        {
            await signal.Reader.ReadAsync(linked.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }
    }
}
