namespace SupportGateway.Tests.Support;

/// <summary>Waiting for what happens in the background (a worker, a double, a restarted process), with a deadline.</summary>
internal static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> every 50 ms; fails the test after <paramref name="seconds"/>, saying what <paramref name="explain"/> says.</summary>
    public static async Task HoldsAsync(Func<Task<bool>> condition, int seconds = 15, Func<string>? explain = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"not within {seconds} s{(explain is null ? "" : "; " + explain())}");
            await Task.Delay(50);
        }
    }

    /// <summary>As above, with an explanation that has to read something (a database) to say why the condition never held.</summary>
    public static async Task HoldsAsync(Func<Task<bool>> condition, int seconds, Func<Task<string>> explain)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"not within {seconds} s; {await explain()}");
            await Task.Delay(50);
        }
    }
}
