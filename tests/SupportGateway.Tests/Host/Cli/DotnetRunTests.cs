using System.Diagnostics;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Cli;

/// <summary>The README's <c>dotnet run --project …</c> reads the appsettings.json of the folder it is run from.</summary>
public sealed class DotnetRunTests
{
    [Test]
    public async Task Dotnet_run_reads_the_appsettings_json_of_the_working_directory()
    {
        var directory = TempDirectory.Create();
        try
        {
            // A value only this folder's file has, and one the gateway refuses with a line naming the key.
            File.WriteAllText(Path.Combine(directory, "appsettings.json"), """{ "SupportGateway": { "Outbox": { "GiveUpAfter": "-1.00:00:00" } } }""");
            var project = Path.Combine(Corpus.RepositoryRoot(), "src", "SupportGateway.Host");
            var info = new ProcessStartInfo("dotnet", ["run", "--no-build", "-c", "Release", "--project", project, "--", "check-config"])
            {
                WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true,
            };
            info.Environment["SupportGateway__Storage__ConnectionString"] = $"Data Source={Path.Combine(directory, "gateway.db")}";
            using var process = Process.Start(info)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token);
            var all = await output + await errors;
            Assert.That(process.ExitCode, Is.EqualTo(2), all);
            Assert.That(all, Does.Contain("error: SupportGateway:Outbox:GiveUpAfter: must be positive"));
        }
        finally
        {
            TempDirectory.Delete(directory);
        }
    }
}
