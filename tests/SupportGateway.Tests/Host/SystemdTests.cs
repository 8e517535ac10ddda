using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host;

/// <summary>
/// The gateway under a service manager speaking systemd's notify protocol (sd_notify(3): datagrams such as
/// "READY=1" to the Unix socket in NOTIFY_SOCKET). Microsoft.Extensions.Hosting.Systemd takes part when the process is
/// systemd's child or, as in a container, PID 1 with NOTIFY_SOCKET set: the test makes it PID 1 in a PID namespace.
/// </summary>
[NonParallelizable]
public sealed class SystemdTests
{
    [Test]
    public async Task Under_systemd_the_gateway_reports_ready_and_logs_with_journal_priorities()
    {
        var directory = TempDirectory.Create();
        var socketPath = Path.Combine(directory, "notify.sock");
        using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notify.Bind(new UnixDomainSocketEndPoint(socketPath));
        var info = new ProcessStartInfo("unshare", ["--fork", "--pid", "--mount-proc", "dotnet", GatewayProcess.HostDll])
        {
            WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var (key, value) in GatewayProcess.Environment(directory))
            info.Environment[key] = value;
        info.Environment["NOTIFY_SOCKET"] = socketPath;
        var output = new StringBuilder();
        using var process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var buffer = new byte[256];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var received = await notify.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            Assert.That(Encoding.ASCII.GetString(buffer, 0, received), Does.Contain("READY=1"));
            await Eventually.HoldsAsync(() => Task.FromResult(output.ToString().Contains("Now listening", StringComparison.Ordinal)), 10, output.ToString);
            string text;
            lock (output)
                text = output.ToString();
            // The journal's priority prefix (sd-daemon(3)): <6> is informational, one line per entry.
            Assert.That(text, Does.Contain("<6>Microsoft.Hosting.Lifetime"));
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            TempDirectory.Delete(directory);
        }
    }
}
