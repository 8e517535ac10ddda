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
        // The detail names the channel queued for; a signal without one (an instance of an older version) wakes every loop.
        signals.On(Topic, (channel, _) =>
        {
            if (channel.Length == 0)
                WakeHere();
            else
                Wake(channel);
            return Task.CompletedTask;
        });
        // Rows queued while the listener was away were not heard of.
        signals.OnResumed((_, _) => WakeHere());
        // After an outage every loop claims at once what became due or was handed back meanwhile.
        availability.OnRecovered(() => WakeHere());
    }

    /// <summary>Wakes the senders of every channel, here and on the other instances: something of unknown channels became due.</summary>
    public void NotifyAll()
    {
        WakeHere();
        _signals.Send(Topic);
    }

    /// <summary>
    /// Wakes the senders of <paramref name="channel"/>, here and on the other instances: a message was queued for it
    /// (<see cref="OutboxStore.EnqueueAsync"/>, once its transaction commits). The others sleep on: a loop woken for
    /// nothing is a claim query for nothing, one per channel and instance on every commit.
    /// </summary>
    public void Notify(string channel)
    {
        Wake(channel);
        _signals.Send(Topic, channel);
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
