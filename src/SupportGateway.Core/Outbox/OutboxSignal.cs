using System.Collections.Concurrent;
using System.Threading.Channels;

namespace SupportGateway.Core.Outbox;

/// <summary>Wakes the per-channel senders right after a commit, so delivery does not wait for the next poll.</summary>
public sealed class OutboxSignal
{
    private readonly ConcurrentDictionary<string, Channel<bool>> _channels = new(StringComparer.Ordinal);

    public void NotifyAll()
    {
        foreach (var channel in _channels.Values)
            channel.Writer.TryWrite(true);
    }

    /// <summary>Completes when notified or when <paramref name="timeout"/> passes.</summary>
    public async Task WaitAsync(string channel, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var signal = _channels.GetOrAdd(channel, static _ => Channel.CreateBounded<bool>(
            new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite }));
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
