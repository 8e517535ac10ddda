using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace SupportGateway.Tests.Support;

/// <summary>The real gateway executable in its own process: for CLI, start-up and crash tests.</summary>
internal sealed class GatewayProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private GatewayProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Output { get { lock (_output) return _output.ToString(); } }

    /// <summary>The end of what the process wrote, for a failure message.</summary>
    public string OutputTail => "the gateway wrote:\n" + Output[^Math.Min(4000, Output.Length)..];

    public bool HasExited => _process.HasExited;

    public static string HostDll => Path.Combine(AppContext.BaseDirectory, "SupportGateway.Host.dll");

    /// <summary>Environment for a gateway on its own database in <paramref name="directory"/>.</summary>
    public static Dictionary<string, string> Environment(string directory, int? port = null) => new()
    {
        ["SupportGateway__Storage__ConnectionString"] = $"Data Source={Path.Combine(directory, "gateway.db")}",
        ["SupportGateway__Intake__ApiKeys__0"] = GatewayFactory.IntakeKey,
        ["SupportGateway__Agents__0__Name"] = "Anna",
        ["SupportGateway__Agents__0__Email"] = GatewayFactory.AgentEmail,
        ["SupportGateway__Agents__0__ApiKey"] = GatewayFactory.AgentKey,
        ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port ?? 0}",
    };

    public static GatewayProcess Start(string directory, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(HostDll);
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        foreach (var (key, value) in environment)
            info.Environment[key] = value;
        return new GatewayProcess(Process.Start(info)!);
    }

    /// <summary>Runs a CLI command to completion.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string directory, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        using var process = Start(directory, environment, args);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process._process.WaitForExitAsync(timeout.Token);
        process._process.WaitForExit();
        return (process._process.ExitCode, process.Output);
    }

    public async Task WaitHealthyAsync(Uri baseAddress, TimeSpan timeout)
    {
        using var client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"The gateway exited with {_process.ExitCode}:\n{Output}");
            try
            {
                if ((await client.GetAsync("/healthz")).StatusCode == HttpStatusCode.OK)
                    return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet, or busy with its first request (the endpoints are built then) on a loaded machine.
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"The gateway did not become healthy:\n{Output}");
    }

    /// <summary>SIGTERM, as systemd or <c>docker stop</c> send it, then waits for the exit; returns the exit code.</summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        Terminate();
        return await WaitForExitAsync(timeout);
    }

    /// <summary>SIGTERM, without waiting for the exit.</summary>
    public void Terminate()
    {
        if (Kill(_process.Id, 15) != 0)
            throw new InvalidOperationException($"kill(SIGTERM) failed for {_process.Id}");
    }

    /// <summary>Waits for the process to exit; returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(deadline.Token);
        _process.WaitForExit();
        return _process.ExitCode;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    /// <summary>SIGKILL: no shutdown code runs.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
            Kill();
        _process.Dispose();
    }
}
