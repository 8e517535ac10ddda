namespace SupportGateway.Tests.Support;

/// <summary>
/// Moves a <see cref="ManualTime"/> through hours the way the outbox lives them: from one instant a delivery is due to
/// the next, waiting at each until the gateway's sender has tried every delivery that is due (the first waiting one of
/// each ticket's recipient; the later ones wait behind it). An outage of six hours passes in seconds. A null channel
/// means every channel at once.
/// </summary>
internal static class OutboxClock
{
    /// <summary>Lets <paramref name="duration"/> of simulated time pass; returns how many instants it stopped at.</summary>
    public static async Task<int> PassAsync(ManualTime time, string directory, string? channel, TimeSpan duration)
    {
        var end = time.GetUtcNow() + duration;
        var stops = 0;
        while (true)
        {
            await SettleAsync(time, directory, channel);
            if (time.GetUtcNow() >= end)
                return stops;
            var next = await NextAsync(time, directory, channel);
            var target = next is { } due && due < end ? due : end;
            time.Advance(target - time.GetUtcNow());
            stops++;
        }
    }

    /// <summary>Moves the clock from due instant to due instant until nothing of <paramref name="channel"/> is left to send.</summary>
    public static async Task UntilDeliveredAsync(ManualTime time, string directory, string? channel, int maxStops = 200)
    {
        for (var stop = 0; stop < maxStops; stop++)
        {
            await SettleAsync(time, directory, channel);
            if (await DbProbe.ScalarAsync<long>(directory, "SELECT COUNT(*) FROM outbox WHERE (@channel IS NULL OR channel = @channel) AND state IN ('pending', 'in_flight')",
                new { channel }) == 0)
                return;
            if (await NextAsync(time, directory, channel) is not { } next)
                Assert.Fail("deliveries are pending, none is scheduled");
            else
                time.Advance(next - time.GetUtcNow());
        }
        Assert.Fail($"still pending after {maxStops} retries");
    }

    private const string Untried = """
        FROM outbox o
        WHERE (@channel IS NULL OR o.channel = @channel) AND (o.state = 'in_flight' OR (o.state = 'pending' AND o.next_attempt_at <= @now AND NOT EXISTS (
            SELECT 1 FROM outbox e
            WHERE e.channel = o.channel AND e.ticket_id = o.ticket_id AND e.recipient = o.recipient AND e.id < o.id AND e.state = 'pending')))
        """;

    private static async Task SettleAsync(ManualTime time, string directory, string? channel)
    {
        var parameters = new { channel, now = time.GetUtcNow().ToUnixTimeMilliseconds() };
        IReadOnlyList<string> left = [];
        await Eventually.HoldsAsync(async () => (left = await DbProbe.ListAsync<string>(directory,
            "SELECT o.id || ' ' || o.channel || ' ' || o.state || ' ' || COALESCE(o.last_error, '') " + Untried, parameters)).Count == 0, 60,
            () => $"every due {channel ?? "outbox"} delivery was tried; left: {string.Join("; ", left)}");
    }

    private static async Task<DateTimeOffset?> NextAsync(ManualTime time, string directory, string? channel) =>
        await DbProbe.ScalarAsync<long?>(directory, "SELECT MIN(next_attempt_at) FROM outbox WHERE (@channel IS NULL OR channel = @channel) AND state = 'pending' AND next_attempt_at > @now",
            new { channel, now = time.GetUtcNow().ToUnixTimeMilliseconds() }) is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;
}
