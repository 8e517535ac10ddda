using System.Threading.RateLimiting;

namespace SupportGateway.Host.Limits;

/// <summary>
/// At most <see cref="Rate.Permits"/> in any span of <see cref="Rate.Window"/>, estimated the usual way from two fixed
/// windows: the previous window's count weighted by the share of it the sliding window still covers, plus the current
/// one's. Three numbers and a lock per key and no timer; the clock is the <see cref="TimeProvider"/>, so a test passes an
/// hour at once (the runtime's own window limiters read the system clock only). A refusal consumes nothing.
/// </summary>
internal sealed class SlidingWindowLimiter : RateLimiter
{
    private static readonly RateLimitLease Granted = new Lease(null, null);
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly int _permits;
    private readonly long _window;
    private readonly string _refusal;
    private long _start;
    private int _previous;
    private int _current;

    /// <param name="refusal">The problem detail when the limit refuses a request.</param>
    public SlidingWindowLimiter(Rate rate, TimeProvider time, string refusal)
    {
        _time = time;
        _permits = rate.Permits;
        _window = rate.Window.Ticks;
        _refusal = refusal;
        _start = Now;
    }

    private long Now => _time.GetUtcNow().UtcTicks;

    /// <summary>
    /// Idle once nothing counted overlaps the sliding window, so that forgetting the key forgets nothing; a key that never
    /// counted (only asked, or only refused: random tokens from a flood) is idle from its start and soon dropped.
    /// </summary>
    public override TimeSpan? IdleDuration
    {
        get
        {
            lock (_lock)
            {
                var now = Now;
                Roll(now);
                var idle = _previous == 0 && _current == 0 ? now - _start : now - (_start + 2 * _window);
                return idle > 0 ? TimeSpan.FromTicks(idle) : null;
            }
        }
    }

    public override RateLimiterStatistics? GetStatistics()
    {
        lock (_lock)
            return new RateLimiterStatistics { CurrentAvailablePermits = Available(Now) };
    }

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        lock (_lock)
        {
            var now = Now;
            Roll(now);
            // Asking for none asks whether one would fit (the RateLimiter contract).
            if (Fits(now, Math.Max(permitCount, 1)))
            {
                _current += permitCount;
                return Granted;
            }
            return new Lease(RetryAfter(now, Math.Max(permitCount, 1)), _refusal);
        }
    }

    // Nothing waits in a queue: a request over the limit is answered at once.
    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
        ValueTask.FromResult(AttemptAcquireCore(permitCount));

    private int Available(long now)
    {
        Roll(now);
        var room = (Int128)_permits * _window - Weighted(now);
        return room <= 0 ? 0 : (int)(room / _window);
    }

    private void Roll(long now)
    {
        var elapsed = now - _start;
        if (elapsed < _window)
            return; // also when the wall clock stepped back: the current window goes on
        var windows = elapsed / _window;
        _previous = windows == 1 ? _current : 0;
        _current = 0;
        _start += windows * _window;
    }

    // The sliding count times the window length, in whole numbers: the previous window weighted by its overlap, plus the current.
    private Int128 Weighted(long now) => (Int128)_previous * (_start + _window - now) + (Int128)_current * _window;

    private bool Fits(long now, int count) => Weighted(now) + (Int128)count * _window <= (Int128)_permits * _window;

    /// <summary>When <paramref name="count"/> more fit: within this window as the previous one's weight fades, else in the next.</summary>
    private TimeSpan RetryAfter(long now, int count)
    {
        long at;
        if (_current + count <= _permits)
            at = _start + _window - (long)((Int128)(_permits - _current - count) * _window / _previous);
        else if (count <= _permits)
            at = _start + 2 * _window - (long)((Int128)(_permits - count) * _window / _current);
        else
            at = now + _window;
        return TimeSpan.FromTicks(Math.Max(at - now, TimeSpan.TicksPerSecond));
    }

    private sealed class Lease(TimeSpan? retryAfter, string? refusal) : RateLimitLease
    {
        public override bool IsAcquired => retryAfter is null;

        public override IEnumerable<string> MetadataNames =>
            retryAfter is null ? [] : [MetadataName.RetryAfter.Name, MetadataName.ReasonPhrase.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = metadataName == MetadataName.RetryAfter.Name ? retryAfter
                : metadataName == MetadataName.ReasonPhrase.Name ? refusal : null;
            return metadata is not null;
        }
    }
}
