using System.Threading.RateLimiting;
using SupportGateway.Host.Limits;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Limits;

/// <summary>The counting behind every limit, on a clock the test moves.</summary>
public sealed class SlidingWindowLimiterTests
{
    private readonly ManualTime _time = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));

    private SlidingWindowLimiter Limiter(int permits, TimeSpan window) =>
        new(new Rate { Permits = permits, Window = window }, _time, "too many");

    private static TimeSpan RetryAfter(RateLimitLease lease) =>
        lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : throw new AssertionException("no Retry-After");

    [Test]
    public void Permits_fit_then_refusals_consume_nothing_and_say_when_one_fits()
    {
        using var limiter = Limiter(10, TimeSpan.FromHours(1));
        for (var i = 0; i < 10; i++)
            Assert.That(limiter.AttemptAcquire().IsAcquired, Is.True, $"permit {i}");
        var refused = limiter.AttemptAcquire();
        Assert.That(refused.IsAcquired, Is.False);
        Assert.That(refused.TryGetMetadata(MetadataName.ReasonPhrase, out var reason) ? reason : null, Is.EqualTo("too many"));
        // Ten in the window just ended weigh 9 at 6 minutes into the next one: then one fits.
        Assert.That(RetryAfter(refused), Is.EqualTo(TimeSpan.FromMinutes(66)));
        for (var i = 0; i < 100; i++)
            Assert.That(limiter.AttemptAcquire().IsAcquired, Is.False);
        Assert.That(RetryAfter(limiter.AttemptAcquire()), Is.EqualTo(TimeSpan.FromMinutes(66)), "refused requests moved nothing");

        _time.Advance(TimeSpan.FromMinutes(66) - TimeSpan.FromTicks(1));
        Assert.That(limiter.AttemptAcquire().IsAcquired, Is.False);
        _time.Advance(TimeSpan.FromTicks(1));
        Assert.That(limiter.AttemptAcquire().IsAcquired, Is.True);
        Assert.That(limiter.AttemptAcquire().IsAcquired, Is.False, "the next one waits for the old window's weight to fade further");
    }

    [Test]
    public void No_span_of_one_window_holds_more_than_the_permits_when_taken_steadily()
    {
        // One attempt a minute for six hours against 10 an hour: any 60 consecutive minutes hold at most 10 granted.
        using var limiter = Limiter(10, TimeSpan.FromHours(1));
        var granted = new List<int>();
        for (var minute = 0; minute < 360; minute++, _time.Advance(TimeSpan.FromMinutes(1)))
        {
            if (limiter.AttemptAcquire().IsAcquired)
                granted.Add(minute);
        }
        var busiest = Enumerable.Range(0, 300).Max(start => granted.Count(m => m >= start && m < start + 60));
        Assert.That(busiest, Is.LessThanOrEqualTo(10));
        Assert.That(granted, Has.Count.GreaterThanOrEqualTo(50), "and the rate over hours is about the limit");
    }

    [Test]
    public void Asking_for_none_tells_whether_one_fits_without_taking_it()
    {
        using var limiter = Limiter(1, TimeSpan.FromMinutes(1));
        Assert.That(limiter.AttemptAcquire(0).IsAcquired, Is.True);
        Assert.That(limiter.AttemptAcquire(0).IsAcquired, Is.True, "nothing was taken");
        Assert.That(limiter.AttemptAcquire().IsAcquired, Is.True);
        Assert.That(limiter.AttemptAcquire(0).IsAcquired, Is.False);
    }

    [Test]
    public void A_key_is_idle_only_when_nothing_it_counted_still_weighs()
    {
        using var limiter = Limiter(5, TimeSpan.FromMinutes(1));
        Assert.That(limiter.AttemptAcquire().IsAcquired, Is.True);
        _time.Advance(TimeSpan.FromSeconds(90));
        Assert.That(limiter.IdleDuration, Is.Null, "its count still weighs in the sliding window");
        _time.Advance(TimeSpan.FromSeconds(40));
        Assert.That(limiter.IdleDuration, Is.GreaterThan(TimeSpan.Zero));

        using var neverCounted = Limiter(5, TimeSpan.FromHours(1));
        Assert.That(neverCounted.AttemptAcquire(0).IsAcquired, Is.True);
        _time.Advance(TimeSpan.FromSeconds(11));
        Assert.That(neverCounted.IdleDuration, Is.EqualTo(TimeSpan.FromSeconds(11)), "a key that only asked can go at once");
    }
}
