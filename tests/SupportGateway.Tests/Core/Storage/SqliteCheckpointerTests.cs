using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using SupportGateway.Core.Storage;

namespace SupportGateway.Tests.Core.Storage;

/// <summary>
/// The SQLite log under writes that never pause: the background checkpoints alone never copy the last commit, so only
/// <see cref="SqliteCheckpointer"/> holding the writer for a moment lets the log start over.
/// </summary>
public sealed class SqliteCheckpointerTests
{
    [Test]
    public async Task The_log_starts_over_while_commits_follow_each_other_without_a_pause()
    {
        var directory = Directory.CreateTempSubdirectory("sg-wal-");
        var database = new Database(new StorageOptions { Provider = "sqlite", ConnectionString = $"Data Source={Path.Combine(directory.FullName, "wal.db")}" });
        try
        {
            await using (var connection = await database.OpenAsync(CancellationToken.None))
                await connection.ExecuteAsync("PRAGMA journal_mode=WAL; CREATE TABLE rows (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
            const int RestartAt = 4000;
            var checkpointer = new SqliteCheckpointer(database, new StorageAvailability(database, TimeProvider.System, NullLogger<StorageAvailability>.Instance),
                TimeProvider.System, NullLogger<SqliteCheckpointer>.Instance) { RestartAt = RestartAt };
            await checkpointer.StartAsync(CancellationToken.None);

            // One writer committing back to back: the writer is free only between two commits.
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(4));
            var body = new string('x', 500);
            var writes = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    await using var session = await database.BeginAsync(CancellationToken.None);
                    await session.Connection.ExecuteAsync("INSERT INTO rows (body) VALUES (@body)", new { body }, session.Transaction);
                    await session.CommitAsync(CancellationToken.None);
                }
            });
            var frames = new List<long> { 0 };
            while (!writes.IsCompleted)
            {
                await Task.Delay(50);
                // Counting the frames is itself a PASSIVE pass (it finds the log busy, -1, while the checkpointer copies).
                frames.Add((await checkpointer.CheckpointAsync("PASSIVE", CancellationToken.None)).Log);
            }
            await writes;
            await checkpointer.StopAsync(CancellationToken.None);

            await using var check = await database.OpenAsync(CancellationToken.None);
            var written = await check.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM rows");
            TestContext.Out.WriteLine($"{written} commits; log frames seen: max {frames.Max()}, {frames.Count(f => f < RestartAt / 4)} of {frames.Count} samples just after a restart");
            Assert.That(written, Is.GreaterThan(2000), "the writes filled the log many times over");
            // SQLite's own threshold is 100,000 frames: the log never waited for it, in the commit that crossed it.
            Assert.That(frames.Max(), Is.LessThan(100_000), "the log starts over long before SQLite's own checkpoint would run in a commit");
            Assert.That(frames.Skip(1).Zip(frames).Count(pair => pair.First < pair.Second), Is.GreaterThanOrEqualTo(2), "the log started over more than once");
        }
        finally
        {
            await database.DisposeAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            directory.Delete(recursive: true);
        }
    }
}
