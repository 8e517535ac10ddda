using Microsoft.Extensions.Logging;

namespace SupportGateway.Core.Storage;

/// <summary>An outage of the storage: why (<see cref="SqlDialect.Unavailable"/>), since when, and when the probe writes next.</summary>
public sealed record StorageOutage(string Reason, DateTimeOffset Since, DateTimeOffset NextProbe);

/// <summary>
/// Whether the storage takes writes. An error about the environment (a full disk, a lock held too long, the server
/// gone), seen anywhere, makes it unavailable: ingress refuses new input at once instead of failing each request
/// after the busy timeout, and <see cref="StorageProbe"/> tries a write with backoff until one succeeds. Nothing
/// is lost meanwhile: what was refused was never accepted, and what was accepted is committed.
/// </summary>
public sealed class StorageAvailability(Database database, TimeProvider time, ILogger<StorageAvailability> logger)
{
    private readonly Lock _lock = new();
    private StorageOutage? _outage;
    private TaskCompletionSource _recovered = NewSignal();
    private TaskCompletionSource _failed = NewSignal();
    private readonly List<Action> _onRecovered = [];

    public StorageOutage? Outage => Volatile.Read(ref _outage);

    public bool IsAvailable => Outage is null;

    /// <summary>
    /// Records <paramref name="exception"/> when it says the storage is unavailable (true), and starts the outage if
    /// none is under way; false for any other error, which is the caller's to handle.
    /// </summary>
    public bool Observe(Exception exception)
    {
        if (exception is StorageUnavailableException)
            return true;
        if (database.Dialect.Unavailable(exception) is not { } reason)
            return false;
        Fail(reason);
        return true;
    }

    /// <summary>Starts an outage, or updates its reason while one goes on (the probe's latest failure).</summary>
    public void Fail(string reason)
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            if (_outage is { } current)
            {
                Volatile.Write(ref _outage, current with { Reason = reason });
                return;
            }
            Volatile.Write(ref _outage, new StorageOutage(reason, now, now));
            _recovered = NewSignal();
            _failed.TrySetResult();
        }
        database.Dialect.ForgetConnections();
        logger.LogError("Storage unavailable: {Reason}; new input is refused with 503 until a write succeeds again", reason);
    }

    /// <summary>The probe's next attempt, for Retry-After and <c>/healthz</c>.</summary>
    internal void Scheduled(DateTimeOffset next)
    {
        lock (_lock)
        {
            if (_outage is { } current)
                Volatile.Write(ref _outage, current with { NextProbe = next });
        }
    }

    /// <summary>A write succeeded: the outage is over.</summary>
    internal void Recovered()
    {
        StorageOutage? ended;
        lock (_lock)
        {
            ended = _outage;
            if (ended is null)
                return;
            Volatile.Write(ref _outage, null);
            _failed = NewSignal();
            _recovered.TrySetResult();
        }
        database.Dialect.ForgetConnections();
        logger.LogWarning("Storage available again after {Duration:g} ({Reason}); new input is accepted", time.GetUtcNow() - ended.Since, ended.Reason);
        Action[] handlers;
        lock (_lock)
            handlers = [.. _onRecovered];
        foreach (var handler in handlers)
            handler();
    }

    /// <summary>
    /// Calls <paramref name="handler"/> each time an outage ends: a worker that sleeps until its signal or its next
    /// poll (the outbox loops, the pending worker) is woken to read its queue again at once.
    /// </summary>
    public void OnRecovered(Action handler)
    {
        lock (_lock)
            _onRecovered.Add(handler);
    }

    /// <summary>Throws <see cref="StorageUnavailableException"/> while an outage goes on: ingress refuses before it reads or writes anything.</summary>
    public void ThrowIfUnavailable()
    {
        if (Outage is { } outage)
            throw new StorageUnavailableException(outage.Reason, RetryAfter(outage));
    }

    /// <summary>Whole seconds until the probe's next write, at least one: what a refused client is told to wait.</summary>
    public TimeSpan RetryAfter(StorageOutage outage) =>
        TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling((outage.NextProbe - time.GetUtcNow()).TotalSeconds)));

    /// <summary>Completes at once while the storage is available, otherwise when the outage ends.</summary>
    public Task WaitAvailableAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
            return _outage is null ? Task.CompletedTask : _recovered.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Completes when an outage starts (at once while one goes on).</summary>
    internal Task WaitFailedAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
            return _failed.Task.WaitAsync(cancellationToken);
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>
/// New input refused because the storage cannot take writes now; answered 503 with Retry-After. Nothing was accepted,
/// unless <see cref="OutcomeUnknown"/>: the connection broke during the commit and the server could not be asked since.
/// </summary>
public sealed class StorageUnavailableException(string reason, TimeSpan retryAfter, bool outcomeUnknown = false)
    : Exception(outcomeUnknown
        ? $"The storage went away during the commit ({reason}); whether the request was kept is unknown. Send it again with the same key."
        : $"The storage is unavailable ({reason}); nothing was accepted. Try again later.")
{
    public string Reason { get; } = reason;

    public TimeSpan RetryAfter { get; } = retryAfter;

    public bool OutcomeUnknown { get; } = outcomeUnknown;
}
