using System.Diagnostics;
using System.Net;
using Dapper;
using Microsoft.Data.Sqlite;

/// <summary>
/// Webhook intake: the real gateway executable in its own process (SQLite), a stand-in for the provider's API so its
/// acknowledgements have somewhere to go (<see cref="ProviderStandIn"/>), and this process as the provider, posting
/// correctly signed deliveries each with a fresh id (<see cref="WebhookTarget"/>). Phase 1 is closed-loop with many
/// connections: the most requests per second the gateway answers 200. Phase 2 is open-loop at a fixed rate: each
/// request's latency counts from when it was due, so a stall is not hidden by fewer requests being sent. Then the
/// backlog: how long after the last request every stored delivery is processed. Client and server share the cores.
/// </summary>
internal static class WebhookBench
{
    /// <summary><c>webhook</c> (Telegram), <c>whatsapp-twilio</c>, <c>whatsapp-cloud</c>, or <c>whatsapp</c> for both providers in turn.</summary>
    /// <param name="gateway">The SupportGateway.Host.dll to measure; by default this repository's Release build. Another build
    /// (say, main's) measured by the same client is an A/B comparison in which only the gateway differs.</param>
    /// <param name="stalls">With a figure in ms, phase 2 also lists where the requests slower than that were.</param>
    public static async Task<int> RunAsync(string mode, int seconds, int rate, int connections, bool drain, string? gateway = null, int stalls = 0)
    {
        var root = RepositoryRoot();
        var hostDll = gateway is { Length: > 0 } ? Path.GetFullPath(gateway) : Path.Combine(root, "src/SupportGateway.Host/bin/Release/net10.0/SupportGateway.Host.dll");
        if (!File.Exists(hostDll))
        {
            Console.Error.WriteLine($"webhook bench: needs {hostDll} (dotnet build -c Release)");
            return 2;
        }
        await using var standIn = ProviderStandIn.Start();
        var corpus = Path.Combine(root, "../shared/corpus");
        WebhookTarget[] targets = mode switch
        {
            "webhook" => [WebhookTarget.Telegram(corpus, standIn.BaseUrl)],
            "whatsapp-twilio" => [WebhookTarget.Twilio(standIn.BaseUrl)],
            "whatsapp-cloud" => [WebhookTarget.Cloud(corpus, standIn.BaseUrl)],
            _ => [WebhookTarget.Twilio(standIn.BaseUrl), WebhookTarget.Cloud(corpus, standIn.BaseUrl)],
        };
        var passed = true;
        foreach (var target in targets)
            await CeilingAsync(target, seconds, rate, connections);
        foreach (var target in targets)
            passed &= await RunAsync(hostDll, target, standIn, seconds, rate, connections, drain, stalls);
        return passed ? 0 : 1;
    }

    /// <summary>One provider against a fresh gateway and database; true when it meets the issues' bar (5,000 req/s, p99 20 ms, nothing lost).</summary>
    /// <remarks>
    /// With <paramref name="drain"/> (the default) phase 2 starts once phase 1's backlog is processed and its acknowledgements
    /// sent: its latency is that of a steady 1,000 req/s with each delivery processed and answered as it comes (the worker and
    /// the outbox run beside intake all along). Without, phase
    /// 2 also competes with the worker draining the tens of thousands of deliveries phase 1 left: a burst on top of a burst.
    /// </remarks>
    private static async Task<bool> RunAsync(string hostDll, WebhookTarget target, ProviderStandIn standIn, int seconds, int rate, int connections, bool drain, int stalls)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"sg-bench-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        var port = FreePort();
        using var gateway = StartGateway(hostDll, directory, port, target.Environment);
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{port}"),
            Timeout = TimeSpan.FromSeconds(30),
        };
        await WaitHealthyAsync(client, gateway, target.Ready);
        Console.WriteLine($"gateway: {hostDll}");
        Console.WriteLine($"SupportGateway {target.Name} webhook benchmark: gateway process on SQLite, {Environment.ProcessorCount} cores shared with this client; " +
            $"{connections} connections for {seconds} s, then {rate} req/s for {seconds} s");

        long sent = 0;
        HttpRequestMessage Request() => target.Request(Interlocked.Increment(ref sent));
        await ClosedLoopAsync(client, Request, connections, TimeSpan.FromSeconds(Math.Max(3, seconds / 2)), "warm-up");
        var (throughput, failures1) = await ClosedLoopAsync(client, Request, connections, TimeSpan.FromSeconds(seconds), "phase 1");
        await Task.Delay(TimeSpan.FromSeconds(2));
        var database = $"Data Source={Path.Combine(directory, "bench.db")}";
        if (drain)
            Console.WriteLine($"phase 1's backlog processed and acknowledged after {(await DrainAsync(database, replies: true)).TotalSeconds:F1} s more; phase 2 is the steady state");
        else
            Console.WriteLine("phase 2 starts beside the processing of phase 1's backlog");
        var (p99, failures2) = await OpenLoopAsync(client, Request, rate, TimeSpan.FromSeconds(seconds), stalls);

        // What was accepted is processed: every stored delivery ends as a processed payload.
        var accepted = Interlocked.Read(ref sent) - failures1 - failures2;
        var backlog = await DrainAsync(database);
        var acknowledged = backlog + await DrainAsync(database, replies: true);
        await using var connection = new SqliteConnection(database);
        var pending = await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM inbound WHERE state = 'pending'");
        var stored = await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM inbound WHERE channel = @channel", new { channel = target.Channel });
        // A delivery that failed processing is parked as dead: the backlog figure counts only processed ones as done.
        var dead = await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM inbound WHERE state = 'dead'");
        var tickets = await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM tickets");
        Console.WriteLine($"after the load: {stored} deliveries stored of {accepted} answered 200; backlog processed {backlog.TotalSeconds:F1} s after the last request " +
            $"and acknowledged after {acknowledged.TotalSeconds:F1} s, " +
            $"{pending} still pending, {dead} failed (dead); {tickets} tickets; {standIn.Sends} sends reached the provider stand-in so far");
        // On a shared machine the rates move with everyone else's load; the CPU the gateway spent per delivery (intake,
        // processing, acknowledgements, start-up included) moves far less, so it is the figure to compare builds by.
        gateway.Refresh();
        Console.WriteLine($"gateway CPU: {gateway.TotalProcessorTime.TotalSeconds:F1} s for {stored} deliveries, " +
            $"{gateway.TotalProcessorTime.TotalMicroseconds / Math.Max(1, stored):F0} µs per delivery");
        gateway.Kill(entireProcessTree: true);
        return throughput >= 5000 && p99 <= 20 && failures1 + failures2 == 0 && stored == accepted && dead == 0;
    }

    /// <summary>
    /// The same client and requests against <see cref="EchoServer"/> (read the body, answer 200) in its own process:
    /// what any HTTP intake can reach on these cores with this client beside it.
    /// </summary>
    private static async Task CeilingAsync(WebhookTarget target, int seconds, int rate, int connections)
    {
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet", [typeof(EchoServer).Assembly.Location, "echo-server", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var server = Process.Start(start)!;
        server.OutputDataReceived += (_, _) => { };
        server.ErrorDataReceived += (_, e) => { if (e.Data is { } line) Console.Error.WriteLine($"echo: {line}"); };
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        try
        {
            using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
            {
                BaseAddress = new Uri($"http://127.0.0.1:{port}"),
                Timeout = TimeSpan.FromSeconds(30),
            };
            await WaitHealthyAsync(client, server, "echo: up");
            Console.WriteLine($"ceiling for {target.Name}: the same client and requests against a Kestrel process that reads the body and answers 200");
            long sent = 0;
            HttpRequestMessage Request() => target.Request(Interlocked.Increment(ref sent));
            await ClosedLoopAsync(client, Request, connections, TimeSpan.FromSeconds(Math.Max(3, seconds / 2)), "  warm-up");
            await ClosedLoopAsync(client, Request, connections, TimeSpan.FromSeconds(seconds), "  phase 1");
            await OpenLoopAsync(client, Request, rate, TimeSpan.FromSeconds(seconds));
            server.Refresh();
            Console.WriteLine($"  server CPU: {server.TotalProcessorTime.TotalMicroseconds / Math.Max(1, Interlocked.Read(ref sent)):F0} µs per request");
        }
        finally
        {
            server.Kill(entireProcessTree: true);
        }
    }

    /// <summary>
    /// Until no stored delivery is pending (at most ten minutes): how long that took. With <paramref name="replies"/>, also
    /// until every acknowledgement the deliveries queued has gone to the provider (or failed for good): a delivery's work
    /// ends when the customer has their ticket number, and phase 1 leaves as many acknowledgements as deliveries.
    /// </summary>
    private static async Task<TimeSpan> DrainAsync(string database, bool replies = false)
    {
        var clock = Stopwatch.StartNew();
        await using var connection = new SqliteConnection(database);
        const string Deliveries = "SELECT COUNT(*) FROM inbound WHERE state = 'pending'";
        const string Acknowledgements = "SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'in_flight')";
        while ((await connection.ExecuteScalarAsync<long>(Deliveries) > 0 || (replies && await connection.ExecuteScalarAsync<long>(Acknowledgements) > 0))
               && clock.Elapsed < TimeSpan.FromMinutes(10))
            await Task.Delay(500);
        return clock.Elapsed;
    }

    private static async Task<(double Throughput, long Failures)> ClosedLoopAsync(HttpClient client, Func<HttpRequestMessage> request, int connections,
        TimeSpan duration, string label)
    {
        var latencies = new List<double>[connections];
        long failures = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, connections).Select(worker => Task.Run(async () =>
        {
            var mine = latencies[worker] = [];
            while (clock.Elapsed < duration)
            {
                var started = Stopwatch.GetTimestamp();
                using var response = await client.SendAsync(request());
                mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                if (response.StatusCode != HttpStatusCode.OK)
                    Interlocked.Increment(ref failures);
            }
        })));
        var all = latencies.SelectMany(l => l).Order().ToList();
        var throughput = all.Count / clock.Elapsed.TotalSeconds;
        Console.WriteLine($"{label}: {all.Count} requests in {clock.Elapsed.TotalSeconds:F1} s: {throughput:F0} req/s; latency p50 {P(all, 0.5):F1} ms, p99 {P(all, 0.99):F1} ms; {failures} not 200");
        return (throughput, failures);
    }

    private static async Task<(double P99, long Failures)> OpenLoopAsync(HttpClient client, Func<HttpRequestMessage> request, int rate, TimeSpan duration, int stalls = 0)
    {
        var total = (int)(rate * duration.TotalSeconds);
        var latencies = new double[total];
        long failures = 0;
        var inFlight = new List<Task>(total);
        var clock = Stopwatch.StartNew();
        var gc = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration());
        var sent = 0;
        while (sent < total)
        {
            var due = Math.Min(total, (int)(clock.Elapsed.TotalSeconds * rate) + 1);
            for (; sent < due; sent++)
            {
                var index = sent;
                var scheduled = index * 1000.0 / rate;
                inFlight.Add(Task.Run(async () =>
                {
                    using var response = await client.SendAsync(request());
                    latencies[index] = clock.Elapsed.TotalMilliseconds - scheduled;
                    if (response.StatusCode != HttpStatusCode.OK)
                        Interlocked.Increment(ref failures);
                }));
            }
            await Task.Delay(1);
        }
        await Task.WhenAll(inFlight);
        Console.WriteLine($"client GC during the open loop: {GC.CollectionCount(0) - gc.Item1} gen0, {GC.CollectionCount(1) - gc.Item2} gen1, {GC.CollectionCount(2) - gc.Item3} gen2, " +
            $"{(GC.GetTotalPauseDuration() - gc.Item4).TotalMilliseconds:F0} ms paused");
        var sorted = latencies.Order().ToList();
        // Slow requests that come together are a stall on the server, and the spacing of the stalls says what caused
        // it (they were SQLite's log restarts, every so many deliveries): "index:slow requests(slowest ms)" per 50 requests.
        if (stalls > 0)
        {
            var groups = Enumerable.Range(0, total).Where(i => latencies[i] > stalls).GroupBy(i => i / 50)
                .Select(g => $"{g.Key * 50}:{g.Count()}({g.Max(i => latencies[i]):F0})");
            Console.WriteLine($"requests over {stalls} ms, by 50 in the order sent: " + string.Join(" ", groups));
        }
        Console.WriteLine($"phase 2: {total} requests at {rate} req/s (open loop, latency from when each was due): p50 {P(sorted, 0.5):F1} ms, " +
            $"p99 {P(sorted, 0.99):F1} ms, max {sorted[^1]:F1} ms; {failures} not 200");
        return (P(sorted, 0.99), failures);
    }

    private static Process StartGateway(string hostDll, string directory, int port, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet", [hostDll]) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["SupportGateway__Storage__ConnectionString"] = $"Data Source={Path.Combine(directory, "bench.db")}";
        // All the load comes from one address, where the providers spread theirs over pools of them: the limit is kept
        // (its cost is part of the figures) but set above what the bench sends, so that it never refuses.
        start.Environment["SupportGateway__Limits__WebhookPerSource__Permits"] = "100000000";
        foreach (var (key, value) in environment)
            start.Environment[key] = value;
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is { } line) Console.Error.WriteLine($"gateway: {line}"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitHealthyAsync(HttpClient client, Process gateway, string ready)
    {
        var last = "no answer";
        for (var i = 0; i < 600; i++)
        {
            if (gateway.HasExited)
                throw new InvalidOperationException($"the gateway exited with {gateway.ExitCode}");
            try
            {
                using var response = await client.GetAsync("/healthz");
                last = await response.Content.ReadAsStringAsync();
                // Healthy, and the channel is ready (a Telegram bot has registered its webhook; before that it shows its configuration).
                if (response.IsSuccessStatusCode && last.Contains(ready, StringComparison.Ordinal))
                    return;
            }
            catch (HttpRequestException ex)
            {
                last = ex.Message;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"the gateway did not become healthy in 60 s; /healthz said: {last}");
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "SupportGateway.sln")))
                return directory.FullName;
        }
        throw new DirectoryNotFoundException("SupportGateway.sln not found above the bench");
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static double P(List<double> sorted, double p) => sorted.Count == 0 ? double.NaN : sorted[(int)Math.Min(sorted.Count - 1, Math.Ceiling(p * sorted.Count) - 1)];
}
