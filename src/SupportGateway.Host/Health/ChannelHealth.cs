using System.Collections.Concurrent;

namespace SupportGateway.Host.Health;

public enum ChannelState { Up, Off, Degraded, Down }

/// <summary>The current state of each channel, for <c>/healthz</c> and <c>check-config</c>.</summary>
public sealed class ChannelHealth
{
    private readonly ConcurrentDictionary<string, (ChannelState State, string Detail)> _channels = new(StringComparer.Ordinal);

    public void Report(string channel, ChannelState state, string detail) => _channels[channel] = (state, detail);

    public IReadOnlyList<(string Channel, ChannelState State, string Detail)> Snapshot() =>
        [.. _channels.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => (c.Key, c.Value.State, c.Value.Detail))];
}

/// <summary>A channel's state at start; the host logs it and puts it on <c>/healthz</c>.</summary>
public interface IChannelStatus
{
    string Channel { get; }

    (ChannelState State, string Detail) Initial();
}
