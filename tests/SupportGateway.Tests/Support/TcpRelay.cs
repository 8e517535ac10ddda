using System.Net;
using System.Net.Sockets;

namespace SupportGateway.Tests.Support;

/// <summary>
/// A loopback port that relays to a real server, so a test can break every connection through it (as a network or a
/// server restart does) without touching the server others use.
/// </summary>
internal sealed class TcpRelay : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly List<TcpClient> _open = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _accepted;

    /// <param name="listenPort">The loopback port to listen on: a free one by default, or the port of a relay disposed
    /// before, so that a server behind it comes back where clients look for it (a closed port meanwhile).</param>
    public TcpRelay(string host, int port, int listenPort = 0)
    {
        _listener = new TcpListener(IPAddress.Loopback, listenPort);
        _listener.Start();
        _accepting = AcceptAsync(host, port);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Connections accepted so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Closes every connection open now; new ones are relayed again.</summary>
    public void Cut()
    {
        lock (_open)
        {
            foreach (var client in _open)
                client.Dispose();
            _open.Clear();
        }
    }

    private byte[]? _marker;
    private readonly TaskCompletionSource _lostCommit = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Arms the relay to lose the answer to a PostgreSQL commit: on the connection that sends <paramref name="marker"/>
    /// (a text in one of the transaction's statements), the next <c>COMMIT</c> reaches the server, the client's side is
    /// cut at once so that no answer reaches it, and the server's side half a second later (the server has committed
    /// by then). The relay then goes dark as <see cref="DisposeAsync"/> leaves it; <see cref="LostCommit"/> completes.
    /// </summary>
    public void LoseTheCommitAnswerAfter(string marker) => _marker = System.Text.Encoding.UTF8.GetBytes(marker);

    /// <summary>Completes once an armed relay has forwarded the commit and cut its answer.</summary>
    public Task LostCommit => _lostCommit.Task;

    private async Task AcceptAsync(string host, int port)
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient inbound;
            try
            {
                inbound = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            var outbound = new TcpClient();
            await outbound.ConnectAsync(host, port);
            lock (_open)
                _open.AddRange([inbound, outbound]);
            Interlocked.Increment(ref _accepted);
            _ = PumpWatchingAsync(inbound, outbound);
            _ = PumpAsync(outbound, inbound);
        }
    }

    private static async Task PumpAsync(TcpClient from, TcpClient to)
    {
        try
        {
            await from.GetStream().CopyToAsync(to.GetStream());
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // Cut, or closed by either side.
        }
        from.Dispose();
        to.Dispose();
    }

    /// <summary>The client's side: relayed as it comes, until a connection marked by an armed relay commits.</summary>
    private async Task PumpWatchingAsync(TcpClient client, TcpClient server)
    {
        var commit = "COMMIT\0"u8.ToArray(); // the statement as sent, not the "READ COMMITTED" of a BEGIN
        var buffer = new byte[64 << 10];
        var marked = false;
        try
        {
            var (from, to) = (client.GetStream(), server.GetStream());
            for (int read; (read = await from.ReadAsync(buffer)) > 0;)
            {
                var chunk = buffer.AsSpan(0, read);
                marked |= Volatile.Read(ref _marker) is { } marker && chunk.IndexOf(marker) >= 0;
                if (marked && chunk.IndexOf(commit) >= 0 && !_lostCommit.Task.IsCompleted)
                {
                    // Dark before the server can answer: the client never hears how the commit went, nor can it ask.
                    await _stop.CancelAsync();
                    _listener.Stop();
                    lock (_open)
                    {
                        foreach (var other in _open.Where(c => c != server))
                            other.Dispose();
                        _open.RemoveAll(c => c != server);
                    }
                    await to.WriteAsync(buffer.AsMemory(0, read));
                    await Task.Delay(500);
                    Cut();
                    _lostCommit.TrySetResult();
                    return;
                }
                await to.WriteAsync(buffer.AsMemory(0, read));
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException or SocketException)
        {
            // Cut, or closed by either side.
        }
        client.Dispose();
        server.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        Cut();
        await _accepting;
    }
}
