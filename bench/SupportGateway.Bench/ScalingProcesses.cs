using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

/// <summary>The repository the bench was built in.</summary>
internal static class BenchPaths
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "SupportGateway.sln")))
                return directory.FullName;
        }
        throw new DirectoryNotFoundException("SupportGateway.sln not found above the bench");
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>A database of its own on the given server, dropped (with its connections) afterwards.</summary>
internal sealed class ScratchDatabase(string server, string name)
{
    public string ConnectionString { get; } = new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;

    public static async Task<ScratchDatabase> CreateAsync(string server)
    {
        var name = $"sg_scaling_{Guid.NewGuid():N}"[..26];
        await using var admin = new NpgsqlConnection(server);
        await admin.OpenAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
        await create.ExecuteNonQueryAsync();
        return new ScratchDatabase(server, name);
    }

    public async Task DropAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(server);
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", admin);
        await drop.ExecuteNonQueryAsync();
    }
}

/// <summary>
/// CPU time of one PostgreSQL server from /proc: the postmaster, its live children (backends, WAL writer,
/// checkpointer…) and, through the postmaster's cutime and cstime, the children that have exited.
/// </summary>
internal sealed class PostgresCpu(int postmaster)
{
    private static readonly double MicrosecondsPerTick = 1_000_000.0 / 100; // USER_HZ is 100 on Linux

    public int Postmaster { get; } = postmaster;

    /// <summary>The server's postmaster, found from a backend's parent; null when the server is not on this machine.</summary>
    public static async Task<PostgresCpu?> FindAsync(string server)
    {
        await using var connection = new NpgsqlConnection(server);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT pg_backend_pid()", connection);
        var backend = Convert.ToInt32(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
        return Stat(backend) is { } stat && Stat(stat.Parent) is { Name: "postgres" } ? new PostgresCpu(stat.Parent) : null;
    }

    /// <summary>Microseconds of CPU the server has used so far.</summary>
    public double Read()
    {
        long ticks = 0;
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(entry), out var pid) && (pid == Postmaster || Stat(pid) is { } s && s.Parent == Postmaster) && Stat(pid) is { } stat)
                ticks += stat.Own + (pid == Postmaster ? stat.Children : 0);
        }
        return ticks * MicrosecondsPerTick;
    }

    private sealed record ProcStat(string Name, int Parent, long Own, long Children);

    /// <summary>/proc/PID/stat: the name is in parentheses (it may hold spaces); fields 4, 14–17 are ppid, utime, stime, cutime, cstime.</summary>
    private static ProcStat? Stat(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            var (open, close) = (text.IndexOf('(', StringComparison.Ordinal), text.LastIndexOf(')'));
            var fields = text[(close + 2)..].Split(' ');
            long F(int i) => long.Parse(fields[i], CultureInfo.InvariantCulture);
            return new ProcStat(text[(open + 1)..close], (int)F(1), F(11) + F(12), F(13) + F(14));
        }
        catch (IOException)
        {
            return null; // it exited meanwhile
        }
    }
}

/// <summary>The real gateway executable on its own port, healthy before it is handed out.</summary>
internal sealed class GatewayProcess : IDisposable
{
    private readonly Process _process;

    private GatewayProcess(Process process, int port) => (_process, Port) = (process, port);

    public int Port { get; }

    public double Cpu
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime.TotalMicroseconds;
        }
    }

    public static async Task<GatewayProcess> StartAsync(string hostDll, string directory, string? postgres, string apiKey)
    {
        var port = BenchPaths.FreePort();
        var start = new ProcessStartInfo("dotnet", [hostDll]) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        if (Environment.GetEnvironmentVariable("SG_BENCH_PERFMAP") == "1")
        {
            start.Environment["DOTNET_PerfMapEnabled"] = "1";
            start.Environment["DOTNET_EnableWriteXorExecute"] = "0";
        }
        start.Environment["SupportGateway__Storage__Provider"] = postgres is null ? "sqlite" : "postgresql";
        start.Environment["SupportGateway__Storage__ConnectionString"] = postgres ?? $"Data Source={Path.Combine(directory, "bench.db")}";
        start.Environment["SupportGateway__Intake__ApiKeys__0"] = apiKey;
        // All the load comes with one key: the limit is kept (its cost is in the figures) but never refuses.
        start.Environment["SupportGateway__Limits__IntakePerKey__Permits"] = "100000000";
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is { } line) Console.Error.WriteLine($"gateway {port}: {line}"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var gateway = new GatewayProcess(process, port);
        try
        {
            await WaitHealthyAsync(port, () => process.HasExited ? $"the gateway exited with {process.ExitCode}" : null);
            return gateway;
        }
        catch
        {
            gateway.Dispose();
            throw;
        }
    }

    /// <summary>Until <c>/healthz</c> answers 200 (two minutes at most: the machine is shared).</summary>
    public static async Task WaitHealthyAsync(int port, Func<string?> exited)
    {
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
        var last = "no answer";
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromMinutes(2))
        {
            if (exited() is { } reason)
                throw new InvalidOperationException(reason);
            try
            {
                using var response = await client.GetAsync("/healthz");
                if (response.IsSuccessStatusCode)
                    return;
                last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                last = ex.Message;
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"port {port} did not become healthy in 2 minutes; /healthz said: {last}");
    }

    public void Dispose()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
        _process.Dispose();
    }
}

/// <summary>nginx from Debian with a throwaway configuration: round robin over the instances, kept-alive upstream connections.</summary>
internal sealed class NginxProcess : IDisposable
{
    private readonly Process _process;

    private NginxProcess(Process process, int port) => (_process, Port) = (process, port);

    public int Port { get; }

    public static async Task<NginxProcess> StartAsync(string directory, IEnumerable<int> upstreams)
    {
        var port = BenchPaths.FreePort();
        var prefix = Path.Combine(directory, "nginx");
        Directory.CreateDirectory(prefix);
        var config = Path.Combine(prefix, "nginx.conf");
        await File.WriteAllTextAsync(config, $$"""
            user root root;
            worker_processes 1;
            error_log {{prefix}}/error.log warn;
            pid {{prefix}}/nginx.pid;
            events { worker_connections 4096; }
            http {
                access_log off;
                client_body_temp_path {{prefix}}/body;
                proxy_temp_path {{prefix}}/proxy;
                fastcgi_temp_path {{prefix}}/fastcgi;
                uwsgi_temp_path {{prefix}}/uwsgi;
                scgi_temp_path {{prefix}}/scgi;
                upstream gateways {
            {{string.Join("\n", upstreams.Select(p => $"        server 127.0.0.1:{p};"))}}
                    keepalive 256;
                }
                server {
                    listen 127.0.0.1:{{port}};
                    location / {
                        proxy_pass http://gateways;
                        proxy_http_version 1.1;
                        proxy_set_header Connection "";
                        proxy_buffering off;
                    }
                }
            }
            """);
        var start = new ProcessStartInfo("/usr/sbin/nginx", ["-p", prefix, "-c", config, "-g", "daemon off;"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is { } line) Console.Error.WriteLine($"nginx: {line}"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var nginx = new NginxProcess(process, port);
        try
        {
            await GatewayProcess.WaitHealthyAsync(port, () => process.HasExited ? $"nginx exited with {process.ExitCode}: see {prefix}/error.log" : null);
            return nginx;
        }
        catch
        {
            nginx.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
        _process.Dispose();
    }
}
