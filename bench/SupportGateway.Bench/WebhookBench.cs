using System.Diagnostics;
using System.Net;
using System.Text;
using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

/// <summary>
/// Telegram webhook intake: the real gateway executable in its own process (Webhook mode, SQLite), a Bot API stand-in
/// for its acknowledgements, and this process as Telegram, posting corpus updates with fresh update_ids and the secret
/// header. Phase 1 is closed-loop with many connections: the most requests per second the gateway answers 200.
/// Phase 2 is open-loop at a fixed rate: each request's latency counts from when it was due, so a stall is not hidden
/// by fewer requests being sent. Both client and server share the machine's cores.
/// </summary>
internal static class WebhookBench
{
    private const string Secret = "bench-webhook-secret-0123456789";

    public static async Task<int> RunAsync(int seconds, int rate, int connections)
    {
        var root = RepositoryRoot();
        var hostDll = Path.Combine(root, "src/SupportGateway.Host/bin/Release/net10.0/SupportGateway.Host.dll");
        var fixture = Path.Combine(root, "../shared/corpus/telegram/nutgram/updates/text.json");
        if (!File.Exists(hostDll) || !File.Exists(fixture))
        {
            Console.Error.WriteLine($"webhook bench: needs {hostDll} (dotnet build -c Release) and {fixture} (../shared beside the repository)");
            return 2;
        }
        var template = File.ReadAllText(fixture);
        var directory = Path.Combine(Path.GetTempPath(), $"sg-bench-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);

        await using var botApi = StartBotApi();
        var port = FreePort();
        using var gateway = StartGateway(hostDll, directory, port, botApi.Urls.First());
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{port}"),
            Timeout = TimeSpan.FromSeconds(30),
        };
        await WaitHealthyAsync(client, gateway);
        Console.WriteLine($"SupportGateway Telegram webhook benchmark: gateway process on SQLite, {Environment.ProcessorCount} cores shared with this client; " +
            $"{connections} connections for {seconds} s, then {rate} req/s for {seconds} s");

        long updateId = 0;
        HttpRequestMessage Request()
        {
            var id = Interlocked.Increment(ref updateId);
            var body = template.Replace("\"update_id\": ", $"\"update_id\": {id}0", StringComparison.Ordinal);
            var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/telegram") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Add("X-Telegram-Bot-Api-Secret-Token", Secret);
            return request;
        }

        await ClosedLoopAsync(client, Request, connections, TimeSpan.FromSeconds(Math.Max(3, seconds / 2)), "warm-up");
        var (throughput, failures1) = await ClosedLoopAsync(client, Request, connections, TimeSpan.FromSeconds(seconds), "phase 1");
        await Task.Delay(TimeSpan.FromSeconds(2));
        var failures2 = await OpenLoopAsync(client, Request, rate, TimeSpan.FromSeconds(seconds));

        // What was accepted is processed: every stored update ends as a processed payload.
        var clock = Stopwatch.StartNew();
        var accepted = Interlocked.Read(ref updateId) - failures1 - failures2;
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(directory, "bench.db")}");
        long pending;
        while ((pending = await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM inbound WHERE state = 'pending'")) > 0 && clock.Elapsed < TimeSpan.FromMinutes(10))
            await Task.Delay(500);
        var stored = await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM inbound WHERE channel = 'telegram'");
        Console.WriteLine($"after the load: {stored} updates stored of {accepted} answered 200; backlog processed {clock.Elapsed.TotalSeconds:F1} s after the last request, {pending} still pending");
        gateway.Kill(entireProcessTree: true);
        return throughput >= 5000 && failures1 + failures2 == 0 && stored == accepted ? 0 : 1;
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

    private static async Task<long> OpenLoopAsync(HttpClient client, Func<HttpRequestMessage> request, int rate, TimeSpan duration)
    {
        var total = (int)(rate * duration.TotalSeconds);
        var latencies = new double[total];
        long failures = 0;
        var inFlight = new List<Task>(total);
        var clock = Stopwatch.StartNew();
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
        var sorted = latencies.Order().ToList();
        Console.WriteLine($"phase 2: {total} requests at {rate} req/s (open loop, latency from when each was due): p50 {P(sorted, 0.5):F1} ms, " +
            $"p99 {P(sorted, 0.99):F1} ms, max {sorted[^1]:F1} ms; {failures} not 200");
        return failures;
    }

    /// <summary>Answers every Bot API call with success (a sent message for send*), so registration succeeds and acknowledgements leave as they would.</summary>
    private static WebApplication StartBotApi()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        long id = 0;
        app.MapPost("/bot{token}/{method}", (string method) => Results.Text(method switch
        {
            "getMe" => """{"ok":true,"result":{"id":1,"is_bot":true,"first_name":"Bench","username":"bench_bot"}}""",
            _ when method.StartsWith("send", StringComparison.Ordinal) =>
                $$$"""{"ok":true,"result":{"message_id":{{{Interlocked.Increment(ref id)}}},"chat":{"id":1,"type":"private"},"date":0}}""",
            _ => """{"ok":true,"result":true}""",
        }, "application/json"));
        app.StartAsync().GetAwaiter().GetResult();
        return app;
    }

    private static Process StartGateway(string hostDll, string directory, int port, string botApi)
    {
        var start = new ProcessStartInfo("dotnet", [hostDll]) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["SupportGateway__Storage__ConnectionString"] = $"Data Source={Path.Combine(directory, "bench.db")}";
        start.Environment["SupportGateway__Channels__Telegram__BotToken"] = "1:bench-token";
        start.Environment["SupportGateway__Channels__Telegram__ApiBaseUrl"] = botApi;
        start.Environment["SupportGateway__Channels__Telegram__Mode"] = "Webhook";
        start.Environment["SupportGateway__Channels__Telegram__WebhookUrl"] = "https://support.example/webhooks/telegram";
        start.Environment["SupportGateway__Channels__Telegram__WebhookSecret"] = Secret;
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is { } line) Console.Error.WriteLine($"gateway: {line}"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitHealthyAsync(HttpClient client, Process gateway)
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
                // Healthy, and the bot has registered its webhook (before that the channel shows its configuration).
                if (response.IsSuccessStatusCode && last.Contains("telegram: up (webhook https", StringComparison.Ordinal))
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
