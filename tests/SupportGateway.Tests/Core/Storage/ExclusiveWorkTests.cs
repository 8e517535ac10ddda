using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using SupportGateway.Core.Storage;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Core.Storage;

/// <summary>Work that must run once: one holder across instances on PostgreSQL, moved within 10 s when the holder goes.</summary>
public sealed class ExclusiveWorkTests
{
    private const string Name = "mailbox:test/INBOX";

    [Test]
    public async Task On_sqlite_the_work_always_runs()
    {
        await using var database = await TestDatabase.CreateAsync(StorageEngine.Sqlite);
        await using var engine = Engine(database);
        var work = new ExclusiveWork(engine, NullLogger<ExclusiveWork>.Instance);
        var ran = 0;
        await work.RunAsync(Name, _ => Task.FromResult(Interlocked.Increment(ref ran)), CancellationToken.None);
        Assert.That(ran, Is.EqualTo(1), "the work ran and, once it returned, was over");
    }

    [Test]
    public async Task Work_runs_on_one_instance_and_moves_within_10_s_when_its_holder_stops()
    {
        await using var database = await TestDatabase.CreateAsync(StorageEngine.Postgres);
        await using var first = new Instance(database);
        await using var second = new Instance(database);

        await Eventually.HoldsAsync(() => Task.FromResult(first.Running + second.Running == 1), 10, () => $"running: {first.Running}, {second.Running}");
        var (holder, other) = first.Running == 1 ? (first, second) : (second, first);
        // The other instance may not have asked for the lock yet when the holder starts.
        await Eventually.HoldsAsync(() => Task.FromResult(other.Work.Snapshot().SequenceEqual([(Name, false)])), 10, () => "the other instance waits for it");
        Assert.That(holder.Work.Snapshot(), Is.EqualTo(new[] { (Name, true) }));

        await holder.StopAsync();
        await Eventually.HoldsAsync(() => Task.FromResult(other.Running == 1), 10, () => "the waiting instance never took the work");
        Assert.That(holder.Work.Snapshot(), Is.Empty, "the stopped instance holds and waits for nothing");
        Assert.That(holder.Started + other.Started, Is.EqualTo(2), "started once on each, never on both at once");
    }

    [Test]
    public async Task A_holder_whose_lock_connection_breaks_stops_the_work_and_another_takes_it()
    {
        await using var database = await TestDatabase.CreateAsync(StorageEngine.Postgres);
        var cluster = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        // The holder reaches PostgreSQL through a relay, so its connection can break as a dead machine's does.
        await using var relay = new TcpRelay(cluster.Host!, cluster.Port);
        var relayed = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Host = "127.0.0.1", Port = relay.Port }.ConnectionString;
        await using var holder = new Instance(database, relayed);
        await Eventually.HoldsAsync(() => Task.FromResult(holder.Running == 1), 10, () => "the first instance never took the work");
        await using var other = new Instance(database);
        await Eventually.HoldsAsync(() => Task.FromResult(other.Work.Snapshot().Count == 1), 10);
        Assert.That(other.Running, Is.Zero);

        await relay.DisposeAsync();
        await Eventually.HoldsAsync(() => Task.FromResult(holder.Running == 0), 10, () => "the holder kept working without its lock");
        await Eventually.HoldsAsync(() => Task.FromResult(other.Running == 1), 10, () => "the other instance never took the work");
    }

    private static Database Engine(TestDatabase database, string? connectionString = null) =>
        new(new StorageOptions { Provider = database.Provider, ConnectionString = connectionString ?? database.ConnectionString });

    /// <summary>One gateway instance's share of the work: runs until its token is cancelled, counting starts.</summary>
    private sealed class Instance : IAsyncDisposable
    {
        private readonly Database _database;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private int _running;
        private int _started;

        public Instance(TestDatabase database, string? connectionString = null)
        {
            _database = Engine(database, connectionString);
            Work = new ExclusiveWork(_database, NullLogger<ExclusiveWork>.Instance) { RetryInterval = TimeSpan.FromMilliseconds(500) };
            _loop = Work.RunAsync(Name, RunAsync, _stop.Token);
        }

        public ExclusiveWork Work { get; }

        public int Running => Volatile.Read(ref _running);

        public int Started => Volatile.Read(ref _started);

        private async Task RunAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _started);
            Interlocked.Increment(ref _running);
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            finally
            {
                Interlocked.Decrement(ref _running);
            }
        }

        public async Task StopAsync()
        {
            await _stop.CancelAsync();
            await _loop;
        }

        public async ValueTask DisposeAsync()
        {
            await StopAsync();
            await _database.DisposeAsync();
        }
    }
}
