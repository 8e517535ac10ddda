using System.Diagnostics;

namespace SupportGateway.Tests.Support;

/// <summary>
/// A command through bash with its output in a file, not a pipe: MSBuild and compiler servers that a nested
/// <c>dotnet</c> leaves running inherit the output, and a pipe would stay open until they exit.
/// </summary>
internal static class Shell
{
    public static async Task<(int ExitCode, string Output)> RunAsync(string command, string workingDirectory,
        IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var log = Path.GetTempFileName();
        try
        {
            var info = new ProcessStartInfo("bash", ["-c", $"{command} >'{log}' 2>&1 </dev/null"]) { WorkingDirectory = workingDirectory, UseShellExecute = false };
            // What `dotnet test` sets for its own MSBuild must not steer a nested build.
            foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
                info.Environment.Remove(key);
            info.Environment["MSBUILDDISABLENODEREUSE"] = "1";
            info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            info.Environment["DOTNET_NOLOGO"] = "1";
            foreach (var (key, value) in environment ?? new Dictionary<string, string>())
                info.Environment[key] = value;
            using var process = Process.Start(info)!;
            using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(5));
            try
            {
                await process.WaitForExitAsync(cancel.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"'{command}' did not finish in time:\n{await File.ReadAllTextAsync(log)}");
            }
            return (process.ExitCode, await File.ReadAllTextAsync(log));
        }
        finally
        {
            File.Delete(log);
        }
    }
}
