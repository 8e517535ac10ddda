using System.Diagnostics;
using System.Globalization;
using Npgsql;

/// <summary>
/// Issue 15's scaling benchmark, in one run: PostgreSQL's commit ceiling (bare one-row transactions, and transactions of
/// the ingest's own shape, <see cref="CommitCeiling"/>), then intake over HTTP into the real gateway executable on
/// SQLite, on PostgreSQL with one instance, and with one, two and three instances behind nginx (each PostgreSQL setup
/// on a fresh database). Gateway CPU is the instances' own; PostgreSQL's is read from /proc for the server's processes
/// (the postmaster's reaped children included), so it needs the server on this machine.
/// </summary>
internal static class ScalingBench
{
    private const string ApiKey = "scaling-bench-intake-key";

    /// <param name="Bound">The messages per second these cores could carry at the CPU each message cost (gateways, PostgreSQL
    /// and the load generator, nginx left out): a setup near its bound is held by CPU, one far below it waits on something.</param>
    /// <param name="Transactions">PostgreSQL transactions per message (its statistics for the database), with statements per
    /// message where pg_stat_statements is loaded: how many round trips and commits one message costs the server.</param>
    private sealed record Row(string Setup, ScalingLoad.Result Load, double GatewayCpu, double? PostgresCpu, double LoadCpu, bool OnPostgres,
        string? Transactions = null)
    {
        public double Bound => Environment.ProcessorCount * 1_000_000.0 / (GatewayCpu + (PostgresCpu ?? 0) + LoadCpu);
    }

    /// <summary>The setups, by the names <c>--setups</c> takes: instances, and whether nginx is in front.</summary>
    private static readonly (string Name, int Instances, bool Nginx, bool Postgres)[] Setups =
        [("sqlite", 1, false, false), ("pg1", 1, false, true), ("pg1-nginx", 1, true, true), ("pg2-nginx", 2, true, true), ("pg3-nginx", 3, true, true)];

    public static async Task<int> RunAsync(string server, int seconds, int connections, int clients, string? gateway, string[]? only = null)
    {
        if (only?.FirstOrDefault(name => Setups.All(s => s.Name != name)) is { } unknown)
        {
            Console.Error.WriteLine($"scaling bench: no setup '{unknown}' (use {string.Join(", ", Setups.Select(s => s.Name))})");
            return 2;
        }
        var hostDll = gateway is { Length: > 0 } ? Path.GetFullPath(gateway) : Path.Combine(BenchPaths.Root, "src/SupportGateway.Host/bin/Release/net10.0/SupportGateway.Host.dll");
        if (!File.Exists(hostDll) || !File.Exists("/usr/sbin/nginx"))
        {
            Console.Error.WriteLine($"scaling bench: needs {hostDll} (dotnet build -c Release) and /usr/sbin/nginx (apt-get install nginx)");
            return 2;
        }
        var postgres = await PostgresCpu.FindAsync(server);
        Console.WriteLine($"SupportGateway scaling benchmark: {Environment.ProcessorCount} cores shared by the load, the gateways, nginx and PostgreSQL; " +
            $"{connections} HTTP connections, {seconds} s per setup after {Math.Max(3, seconds / 2)} s of warm-up per instance; gateway {hostDll}");
        Console.WriteLine(postgres is null ? "PostgreSQL CPU: not readable (the server is not on this machine)" : $"PostgreSQL CPU: from /proc of postmaster {postgres.Postmaster} and its children");

        // 1. The ceiling, on a scratch database where the capture ingests through the real stores; measured again after
        // the setups, and read as the mean of both: on this machine it moved by a third between runs minutes apart.
        var before = await CeilingAsync(server, clients, TimeSpan.FromSeconds(Math.Max(3, seconds / 2)), postgres);

        // 2. Intake over HTTP.
        var rows = new List<Row>();
        var warmup = TimeSpan.FromSeconds(Math.Max(3, seconds / 2));
        foreach (var (name, instances, behindNginx, onPostgres) in Setups.Where(s => only is null || only.Contains(s.Name)))
        {
            if (!onPostgres)
            {
                rows.Add(await SetupAsync("SQLite, 1 instance", hostDll, null, 1, nginx: false, connections, warmup, seconds, null));
                continue;
            }
            var database = await ScratchDatabase.CreateAsync(server);
            try
            {
                rows.Add(await SetupAsync($"PostgreSQL, {instances} instance{(instances > 1 ? "s" : "")}{(behindNginx ? " behind nginx" : "")}", hostDll,
                    database.ConnectionString, instances, behindNginx, connections, warmup, seconds, postgres));
            }
            finally
            {
                await database.DropAsync();
            }
        }

        var after = await CeilingAsync(server, clients, TimeSpan.FromSeconds(Math.Max(3, seconds / 2)), postgres);
        Console.WriteLine();
        Console.WriteLine($"PostgreSQL commit ceiling, {clients} clients, before and after the setups: {before.OneRow:F0} and {after.OneRow:F0}/s one-row transactions; " +
            $"transactions of the ingest's shape {before.Statements:F0} and {after.Statements:F0}/s statement by statement, " +
            $"{before.RoundTrips:F0} and {after.RoundTrips:F0}/s in the gateway's round trips");
        // Read against the mean of both: on this machine the ceiling moved by a third between runs minutes apart.
        var (statements, roundTrips) = ((before.Statements + after.Statements) / 2, (before.RoundTrips + after.RoundTrips) / 2);
        Console.WriteLine($"read against their means: {statements:F0}/s statement by statement, {roundTrips:F0}/s in the gateway's round trips");
        Console.WriteLine($"{"setup",-38} {"msg/s",7} {"p50 ms",7} {"p99 ms",7} {"gw CPU µs/msg",14} {"pg CPU µs/msg",14} {"load µs/msg",12} {"CPU bound",10} {"of ceiling",16}  pg per msg");
        foreach (var row in rows)
        {
            Console.WriteLine($"{row.Setup,-38} {row.Load.Rate,7:F0} {row.Load.P50,7:F1} {row.Load.P99,7:F1} {row.GatewayCpu,14:F0} " +
                $"{(row.PostgresCpu is { } pg ? pg.ToString("F0", CultureInfo.InvariantCulture) : "-"),14} {row.LoadCpu,12:F0} {row.Bound,10:F0} " +
                $"{(row.OnPostgres ? $"{row.Load.Rate / statements:P0} / {row.Load.Rate / roundTrips:P0}" : "-"),16}  {row.Transactions ?? "-"}" +
                (row.Load.Failures > 0 ? $"  {row.Load.Failures} failed, first: {row.Load.FirstFailure}" : ""));
        }
        Console.WriteLine("(of ceiling: of the ingest's shape sent statement by statement / in the gateway's own round trips)");
        if (rows.FirstOrDefault(r => r.Setup == "PostgreSQL, 1 instance") is { } one)
        {
            var single = one.Load.Rate;
            var several = rows.Where(r => r.Setup.Contains("instances", StringComparison.Ordinal)).Select(r => r.Load.Rate).DefaultIfEmpty(double.NaN).Min();
            Console.WriteLine($"acceptance: one instance reaches {single / statements:P0} of the ceiling statement by statement and {single / roundTrips:P0} of it " +
                $"in the gateway's round trips (bar 50%); two and three instances reach {several / single:P0} of one (bar 100%)");
            // What the bar asks of these cores: the ceiling's transactions cost PostgreSQL and its clients alone, where an
            // ingested message also costs the gateway's HTTP, JSON and ticket work on the same two cores.
            Console.WriteLine($"on these {Environment.ProcessorCount} cores one instance on PostgreSQL can carry at most {one.Bound:F0} messages/s at the CPU a message costs " +
                $"({one.Bound / roundTrips:P0} of the ceiling in the gateway's round trips); it reached {single / one.Bound:P0} of that");
        }
        return rows.All(r => r.Load.Failures == 0) ? 0 : 1;
    }

    /// <summary>Transactions per second: one-row ones, and the ingest's shape sent statement by statement and in the gateway's round trips.</summary>
    private sealed record Ceiling(double OneRow, double Statements, double RoundTrips);

    private static async Task<Ceiling> CeilingAsync(string server, int clients, TimeSpan duration, PostgresCpu? postgres)
    {
        var database = await ScratchDatabase.CreateAsync(server);
        try
        {
            Console.WriteLine("capturing what one ingest sends: new requests and follow-ups through the real stores on a scratch database …");
            var (newRequest, followUp) = await CommitCeiling.CaptureAsync(database.ConnectionString, 200);
            Console.WriteLine($"  {newRequest.Summary}");
            Console.WriteLine($"  {followUp.Summary}");
            // The gateway's own data source settings (statements prepared automatically).
            await using var source = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(database.ConnectionString) { MaxAutoPrepare = 128, AutoPrepareMinUsages = 2 }.ConnectionString);
            var ceiling = await CommitCeiling.PrepareAsync(source, newRequest, followUp);
            var results = new Dictionary<CommitCeiling.Mode, double>();
            foreach (var mode in Enum.GetValues<CommitCeiling.Mode>())
            {
                await ceiling.MeasureAsync(source, clients, TimeSpan.FromSeconds(2), mode);
                var cpu = postgres?.Read();
                var (clock, ownCpu) = (Stopwatch.StartNew(), Process.GetCurrentProcess().TotalProcessorTime);
                var rate = results[mode] = await ceiling.MeasureAsync(source, clients, duration, mode);
                var transactions = rate * clock.Elapsed.TotalSeconds;
                var pgCpu = postgres is null || cpu is null ? "" : $", PostgreSQL CPU {(postgres.Read() - cpu.Value) / transactions:F0} µs per transaction";
                var clientCpu = $", client CPU {(Process.GetCurrentProcess().TotalProcessorTime - ownCpu).TotalMicroseconds / transactions:F0} µs";
                Console.WriteLine($"ceiling, {mode switch
                {
                    CommitCeiling.Mode.OneRow => "one-row transactions",
                    CommitCeiling.Mode.Statements => "the ingest's shape (60% new, 40% follow-ups) statement by statement",
                    _ => "the ingest's shape in the gateway's round trips",
                }} from {clients} clients: {rate:F0}/s{pgCpu}{clientCpu}");
            }
            return new Ceiling(results[CommitCeiling.Mode.OneRow], results[CommitCeiling.Mode.Statements], results[CommitCeiling.Mode.RoundTrips]);
        }
        finally
        {
            await database.DropAsync();
        }
    }

    private static async Task<Row> SetupAsync(string setup, string hostDll, string? postgres, int instances, bool nginx, int connections, TimeSpan warmup, int seconds,
        PostgresCpu? postgresCpu)
    {
        Console.WriteLine($"{setup}: starting …");
        var directory = Directory.CreateTempSubdirectory("sg-scaling-");
        var gateways = new List<GatewayProcess>();
        NginxProcess? balancer = null;
        try
        {
            // Started one after the other: the first runs the migrations, the others find them done.
            for (var i = 0; i < instances; i++)
                gateways.Add(await GatewayProcess.StartAsync(hostDll, directory.FullName, postgres, ApiKey));
            if (nginx)
                balancer = await NginxProcess.StartAsync(directory.FullName, gateways.Select(g => g.Port));
            var port = balancer?.Port ?? gateways[0].Port;
            using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
            {
                BaseAddress = new Uri($"http://127.0.0.1:{port}"),
                Timeout = TimeSpan.FromSeconds(60),
            };
            var load = new ScalingLoad(client, ApiKey);
            // Each instance gets its share of the load, so each needs as long again to see as many requests before the
            // JIT has compiled and tiered up what it runs: 5 s of warm-up left a single instance at 600-650 messages/s
            // and 20 s at 880, and three instances would otherwise be measured while still compiling.
            await load.RunAsync(connections, warmup * instances, $"{setup} warm-up", Console.WriteLine);
            var gatewayCpu = gateways.Sum(g => g.Cpu);
            var pgCpu = postgres is null ? null : postgresCpu?.Read();
            var activity = postgres is null ? null : await PostgresActivity.ReadAsync(postgres);
            var ownCpu = Process.GetCurrentProcess().TotalProcessorTime;
            var result = await load.RunAsync(connections, TimeSpan.FromSeconds(seconds), setup, Console.WriteLine);
            var loadPerMessage = (Process.GetCurrentProcess().TotalProcessorTime - ownCpu).TotalMicroseconds / Math.Max(1, result.Messages);
            var perMessage = (gateways.Sum(g => g.Cpu) - gatewayCpu) / Math.Max(1, result.Messages);
            double? pgPerMessage = pgCpu is { } before ? (postgresCpu!.Read() - before) / Math.Max(1, result.Messages) : null;
            var transactions = activity is null ? null : (await PostgresActivity.ReadAsync(postgres!)).PerMessage(activity, result.Messages);
            Console.WriteLine($"{setup}: {result.Rate:F0} messages/s, p50 {result.P50:F1} ms, p99 {result.P99:F1} ms, gateway CPU {perMessage:F0} µs/message" +
                (pgPerMessage is { } pg ? $", PostgreSQL CPU {pg:F0} µs/message" : "") + (result.Failures > 0 ? $"; {result.Failures} failed, first: {result.FirstFailure}" : ""));
            if (transactions is not null)
                Console.WriteLine($"{setup}: PostgreSQL per message: {transactions}");
            return new Row(setup, result, perMessage, pgPerMessage, loadPerMessage, postgres is not null, transactions);
        }
        finally
        {
            balancer?.Dispose();
            foreach (var gateway in gateways)
                gateway.Dispose();
            NpgsqlConnection.ClearAllPools();
            directory.Delete(recursive: true);
        }
    }
}

/// <summary>
/// What the server did for one database: transactions from its statistics, and statements where pg_stat_statements is
/// loaded (<c>shared_preload_libraries</c>). Each backend reports its counts when it goes idle, within a second.
/// </summary>
internal sealed record PostgresActivity(long Transactions, long? Statements)
{
    public static async Task<PostgresActivity> ReadAsync(string connectionString)
    {
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // the backends' reports of the last second
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var transactions = new NpgsqlCommand("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()", connection);
        var count = Convert.ToInt64(await transactions.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
        long? statements = null;
        try
        {
            await using (var extension = new NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", connection))
                await extension.ExecuteNonQueryAsync();
            await using var calls = new NpgsqlCommand("""
                SELECT COALESCE(SUM(calls), 0) FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = current_database()
                """, connection);
            statements = Convert.ToInt64(await calls.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
        }
        catch (PostgresException)
        {
            // pg_stat_statements is not loaded or its view not created: transactions only.
        }
        return new PostgresActivity(count, statements);
    }

    /// <summary>Transactions (and statements) per message since <paramref name="before"/>.</summary>
    public string PerMessage(PostgresActivity before, long messages)
    {
        var perMessage = (double)(Transactions - before.Transactions) / Math.Max(1, messages);
        return $"{perMessage:F1} transactions" + (Statements - before.Statements is { } statements ? $", {(double)statements / Math.Max(1, messages):F1} statements" : "");
    }
}
