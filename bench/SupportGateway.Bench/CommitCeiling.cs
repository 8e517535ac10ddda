using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using SupportGateway.Core;
using SupportGateway.Core.Pipeline;

/// <summary>
/// PostgreSQL's commit ceiling for transactions of the same shape as the gateway's ingest. The shape is captured, not
/// written down: the real stores ingest new requests and follow-ups in this process on a scratch database while an
/// <see cref="ActivityListener"/> on Npgsql records every round trip each ingest sends (a batch is one, with several
/// statements). Each statement is then replayed
/// as one of the same kind on a copy of the same table (same columns, same indexes, none of them unique and no foreign
/// keys, so a copied row can be inserted again), with values from the rows the ingest wrote: an INSERT of such a row,
/// an UPDATE of the same columns by the same key, a SELECT by the same key column, nextval on a sequence. Without
/// foreign-key checks and unique probes the ceiling is a little above what the real statements could reach.
/// </summary>
internal sealed partial class CommitCeiling
{
    private readonly List<List<Step>> _newRequest;
    private readonly List<List<Step>> _followUp;

    private CommitCeiling(List<List<Step>> newRequest, List<List<Step>> followUp) => (_newRequest, _followUp) = (newRequest, followUp);

    /// <summary>How the ceiling's clients send a transaction.</summary>
    public enum Mode
    {
        /// <summary>One INSERT of one row.</summary>
        OneRow,

        /// <summary>The ingest's statements one round trip each, behind a savepoint, as a pgbench script sends them.</summary>
        Statements,

        /// <summary>The ingest's statements in the round trips the gateway groups them in.</summary>
        RoundTrips,
    }

    /// <summary>What one ingest sends, in order: its round trips, each the statements' text as the stores run them.</summary>
    public sealed record Shape(string Name, IReadOnlyList<IReadOnlyList<string>> RoundTrips)
    {
        /// <summary>The statements, without the savepoint the processor keeps around each payload.</summary>
        public IEnumerable<string> Statements => RoundTrips.SelectMany(r => r).Where(s => !IsSavepoint(s));

        public string Summary => $"{Name}: {Statements.Count()} statements in {RoundTrips.Count} round trips before the commit " +
            $"({string.Join(", ", Statements.Select(Describe).GroupBy(s => s).Select(g => g.Count() > 1 ? $"{g.Key} ×{g.Count()}" : g.Key))})";
    }

    private static bool IsSavepoint(string sql) =>
        sql.StartsWith("SAVEPOINT ", StringComparison.Ordinal) || sql.StartsWith("RELEASE SAVEPOINT ", StringComparison.Ordinal);

    private sealed record Step(string Sql, string? Table, string? KeyColumn, string[] Columns);

    /// <summary>Ingests <paramref name="count"/> new requests and as many follow-ups through the real stores and records the last of each.</summary>
    public static async Task<(Shape NewRequest, Shape FollowUp)> CaptureAsync(string connectionString, int count)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["SupportGateway:Storage:Provider"] = "postgresql",
            ["SupportGateway:Storage:ConnectionString"] = connectionString,
        });
        builder.Logging.AddConsole().SetMinimumLevel(LogLevel.Warning);
        builder.AddTicketCore();
        using var host = builder.Build();
        await host.StartAsync();
        var processor = host.Services.GetRequiredService<InboundProcessor>();
        // Only the statements sent in the flow of the ingest being recorded: the outbox dispatcher and the scheduler run beside it.
        var recording = new AsyncLocal<List<IReadOnlyList<string>>?>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                // A batch is recorded as its statements joined by ";" and a line end.
                if (recording.Value is { } list && StatementOf(activity) is { } sql)
                    list.Add(sql.Split(";" + Environment.NewLine));
            },
        };
        ActivitySource.AddActivityListener(listener);
        var (tickets, lastNew, lastFollowUp) = (new List<(string Number, string Contact)>(), new List<IReadOnlyList<string>>(), new List<IReadOnlyList<string>>());
        for (var i = 0; i < count; i++)
        {
            var contact = $"capture-{i}@example.com";
            recording.Value = lastNew = [];
            var result = await processor.IngestAsync(ScalingLoad.NewRequest(contact), CancellationToken.None);
            recording.Value = null;
            tickets.Add((result.TicketNumber ?? throw new InvalidOperationException($"capture: {result.Outcome} {result.Error}"), contact));
        }
        foreach (var (number, contact) in tickets)
        {
            recording.Value = lastFollowUp = [];
            var result = await processor.IngestAsync(ScalingLoad.FollowUp(number, contact), CancellationToken.None);
            recording.Value = null;
            if (result.Outcome != IngestOutcome.Appended)
                throw new InvalidOperationException($"capture follow-up: {result.Outcome} {result.Error}");
        }
        await host.StopAsync();
        return (new Shape("new request", lastNew), new Shape("follow-up", lastFollowUp));
    }

    /// <summary>The text Npgsql recorded for a command (the tag's name moved between versions of the conventions).</summary>
    private static string? StatementOf(Activity activity) =>
        activity.TagObjects.FirstOrDefault(t => t.Key is "db.query.text" or "db.statement").Value as string;

    private static string Describe(string sql) => Classify(sql) switch
    {
        ("nextval", _) => "nextval",
        var (verb, table) => table is null ? verb : $"{verb} {table}",
    };

    private static (string Verb, string? Table) Classify(string sql)
    {
        var text = sql.TrimStart();
        if (text.Contains("nextval(", StringComparison.OrdinalIgnoreCase) && !text.StartsWith("INSERT", StringComparison.OrdinalIgnoreCase))
            return ("nextval", null);
        if (InsertInto().Match(text) is { Success: true } insert)
            return ("INSERT", insert.Groups[1].Value);
        if (UpdateTable().Match(text) is { Success: true } update)
            return ("UPDATE", update.Groups[1].Value);
        if (DeleteFrom().Match(text) is { Success: true } delete)
            return ("DELETE", delete.Groups[1].Value);
        if (FromTable().Match(text) is { Success: true } from)
            return ("SELECT", from.Groups[1].Value);
        return (text.Split(' ', 2)[0].ToUpperInvariant(), null);
    }

    /// <summary>Copies of the tables the shapes touch, filled with the ingest's rows, in the database the capture ran on.</summary>
    public static async Task<CommitCeiling> PrepareAsync(NpgsqlDataSource source, Shape newRequest, Shape followUp)
    {
        var tables = newRequest.Statements.Concat(followUp.Statements).Select(s => Classify(s).Table).OfType<string>().Distinct().ToList();
        var all = newRequest.RoundTrips.Concat(followUp.RoundTrips).SelectMany(r => r).Distinct().ToList();
        foreach (var table in tables)
        {
            var columns = await ColumnsAsync(source, table);
            await ExecuteAsync(source, $"CREATE TABLE ceiling_{table} (LIKE {table} INCLUDING DEFAULTS INCLUDING IDENTITY)");
            await ExecuteAsync(source, $"INSERT INTO ceiling_{table} ({string.Join(", ", columns)}) OVERRIDING SYSTEM VALUE SELECT {string.Join(", ", columns)} FROM {table}");
            await using (var indexes = source.CreateCommand($"SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = '{table}'"))
            {
                var definitions = new List<string>();
                await using (var reader = await indexes.ExecuteReaderAsync())
                    while (await reader.ReadAsync())
                        definitions.Add(reader.GetString(0));
                foreach (var definition in definitions)
                    await ExecuteAsync(source, IndexName().Replace(definition.Replace("CREATE UNIQUE INDEX", "CREATE INDEX", StringComparison.Ordinal), "$1ceiling_$2")
                        .Replace($" ON public.{table} ", $" ON public.ceiling_{table} ", StringComparison.Ordinal));
            }
            await ExecuteAsync(source, $"ANALYZE ceiling_{table}");
        }
        await ExecuteAsync(source, "CREATE SEQUENCE ceiling_numbers");
        await ExecuteAsync(source, "CREATE TABLE ceiling (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at BIGINT NOT NULL, payload TEXT NOT NULL)");
        var steps = new Dictionary<string, Step>(StringComparer.Ordinal);
        foreach (var sql in all)
            steps[sql] = await StepAsync(source, sql);
        return new CommitCeiling([.. newRequest.RoundTrips.Select(r => r.Select(s => steps[s]).ToList())],
            [.. followUp.RoundTrips.Select(r => r.Select(s => steps[s]).ToList())]);
    }

    /// <summary>
    /// Transactions per second from <paramref name="clients"/> concurrent clients for <paramref name="duration"/>:
    /// bare one-row inserts, or the ingest's shapes in the benchmark's mix, sent as <paramref name="mode"/> says.
    /// </summary>
    public async Task<double> MeasureAsync(NpgsqlDataSource source, int clients, TimeSpan duration, Mode mode)
    {
        long done = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(client => Task.Run(async () =>
        {
            var random = new Random(client);
            while (clock.Elapsed < duration)
            {
                await using var connection = await source.OpenConnectionAsync();
                await using var transaction = await connection.BeginTransactionAsync();
                if (mode != Mode.OneRow)
                    await RunShapeAsync(connection, transaction, random.NextDouble() < ScalingLoad.FollowUpShare ? _followUp : _newRequest, mode, random);
                else
                {
                    await using var insert = new NpgsqlCommand("INSERT INTO ceiling (at, payload) VALUES (@at, @payload)", connection, transaction);
                    insert.Parameters.AddWithValue("at", Stopwatch.GetTimestamp());
                    insert.Parameters.AddWithValue("payload", ScalingLoad.Description);
                    await insert.ExecuteNonQueryAsync();
                }
                await transaction.CommitAsync();
                Interlocked.Increment(ref done);
            }
        })));
        return done / clock.Elapsed.TotalSeconds;
    }

    private static async Task RunShapeAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<List<Step>> roundTrips, Mode mode, Random random)
    {
        if (mode == Mode.RoundTrips)
        {
            foreach (var roundTrip in roundTrips)
            {
                await using var batch = new NpgsqlBatch(connection, transaction);
                foreach (var step in roundTrip)
                {
                    var command = new NpgsqlBatchCommand(step.Sql);
                    Bind(command.Parameters, step, random);
                    batch.BatchCommands.Add(command);
                }
                await batch.ExecuteNonQueryAsync();
            }
            return;
        }
        // The processor keeps each payload behind a savepoint (parked alone on failure).
        await transaction.SaveAsync("ingest");
        foreach (var step in roundTrips.SelectMany(r => r).Where(s => !IsSavepoint(s.Sql)))
        {
            await using var command = new NpgsqlCommand(step.Sql, connection, transaction);
            Bind(command.Parameters, step, random);
            await command.ExecuteNonQueryAsync();
        }
        await transaction.ReleaseAsync("ingest");
    }

    /// <summary>Values from one of the rows the ingest wrote to the step's table, picked at random.</summary>
    private static void Bind(NpgsqlParameterCollection parameters, Step step, Random random)
    {
        if (step.Table is null || step.Columns.Length == 0)
            return;
        var values = Samples[step.Table][random.Next(Samples[step.Table].Count)];
        foreach (var (column, i) in step.Columns.Select((c, i) => (c, i)))
            parameters.Add(new NpgsqlParameter($"p{i}", values.TryGetValue(column, out var value) ? value : DBNull.Value));
    }

    private static readonly Dictionary<string, List<Dictionary<string, object>>> Samples = new(StringComparer.Ordinal);

    private static async Task<Step> StepAsync(NpgsqlDataSource source, string sql)
    {
        var (verb, table) = Classify(sql);
        if (verb == "nextval")
            return new Step("SELECT nextval('ceiling_numbers')", null, null, []);
        if (table is null)
            return new Step(sql, null, null, []);
        if (!Samples.ContainsKey(table))
            Samples[table] = await SampleAsync(source, table);
        var key = WhereColumn().Match(sql) is { Success: true } where ? where.Groups[1].Value : null;
        var columns = await ColumnsAsync(source, table, withIdentity: false);
        return verb switch
        {
            "INSERT" => new Step($"INSERT INTO ceiling_{table} ({string.Join(", ", columns)}) VALUES ({string.Join(", ", columns.Select((_, i) => $"@p{i}"))})", table, null, [.. columns]),
            "UPDATE" when key is not null => new Step(
                $"UPDATE ceiling_{table} SET {string.Join(", ", SetColumns(sql).Select(c => $"{c} = {c}"))} WHERE {key} = @p0", table, key, [key]),
            _ when key is not null => new Step($"SELECT * FROM ceiling_{table} WHERE {key} = @p0 LIMIT 10", table, key, [key]),
            _ => new Step($"SELECT * FROM ceiling_{table} LIMIT 1", table, null, []),
        };
    }

    private static IEnumerable<string> SetColumns(string sql) =>
        SetClause().Match(sql) is { Success: true } set ? SetColumn().Matches(set.Groups[1].Value).Select(m => m.Groups[1].Value).Distinct() : ["1"];

    private static async Task<List<Dictionary<string, object>>> SampleAsync(NpgsqlDataSource source, string table)
    {
        var rows = new List<Dictionary<string, object>>();
        await using var command = source.CreateCommand($"SELECT * FROM {table} LIMIT 64");
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            rows.Add(Enumerable.Range(0, reader.FieldCount).ToDictionary(reader.GetName, reader.GetValue, StringComparer.Ordinal));
        return rows.Count > 0 ? rows : [new Dictionary<string, object>(StringComparer.Ordinal)];
    }

    private static async Task<List<string>> ColumnsAsync(NpgsqlDataSource source, string table, bool withIdentity = true)
    {
        await using var command = source.CreateCommand(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = @table AND is_generated = 'NEVER' " +
            "AND (@withIdentity OR is_identity = 'NO') ORDER BY ordinal_position");
        command.Parameters.AddWithValue("table", table);
        command.Parameters.AddWithValue("withIdentity", withIdentity);
        var columns = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            columns.Add(reader.GetString(0));
        return columns;
    }

    private static async Task ExecuteAsync(NpgsqlDataSource source, string sql)
    {
        await using var command = source.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    [GeneratedRegex(@"^\s*(?:WITH\b.*?\)\s*)?INSERT\s+INTO\s+(\w+)", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex InsertInto();

    [GeneratedRegex(@"^\s*(?:WITH\b.*?\)\s*)?UPDATE\s+(\w+)", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex UpdateTable();

    [GeneratedRegex(@"^\s*DELETE\s+FROM\s+(\w+)", RegexOptions.IgnoreCase)]
    private static partial Regex DeleteFrom();

    [GeneratedRegex(@"\bFROM\s+(\w+)", RegexOptions.IgnoreCase)]
    private static partial Regex FromTable();

    [GeneratedRegex(@"\bWHERE\s+(?:\w+\.)?(\w+)\s*=", RegexOptions.IgnoreCase)]
    private static partial Regex WhereColumn();

    [GeneratedRegex(@"\bSET\s+(.*?)\bWHERE\b", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex SetClause();

    [GeneratedRegex(@"(?:^|,)\s*(\w+)\s*=", RegexOptions.Singleline)]
    private static partial Regex SetColumn();

    [GeneratedRegex(@"^(CREATE INDEX )(\w+)")]
    private static partial Regex IndexName();
}
