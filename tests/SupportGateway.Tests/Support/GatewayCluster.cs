using System.Globalization;
using System.Net.Http.Headers;
using Dapper;
using Npgsql;

namespace SupportGateway.Tests.Support;

/// <summary>
/// Real gateway processes on one PostgreSQL database of their own (in the cluster of tests/postgres.sh), reading one
/// support mailbox on the real Dovecot, behind a real nginx (tests/nginx.sh, from samples/nginx/supportgateway.conf).
/// Each instance keeps its port and folder across restarts, so nginx's upstream list never changes.
/// </summary>
internal sealed class GatewayCluster : IAsyncDisposable
{
    /// <summary>The stopping instance serves this long with /healthz at 503 (see README, "Rolling restart").</summary>
    public static readonly TimeSpan Drain = TimeSpan.FromSeconds(2);

    private readonly TestDatabase _database;
    private readonly string _nginxRun;
    private readonly Instance[] _instances;

    private GatewayCluster(TestDatabase database, string mailbox, string nginxRun, Instance[] instances)
    {
        _database = database;
        Mailbox = mailbox;
        _nginxRun = nginxRun;
        _instances = instances;
    }

    /// <summary>nginx's address: what clients use.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>The support mailbox's address (a user of its own on the real Dovecot).</summary>
    public string Mailbox { get; }

    public int Count => _instances.Length;

    public Uri InstanceAddress(int index) => new($"http://127.0.0.1:{_instances[index].Port}");

    public bool IsRunning(int index) => _instances[index].Process is { HasExited: false };

    public static async Task<GatewayCluster> StartAsync(int count)
    {
        await MailServers.EnsureStartedAsync();
        var database = await TestDatabase.CreateAsync(StorageEngine.Postgres);
        var id = Guid.NewGuid().ToString("N")[..10];
        var mailbox = $"support{id}@sg.test";
        var instances = Enumerable.Range(0, count).Select(i => new Instance(i, TempDirectory.Create(), GatewayProcess.FreePort())).ToArray();
        var cluster = new GatewayCluster(database, mailbox, $"/tmp/sg-nginx-{id}", instances);
        try
        {
            // Together, as a fleet starts: the migrations run once under their advisory lock.
            await Task.WhenAll(instances.Select(i => cluster.StartInstanceAsync(i.Index)));
            var (exit, output) = await Shell.RunAsync(
                $"bash tests/nginx.sh start {GatewayProcess.FreePort()} {string.Join(' ', instances.Select(i => $"127.0.0.1:{i.Port}"))}",
                Corpus.RepositoryRoot(), new Dictionary<string, string> { ["SG_NGINX_RUN"] = cluster._nginxRun }, TimeSpan.FromMinutes(2));
            if (exit != 0)
                throw new InvalidOperationException($"tests/nginx.sh start failed ({exit}): {output}");
            cluster.Address = new Uri(output.Trim().Split('\n')[^1]);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts instance <paramref name="index"/> on its port and waits until its /healthz answers 200.</summary>
    public async Task StartInstanceAsync(int index)
    {
        var instance = _instances[index];
        instance.Process?.Dispose();
        instance.Process = GatewayProcess.Start(instance.Directory, Environment(instance));
        await instance.Process.WaitHealthyAsync(InstanceAddress(index), TimeSpan.FromMinutes(2));
    }

    /// <summary>SIGTERM, as systemd sends it; waits for the exit and returns its code.</summary>
    public Task<int> StopInstanceAsync(int index) => _instances[index].Process!.StopAsync(TimeSpan.FromMinutes(1) + Drain);

    /// <summary>SIGKILL: the machine is gone; nothing of the shutdown runs.</summary>
    public void KillInstance(int index) => _instances[index].Process!.Kill();

    /// <summary>What instance <paramref name="index"/> wrote, for a failure message.</summary>
    public string OutputTail(int index) => _instances[index].Process?.OutputTail ?? "(not started)";

    public HttpClient Intake(int connections = 256)
    {
        var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = connections }) { BaseAddress = Address, Timeout = TimeSpan.FromMinutes(2) };
        client.DefaultRequestHeaders.Add("X-Api-Key", GatewayFactory.IntakeKey);
        return client;
    }

    public HttpClient Agent(Uri? address = null)
    {
        var client = new HttpClient { BaseAddress = address ?? Address, Timeout = TimeSpan.FromMinutes(1) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayFactory.AgentKey);
        return client;
    }

    public async Task<IReadOnlyList<T>> QueryAsync<T>(string sql, object? parameters = null)
    {
        await using var connection = new NpgsqlConnection(_database.ConnectionString);
        await connection.OpenAsync();
        return [.. await connection.QueryAsync<T>(sql, parameters)];
    }

    public async Task<T> ScalarAsync<T>(string sql, object? parameters = null)
    {
        await using var connection = new NpgsqlConnection(_database.ConnectionString);
        await connection.OpenAsync();
        return (await connection.ExecuteScalarAsync<T>(sql, parameters))!;
    }

    private Dictionary<string, string> Environment(Instance instance)
    {
        var environment = GatewayProcess.Environment(instance.Directory, instance.Port);
        environment["SupportGateway__Storage__Provider"] = "postgresql";
        // A pool sized for three instances on one small server: a burst waits for a connection instead of opening
        // hundreds, each a PostgreSQL process, on a machine already loaded.
        environment["SupportGateway__Storage__ConnectionString"] =
            new NpgsqlConnectionStringBuilder(_database.ConnectionString) { MaxPoolSize = 30, Timeout = 60 }.ConnectionString;
        // The load comes from one key and one address: the limits stay on, high enough never to refuse it.
        environment["SupportGateway__Limits__IntakePerKey__Permits"] = "100000000";
        environment["SupportGateway__Limits__TrustedProxies__0"] = "127.0.0.1";
        environment["SupportGateway__Shutdown__Drain"] = Drain.ToString("c", CultureInfo.InvariantCulture);
        environment["SupportGateway__Outbox__PollInterval"] = "00:00:00.200";
        // A killed instance's claims come back after the lease: short here, so the tests need not wait two minutes.
        environment["SupportGateway__Outbox__SendTimeout"] = "00:00:10";
        environment["SupportGateway__Outbox__Lease"] = "00:00:12";
        environment["SupportGateway__Channels__Email__AgentNotifications__NotifyAssignee"] = "false";
        environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in MailServers.MailboxSettings(Mailbox))
        {
            if (value is not null)
                environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }
        return environment;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var instance in _instances)
        {
            instance.Process?.Dispose();
            TempDirectory.Delete(instance.Directory);
        }
        await Shell.RunAsync("bash tests/nginx.sh stop", Corpus.RepositoryRoot(), new Dictionary<string, string> { ["SG_NGINX_RUN"] = _nginxRun });
        NpgsqlConnection.ClearAllPools();
        await _database.DisposeAsync();
    }

    private sealed class Instance(int index, string directory, int port)
    {
        public int Index { get; } = index;
        public string Directory { get; } = directory;
        public int Port { get; } = port;
        public GatewayProcess? Process { get; set; }
    }
}
