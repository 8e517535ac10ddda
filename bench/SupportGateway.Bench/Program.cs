// Ingest benchmark: dotnet run -c Release --project bench/SupportGateway.Bench -- [--messages N] [--concurrency N]
//                   [--postgres "Host=…;Username=…"] runs it on a fresh database of that server (created and dropped),
//                   after that server's commit ceiling for bare one-row transactions at the same concurrency
// MIME benchmark:   dotnet run -c Release --project bench/SupportGateway.Bench -- mime [--rounds N]
// IMAP benchmark:   bash tests/mail-servers.sh start && dotnet run -c Release --project bench/SupportGateway.Bench -- imap [--messages N] [--rounds N]
// Webhook benchmark: dotnet build -c Release && dotnet run -c Release --project bench/SupportGateway.Bench -- webhook [--seconds N] [--rate N] [--connections N]
//                   [--gateway PATH/SupportGateway.Host.dll] measures another build with the same client (A/B)
// WhatsApp webhooks: the same, with -- whatsapp-twilio, -- whatsapp-cloud, or -- whatsapp (both providers in turn);
//                   phase 2 (1,000 req/s) starts once phase 1's backlog is processed, so it is the steady state with
//                   processing keeping up; --no-drain starts it at once, beside the worker draining phase 1's backlog;
//                   --stalls MS lists where in phase 2 the requests slower than MS were (a server stall shows as a group)
// E-mail benchmark: bash tests/mail-servers.sh start && dotnet run -c Release --project bench/SupportGateway.Bench -- email [--mails N] [--rate N]
// SLA benchmark:    dotnet run -c Release --project bench/SupportGateway.Bench -- sla [--tickets N] [--messages N] [--due N]
// Scaling benchmark: dotnet build -c Release && dotnet run -c Release --project bench/SupportGateway.Bench -- scaling --postgres "Host=…;Username=…"
//                   [--seconds N] [--connections N] [--clients N] [--gateway PATH]: PostgreSQL's commit ceiling (one-row and
//                   ingest-shaped transactions), then HTTP intake on SQLite and on PostgreSQL with 1, 2 and 3 instances (docs/scaling.md);
//                   --setups sqlite,pg1,pg1-nginx,pg2-nginx,pg3-nginx runs only those (all by default)
// The ingest benchmark feeds a mix of intake-API and web-chat messages (new requests and follow-ups) through the real
// inbound pipeline on a fresh SQLite file, with the outbox dispatcher delivering acks meanwhile.
using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SupportGateway.Core;
using SupportGateway.Core.Outbox;
using SupportGateway.Core.Pipeline;

if (args.FirstOrDefault() == "mime")
    return await MimeBench.RunAsync(Option("--rounds", 20));
if (args.FirstOrDefault() == "email")
    return await EmailBench.RunAsync(Option("--mails", 2000), Option("--rate", 50));
if (args.FirstOrDefault() is "webhook" or "whatsapp" or "whatsapp-twilio" or "whatsapp-cloud")
    return await WebhookBench.RunAsync(args[0], Option("--seconds", 10), Option("--rate", 1000), Option("--connections", 64), !args.Contains("--no-drain"),
        Array.IndexOf(args, "--gateway") is var at and >= 0 && at + 1 < args.Length ? args[at + 1] : null, Option("--stalls", 0));
if (args.FirstOrDefault() == "echo-server")
    return await EchoServer.RunAsync(Option("--port", 0));
if (args.FirstOrDefault() == "sla")
    return await SlaBench.RunAsync(Option("--tickets", 100_000), Option("--messages", 5_000), Option("--due", 20_000));
if (args.FirstOrDefault() == "scaling")
{
    if (Array.IndexOf(args, "--postgres") is not (var serverAt and >= 0) || serverAt + 1 >= args.Length)
    {
        Console.Error.WriteLine("scaling bench: --postgres \"Host=…;Username=…\" is required (a server on this machine, for its CPU figures)");
        return 2;
    }
    return await ScalingBench.RunAsync(args[serverAt + 1], Option("--seconds", 20), Option("--connections", 32), Option("--clients", 8),
        Array.IndexOf(args, "--gateway") is var gatewayAt and >= 0 && gatewayAt + 1 < args.Length ? args[gatewayAt + 1] : null,
        Array.IndexOf(args, "--setups") is var setupsAt and >= 0 && setupsAt + 1 < args.Length ? args[setupsAt + 1].Split(',') : null);
}
if (args.FirstOrDefault() == "imap")
    return await ImapBench.RunAsync(Option("--messages", 1000), Option("--rounds", 20));

var messages = Option("--messages", 10_000);
var concurrency = Option("--concurrency", 4);
// Long enough for tiered JIT to settle: the figures are steady-state ones.
var warmup = Option("--warmup", 5_000);

var directory = Path.Combine(Path.GetTempPath(), $"sg-bench-{Guid.NewGuid():N}");
Directory.CreateDirectory(directory);
var postgres = Array.IndexOf(args, "--postgres") is var pgAt and >= 0 && pgAt + 1 < args.Length ? await PostgresBench.CreateAsync(args[pgAt + 1], concurrency) : null;
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
{
    ["SupportGateway:Storage:Provider"] = postgres is null ? "sqlite" : "postgresql",
    ["SupportGateway:Storage:ConnectionString"] = postgres?.ConnectionString ?? $"Data Source={Path.Combine(directory, "bench.db")}",
});
builder.Logging.AddConsole().SetMinimumLevel(LogLevel.Warning);
builder.AddTicketCore();
if (!args.Contains("--no-outbox")) builder.Services.AddSingleton<IOutboundSender>(new NoOpSender("api"));
if (!args.Contains("--no-outbox")) builder.Services.AddSingleton<IOutboundSender>(new NoOpSender("webchat"));
using var host = builder.Build();
await host.StartAsync();
var processor = host.Services.GetRequiredService<InboundProcessor>();

Console.WriteLine($"SupportGateway ingest benchmark: {messages} messages after {warmup} warm-up, concurrency {concurrency}, {(postgres is null ? "SQLite WAL" : "PostgreSQL")}, {Environment.ProcessorCount} cores");
var plan = Plan(warmup + messages);
var tickets = new string?[plan.Length];
for (var i = 0; i < warmup; i++)
    tickets[i] = (await processor.IngestAsync(Build(plan[i], tickets), CancellationToken.None)).TicketNumber;

var latencies = new double[messages];
var (gen0, gen1, gen2, pause) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration());
// Allocation and CPU per message depend little on what else the machine runs, unlike the rates.
var (allocated, cpu) = (GC.GetTotalAllocatedBytes(), Process.GetCurrentProcess().TotalProcessorTime);
var next = warmup - 1;
var clock = Stopwatch.StartNew();
await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
{
    int i;
    while ((i = Interlocked.Increment(ref next)) < plan.Length)
    {
        var message = Build(plan[i], tickets);
        var started = Stopwatch.GetTimestamp();
        var result = await processor.IngestAsync(message, CancellationToken.None);
        latencies[i - warmup] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (result.Outcome is not (IngestOutcome.Created or IngestOutcome.Appended))
            throw new InvalidOperationException($"Message {i}: {result.Outcome} {result.Error}");
        tickets[i] = result.TicketNumber;
    }
})));
clock.Stop();
var gcLine = $"gc during the run: {GC.CollectionCount(0) - gen0} gen0, {GC.CollectionCount(1) - gen1} gen1, {GC.CollectionCount(2) - gen2} gen2, {(GC.GetTotalPauseDuration() - pause).TotalMilliseconds:F0} ms paused; " +
    $"per message {(GC.GetTotalAllocatedBytes() - allocated) / messages / 1024.0:F1} KiB allocated, {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds * 1000 / messages:F0} µs of CPU";

Array.Sort(latencies);
double P(double q) => latencies[Math.Min(latencies.Length - 1, (int)Math.Ceiling(q * latencies.Length) - 1)];
var followUps = plan.Skip(warmup).Count(p => p.FollowUpOf >= 0);
Console.WriteLine($"mix: {messages - followUps} new requests, {followUps} follow-ups; {plan.Skip(warmup).Count(p => p.Channel == "api")} intake API, {plan.Skip(warmup).Count(p => p.Channel == "webchat")} web chat");
Console.WriteLine($"throughput: {messages / clock.Elapsed.TotalSeconds:F0} messages/s ({clock.Elapsed.TotalSeconds:F2} s)");
Console.WriteLine($"latency per message: p50 {P(0.50):F2} ms, p99 {P(0.99):F2} ms, p99.9 {P(0.999):F2} ms, max {latencies[^1]:F2} ms");
Console.WriteLine(gcLine);
if (postgres is not null)
    Console.WriteLine($"against PostgreSQL's commit ceiling: {messages / clock.Elapsed.TotalSeconds:F0} of {postgres.Ceiling:F0} transactions/s = {messages / clock.Elapsed.TotalSeconds / postgres.Ceiling:P0}");
await host.StopAsync();
Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
Directory.Delete(directory, recursive: true);
if (postgres is not null)
    await postgres.DropAsync();
return 0;

int Option(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length && int.TryParse(args[index + 1], out var value) && value > 0 ? value : fallback;
}

// 60% new requests, 40% follow-ups to an earlier ticket of the same sender; half API, half web chat.
static Planned[] Plan(int count)
{
    var random = new Random(42);
    var plan = new Planned[count];
    for (var i = 0; i < count; i++)
    {
        var channel = random.Next(2) == 0 ? "api" : "webchat";
        var earlier = i > 100 && random.NextDouble() < 0.4 ? FindEarlier(plan, i, channel, random) : -1;
        plan[i] = new Planned(channel, earlier, earlier >= 0 ? plan[earlier].Sender : $"{channel}-user-{i}");
    }
    return plan;
}

static int FindEarlier(Planned[] plan, int i, string channel, Random random)
{
    for (var tries = 0; tries < 10; tries++)
    {
        // Far enough back that the earlier message has been processed by any of the workers.
        var candidate = random.Next(0, i - 64);
        if (plan[candidate].Channel == channel && plan[candidate].FollowUpOf < 0)
            return candidate;
    }
    return -1;
}

static InboundMessage Build(Planned planned, string?[] tickets) => new()
{
    Channel = planned.Channel,
    ExternalId = Guid.NewGuid().ToString("N"),
    Sender = new SenderIdentity { Identity = planned.Sender, Name = "Bench User", Email = $"{planned.Sender}@example.com" },
    Hints = planned.FollowUpOf >= 0
        ? new ThreadHints { TicketNumber = tickets[planned.FollowUpOf] ?? throw new InvalidOperationException("follow-up before its ticket") }
        : new ThreadHints { StartNew = true, ReplyAddress = planned.Sender },
    Text = planned.FollowUpOf >= 0 ? "Ещё одна деталь: ошибка повторяется после перезагрузки." : "Не открывается отчёт по продажам, ошибка 500.",
    TechnicalDetails = planned.Channel == "api" ? new Dictionary<string, string> { ["appVersion"] = "5.2.1", ["os"] = "Windows 11" } : null,
};

internal sealed record Planned(string Channel, int FollowUpOf, string Sender);

internal sealed class NoOpSender(string channel) : IOutboundSender
{
    public string Channel => channel;

    public Task<DeliveryReceipt> SendAsync(OutboundMessage message, CancellationToken cancellationToken) => Task.FromResult(new DeliveryReceipt(null));
}
