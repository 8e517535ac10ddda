using System.Collections.Concurrent;
using System.Threading.Channels;

namespace SupportGateway.Host.Channels.WebChat;

/// <summary>
/// Live push to open widgets, keyed by visitor identity. In-process: with several gateway
/// instances a visitor still sees every message on reload, but live push reaches only the
/// instance holding the stream.
/// </summary>
public sealed class WebChatHub
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<Guid, Channel<string>>> _visitors = new(StringComparer.Ordinal);

    public Subscription Subscribe(string visitor)
    {
        var id = Guid.NewGuid();
        var channel = Channel.CreateBounded<string>(new BoundedChannelOptions(256) { FullMode = BoundedChannelFullMode.DropOldest });
        _visitors.GetOrAdd(visitor, _ => new())[id] = channel;
        return new Subscription(channel.Reader, () =>
        {
            if (_visitors.TryGetValue(visitor, out var streams))
                streams.TryRemove(id, out _);
        });
    }

    /// <summary>Sends a JSON event to every open stream of the visitor; returns how many got it.</summary>
    public int Publish(string visitor, string json)
    {
        if (!_visitors.TryGetValue(visitor, out var streams))
            return 0;
        var count = 0;
        foreach (var stream in streams.Values)
            count += stream.Writer.TryWrite(json) ? 1 : 0;
        return count;
    }

    public sealed class Subscription(ChannelReader<string> reader, Action dispose) : IDisposable
    {
        public ChannelReader<string> Reader { get; } = reader;

        public void Dispose() => dispose();
    }
}
