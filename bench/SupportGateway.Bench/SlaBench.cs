using System.Diagnostics;
using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SupportGateway.Core;
using SupportGateway.Core.Outbox;
using SupportGateway.Core.Pipeline;
using SupportGateway.Core.Sla;
using SupportGateway.Core.Storage;

/// <summary>
/// The SLA scheduler beside ingest: a scan over many open tickets (what is due, when to wake next), and the ingest
/// throughput while the scheduler works through a backlog of due tickets, A/B against it idle, in one run.
/// </summary>
internal static class SlaBench
{
    public static async Task<int> RunAsync(int openTickets, int messages, int dueTickets)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"sg-sla-bench-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["SupportGateway:Storage:ConnectionString"] = $"Data Source={Path.Combine(directory, "bench.db")}",
            ["SupportGateway:Sla:CalendarDirectory"] = "",
        });
        builder.Logging.AddConsole().SetMinimumLevel(LogLevel.Warning);
        builder.AddTicketCore();
        builder.Services.AddSingleton<IOutboundSender>(new NoOpSender("api"));
        using var host = builder.Build();
        await host.StartAsync();
        var services = host.Services;
        var database = services.GetRequiredService<Database>();
        var scheduler = services.GetServices<IHostedService>().OfType<SlaScheduler>().Single();
        Console.WriteLine($"SupportGateway SLA benchmark: {openTickets} open tickets, {Environment.ProcessorCount} cores, SQLite WAL");

        var seeding = Stopwatch.StartNew();
        await SeedAsync(database, openTickets);
        Console.WriteLine($"seeded {openTickets} open tickets in {seeding.Elapsed.TotalSeconds:F1} s");

        // The scan: what is due now (nothing), and how long to sleep; both read the index, never the tickets.
        var scans = new double[200];
        for (var i = 0; i < scans.Length; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await scheduler.RunDueAsync(CancellationToken.None);
            await scheduler.SleepAsync(CancellationToken.None);
            scans[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }
        Array.Sort(scans);
        Console.WriteLine($"scan over {openTickets} open tickets (due now + next wake-up): p50 {scans[100]:F3} ms, p99 {scans[197]:F3} ms, max {scans[^1]:F3} ms");

        var processor = services.GetRequiredService<InboundProcessor>();
        await IngestAsync(processor, 2_000); // warm-up
        var idle = new List<double>();
        var busy = new List<double>();
        var handled = new List<int>();
        for (var round = 0; round < 2; round++)
        {
            idle.Add(await IngestAsync(processor, messages));
            var before = await EventsAsync(database);
            await MakeDueAsync(database, dueTickets);
            services.GetRequiredService<SlaSignal>().Notify();
            busy.Add(await IngestAsync(processor, messages));
            handled.Add(await EventsAsync(database) - before);
            // The scheduler finishes the backlog alone before the next idle round: its own pace, for comparison.
            var alone = Stopwatch.StartNew();
            var start = await EventsAsync(database);
            while (await scheduler.RunDueAsync(CancellationToken.None) > 0) { }
            var drained = await EventsAsync(database) - start;
            Console.WriteLine($"round {round + 1}: with ingest stopped the scheduler did the remaining {drained} due tickets at {drained / alone.Elapsed.TotalSeconds:F0} tickets/s");
        }
        for (var round = 0; round < 2; round++)
            Console.WriteLine($"round {round + 1}: ingest with the scheduler idle {idle[round]:F0} messages/s, busy {busy[round]:F0} messages/s " +
                $"(it handled {handled[round]} due tickets meanwhile)");
        var ratio = busy.Sum() / idle.Sum();
        Console.WriteLine($"ingest with the scheduler busy: {ratio:P1} of idle ({busy.Average():F0} vs {idle.Average():F0} messages/s)");

        await host.StopAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
        return 0;
    }

    /// <summary>Open medium tickets on the built-in 24x7 policy, registered over the last day, next instants spread over two days ahead.</summary>
    private static async Task SeedAsync(Database database, int count)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await using var session = await database.BeginAsync(CancellationToken.None);
        var contact = await session.Connection.ExecuteScalarAsync<long>(
            "INSERT INTO contacts (name, email, created_at) VALUES ('Bench', 'bench@example.com', @now) RETURNING id", new { now }, session.Transaction);
        var random = new Random(7);
        for (var i = 0; i < count; i++)
        {
            var created = now - random.NextInt64(0, 24 * 3_600_000L);
            await session.Connection.ExecuteAsync("""
                INSERT INTO tickets (id, number, subject, status, priority, type, requester_id, channel, language, created_at, updated_at,
                    sla_policy, sla_due_at, sla_warn_at, sla_next_at)
                VALUES (@id, @number, 'Bench', 'in_progress', 'medium', 'incident', @contact, 'api', 'en', @created, @created,
                    'standard', @due, @warn, @warn)
                """, new { id = 1_000_000 + i, number = $"B-{i}", contact, created, due = created + 48 * 3_600_000L, warn = created + 36 * 3_600_000L },
                session.Transaction);
        }
        await session.CommitAsync(CancellationToken.None);
    }

    /// <summary>Tickets whose warning is due now: registered 40 hours ago, so 75 % of 48 h has passed.</summary>
    private static async Task MakeDueAsync(Database database, int count)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await using var session = await database.BeginAsync(CancellationToken.None);
        await session.Connection.ExecuteAsync("""
            UPDATE tickets SET created_at = @created, sla_next_at = @now
            WHERE id IN (SELECT id FROM tickets WHERE number LIKE 'B-%' AND id NOT IN (SELECT ticket_id FROM sla_events) LIMIT @count)
            """, new { created = now - 40 * 3_600_000L, now, count }, session.Transaction);
        await session.CommitAsync(CancellationToken.None);
    }

    private static async Task<int> EventsAsync(Database database)
    {
        await using var connection = await database.OpenAsync(CancellationToken.None);
        return await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM sla_events");
    }

    /// <summary>New requests through the real pipeline, four at a time; returns messages per second.</summary>
    private static async Task<double> IngestAsync(InboundProcessor processor, int count)
    {
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref next) < count)
            {
                var sender = Guid.NewGuid().ToString("N");
                var result = await processor.IngestAsync(new InboundMessage
                {
                    Channel = "api", ExternalId = sender,
                    Sender = new SenderIdentity { Identity = sender, Name = "Bench User", Email = $"{sender}@example.com" },
                    Hints = new ThreadHints { StartNew = true, ReplyAddress = sender },
                    Text = "Не открывается отчёт по продажам, ошибка 500.",
                }, CancellationToken.None);
                if (result.Outcome != IngestOutcome.Created)
                    throw new InvalidOperationException($"{result.Outcome} {result.Error}");
            }
        })));
        return count / clock.Elapsed.TotalSeconds;
    }
}
