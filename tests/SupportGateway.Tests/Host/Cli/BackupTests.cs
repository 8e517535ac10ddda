using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Microsoft.Data.Sqlite;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Cli;

/// <summary><c>backup --to FILE</c> on the real process, while requests keep coming in.</summary>
[NonParallelizable]
public sealed class BackupTests
{
    private string _directory = "";

    [SetUp]
    public void SetUp() => _directory = TempDirectory.Create();

    [TearDown]
    public void TearDown() => TempDirectory.Delete(_directory);

    [Test]
    public async Task A_backup_taken_during_ingest_opens_with_every_committed_ticket()
    {
        var port = GatewayProcess.FreePort();
        var address = new Uri($"http://127.0.0.1:{port}");
        var env = GatewayProcess.Environment(_directory, port);
        // Ingest as fast as the gateway takes it, for as long as the backup runs: more than the per-key limit allows.
        env["SupportGateway__Limits__IntakePerKey__Permits"] = "1000000";
        using var gateway = GatewayProcess.Start(_directory, env);
        await gateway.WaitHealthyAsync(address, TimeSpan.FromSeconds(60));

        using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Add("X-Api-Key", GatewayFactory.IntakeKey);
        var accepted = new ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource();
        var ingest = Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                using var response = await client.PostAsJsonAsync("/api/v1/requests",
                    new { description = $"backup during ingest {worker}-{i}", contact = new { externalId = $"backup-{worker}" } });
                Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created));
                accepted.Enqueue((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ticketNumber").GetString()!);
            }
        })).ToList();
        await Eventually.HoldsAsync(() => Task.FromResult(accepted.Count >= 100), 60, () => $"{accepted.Count} accepted");

        // Every ticket answered 201 before the backup starts is committed: the copy must hold each of them.
        var committed = accepted.ToArray();
        var file = Path.Combine(_directory, "backups", "gateway-backup.db");
        var (exit, output) = await GatewayProcess.RunAsync(_directory, env, "backup", "--to", file);
        var acceptedDuring = accepted.Count - committed.Length;
        await stop.CancelAsync();
        await Task.WhenAll(ingest);

        Assert.That(exit, Is.Zero, output);
        await using var copy = new SqliteConnection($"Data Source={file};Mode=ReadOnly;Pooling=False");
        await copy.OpenAsync();
        Assert.That(await copy.ExecuteScalarAsync<string>("PRAGMA integrity_check"), Is.EqualTo("ok"));
        var numbers = (await copy.QueryAsync<string>("SELECT number FROM tickets")).ToHashSet(StringComparer.Ordinal);
        Assert.That(committed.Where(n => !numbers.Contains(n)), Is.Empty, "tickets committed before the backup and missing from it");
        Assert.That(output.Trim(), Is.EqualTo($"Backed up {numbers.Count} tickets to {file} ({new FileInfo(file).Length:N0} bytes); " +
            "the copy opens and passes SQLite's integrity check."));
        Assert.That(File.Exists(file + ".partial"), Is.False);
        TestContext.Out.WriteLine($"{committed.Length} accepted before the backup, {acceptedDuring} while it ran; the copy holds {numbers.Count}");
        Assert.That(acceptedDuring, Is.Positive, "ingest went on while the backup ran");
    }

    [Test]
    public async Task Backup_refuses_to_overwrite_and_names_a_missing_database()
    {
        var env = GatewayProcess.Environment(_directory);
        var (exit, output) = await GatewayProcess.RunAsync(_directory, env, "backup", "--to", Path.Combine(_directory, "b.db"));
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(output.Trim(), Does.StartWith("error: there is no database at ").And.Contain("gateway.db"));

        (exit, output) = await GatewayProcess.RunAsync(_directory, env, "dead-letters", "list");
        Assert.That(exit, Is.Zero, output);
        File.WriteAllText(Path.Combine(_directory, "b.db"), "keep me");
        (exit, output) = await GatewayProcess.RunAsync(_directory, env, "backup", "--to", Path.Combine(_directory, "b.db"));
        Assert.That((exit, output.Trim()), Is.EqualTo((2, $"error: {Path.Combine(_directory, "b.db")} exists; name a new file.")));
        Assert.That(File.ReadAllText(Path.Combine(_directory, "b.db")), Is.EqualTo("keep me"));
    }
}
