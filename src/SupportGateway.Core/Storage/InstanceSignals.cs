using System.Collections.Concurrent;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace SupportGateway.Core.Storage;

/// <summary>
/// Short signals between the gateway instances that share one database (<see cref="SqlDialect.CreateSignalChannel"/>):
/// "outbound messages were queued", "a webhook was stored", "this web chat message was delivered". Each names a
/// topic and a small detail; an instance hears the signals of the others, never its own. Signals are hints: whoever
/// hears one reads the database for what it means, and a signal lost while the listener reconnects is made up by the
/// <see cref="OnResumed"/> handlers. Where one process owns the database (SQLite) there is nobody to tell: sending
/// costs nothing and nothing listens.
/// </summary>
public sealed class InstanceSignals : BackgroundService
{
    /// <summary>The longest wait between two attempts to reconnect the listener.</summary>
    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);

    private readonly SignalChannel? _channel;
    private readonly TimeSpan _retryDelay;
    private readonly TimeProvider _time;
    private readonly ILogger<InstanceSignals> _logger;
    private readonly ConcurrentDictionary<string, List<Func<string, CancellationToken, Task>>> _handlers = new(StringComparer.Ordinal);
    private readonly List<Func<long, CancellationToken, Task>> _resumed = [];
    private readonly ConcurrentDictionary<string, byte> _queued = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _sendSignal = new(0, 1);
    private readonly Channel<string> _heard = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    private volatile SignalStatus _status = new(false, "not connected yet", null);

    public InstanceSignals(Database database, IOptions<StorageOptions> options, TimeProvider time, ILogger<InstanceSignals> logger)
    {
        _channel = database.Dialect.CreateSignalChannel(Instance);
        _retryDelay = options.Value.SignalRetryDelay;
        _time = time;
        _logger = logger;
    }

    /// <summary>This instance's mark on what it sends, so that it skips its own signals when they come back.</summary>
    public string Instance { get; } = Guid.NewGuid().ToString("N")[..12];

    /// <summary>False where one process owns the database: nothing is sent and nothing listens.</summary>
    public bool Shared => _channel is not null;

    /// <summary>The listener's state for <c>/healthz</c>; null where nothing listens.</summary>
    public SignalStatus? Status => _channel is null ? null : _status;

    /// <summary>Calls <paramref name="handler"/> with the detail of each signal on <paramref name="topic"/> another instance sends.</summary>
    public void On(string topic, Func<string, CancellationToken, Task> handler)
    {
        var list = _handlers.GetOrAdd(topic, static _ => []);
        lock (list)
            list.Add(handler);
    }

    /// <summary>
    /// Calls <paramref name="handler"/> each time the listener is connected again after it was not (and once at the
    /// first connection), with the last instant (Unix ms, this gateway's clock) it was known to be listening: signals
    /// sent since may not have been heard.
    /// </summary>
    public void OnResumed(Func<long, CancellationToken, Task> handler)
    {
        lock (_resumed)
            _resumed.Add(handler);
    }

    /// <summary>
    /// Sends a signal soon, in the background, coalesced with any identical one not sent yet: for wake-ups, which the
    /// others' polling makes up for should it be lost.
    /// </summary>
    public void Send(string topic, string detail = "")
    {
        if (_channel is null)
            return;
        _queued.TryAdd(Payload(topic, detail), 0);
        if (_sendSignal.CurrentCount == 0)
        {
            try
            {
                _sendSignal.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already woken.
            }
        }
    }

    /// <summary>Sends a signal now; throws when it could not be sent.</summary>
    public Task SendAsync(string topic, string detail, CancellationToken cancellationToken) =>
        _channel is null ? Task.CompletedTask : _channel.SendAsync([Payload(topic, detail)], cancellationToken);

    private string Payload(string topic, string detail)
    {
        var payload = $"{Instance} {topic} {detail}";
        return Encoding.UTF8.GetByteCount(payload) <= SignalChannel.MaxPayloadBytes
            ? payload
            : throw new ArgumentException($"A signal's detail must stay under {SignalChannel.MaxPayloadBytes} bytes; send a reference instead.", nameof(detail));
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => _channel is null
        ? Task.CompletedTask
        : Task.WhenAll(ListenAsync(_channel, stoppingToken), DispatchAsync(stoppingToken), SendQueuedAsync(_channel, stoppingToken));

    private async Task ListenAsync(SignalChannel channel, CancellationToken stoppingToken)
    {
        var lastListening = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            var resumed = false;
            TimeSpan delay;
            try
            {
                await channel.ListenAsync(payload => _heard.Writer.TryWrite(payload), () =>
                {
                    if (!resumed)
                    {
                        resumed = true;
                        failures = 0;
                        _status = new SignalStatus(true, "listening", _status.LastError);
                        _heard.Writer.TryWrite(ResumedMark + lastListening.ToString(System.Globalization.CultureInfo.InvariantCulture));
                        _logger.LogInformation("Listening for the signals of other instances");
                    }
                    lastListening = _time.GetUtcNow().ToUnixTimeMilliseconds();
                }, stoppingToken);
                return;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                delay = SignalChannel.Backoff(_retryDelay, MaxRetryDelay, failures++);
                var error = SignalChannel.Describe(ex);
                _status = new SignalStatus(false, $"reconnecting in {delay.TotalSeconds:0.#} s", error);
                _logger.LogWarning("The listener for other instances' signals broke ({Error}); reconnecting in {Delay}", error, delay);
            }
            try
            {
                await Task.Delay(delay, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>A mark of our own in the queue of heard signals: the listener is back, run the resume handlers in order with the rest.</summary>
    private const string ResumedMark = "\0resumed ";

    private async Task DispatchAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var payload in _heard.Reader.ReadAllAsync(stoppingToken))
            {
                foreach (var (handler, detail) in HandlersOf(payload))
                {
                    try
                    {
                        await handler(detail, stoppingToken);
                    }
                    catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                    {
                        _logger.LogError(ex, "Handling a signal from another instance failed");
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private List<(Func<string, CancellationToken, Task>, string)> HandlersOf(string payload)
    {
        if (payload.StartsWith(ResumedMark, StringComparison.Ordinal))
        {
            var since = long.Parse(payload.AsSpan(ResumedMark.Length), System.Globalization.CultureInfo.InvariantCulture);
            lock (_resumed)
                return [.. _resumed.Select(h => ((Func<string, CancellationToken, Task>)((_, ct) => h(since, ct)), ""))];
        }
        var parts = payload.Split(' ', 3);
        if (parts.Length < 2 || parts[0] == Instance || !_handlers.TryGetValue(parts[1], out var list))
            return [];
        var detail = parts.Length == 3 ? parts[2] : "";
        lock (list)
            return [.. list.Select(h => (h, detail))];
    }

    private async Task SendQueuedAsync(SignalChannel channel, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _sendSignal.WaitAsync(stoppingToken);
                var payloads = _queued.Keys.ToList();
                foreach (var payload in payloads)
                    _queued.TryRemove(payload, out _);
                if (payloads.Count > 0)
                    await channel.SendAsync(payloads, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The others' polling makes up for a lost wake-up; no retry storm while the database is away.
                _logger.LogWarning("Signals to other instances could not be sent ({Error})", SignalChannel.Describe(ex));
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    public override void Dispose()
    {
        _sendSignal.Dispose();
        base.Dispose();
    }
}

/// <summary>The signal listener's state: listening or not, what it is doing, and the last error it met (no secrets: server and network messages only).</summary>
public sealed record SignalStatus(bool Listening, string Detail, string? LastError);

/// <summary>How an engine passes signals between instances (PostgreSQL's LISTEN/NOTIFY); see <see cref="InstanceSignals"/>.</summary>
public abstract class SignalChannel
{
    /// <summary>NOTIFY's payload must be shorter than 8,000 bytes in the default configuration.</summary>
    public const int MaxPayloadBytes = 7999;

    /// <summary>
    /// Listens until cancelled or the connection breaks (then it throws): <paramref name="heard"/> gets each payload,
    /// <paramref name="listening"/> is called once listening has begun and again whenever the connection proves alive.
    /// </summary>
    public abstract Task ListenAsync(Action<string> heard, Action listening, CancellationToken cancellationToken);

    public abstract Task SendAsync(IReadOnlyList<string> payloads, CancellationToken cancellationToken);

    /// <summary>Doubling from <paramref name="first"/> up to <paramref name="max"/>, with up to a quarter of jitter.</summary>
    public static TimeSpan Backoff(TimeSpan first, TimeSpan max, int failures)
    {
        var delay = Math.Min(max.TotalMilliseconds, first.TotalMilliseconds * Math.Pow(2, Math.Min(failures, 16)));
        return TimeSpan.FromMilliseconds(delay * (1 + (Random.Shared.NextDouble() / 4)));
    }

    /// <summary>The error for logs and <c>/healthz</c>: the server's or the socket's message, never a connection string.</summary>
    public static string Describe(Exception ex) => ex switch
    {
        Npgsql.PostgresException pg => $"{pg.SqlState}: {pg.MessageText}",
        Npgsql.NpgsqlException { InnerException: System.Net.Sockets.SocketException socket } npgsql => $"{npgsql.Message} ({socket.Message})",
        Npgsql.NpgsqlException npgsql => npgsql.Message,
        TimeoutException => "timed out",
        _ => ex.GetType().Name,
    };
}
