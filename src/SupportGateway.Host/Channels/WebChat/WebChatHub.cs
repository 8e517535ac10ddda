using System.Collections.Concurrent;
using System.Threading.Channels;

namespace SupportGateway.Host.Channels.WebChat;

/// <summary>
/// Live push to the widgets open on this instance, keyed by visitor identity. With several instances on one
/// database, <see cref="WebChatRelay"/> brings here what the others deliver.
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

    public bool HasStreams(string visitor) => _visitors.TryGetValue(visitor, out var streams) && !streams.IsEmpty;

    /// <summary>The visitors with a stream open here now.</summary>
    public HashSet<string> Visitors() => [.. _visitors.Where(v => !v.Value.IsEmpty).Select(v => v.Key)];

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
