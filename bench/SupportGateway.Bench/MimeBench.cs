using System.Diagnostics;
using System.Text.Json;
using SupportGateway.Mail.Inbound;

/// <summary>
/// Parse throughput over the whole MIME corpus, side by side with Python 3's email package on the same files
/// in the same run. Both sides parse each message and read subject, addresses, body and attachments.
/// </summary>
internal static class MimeBench
{
    public static async Task<int> RunAsync(int rounds)
    {
        var corpus = Environment.GetEnvironmentVariable("SG_CORPUS") is { Length: > 0 } configured
            ? configured
            : Path.GetFullPath(Path.Combine(RepositoryRoot(), "..", "shared", "corpus"));
        var paths = Directory.EnumerateFiles(Path.Combine(corpus, "mime"), "*", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}expected", StringComparison.Ordinal) && Path.GetExtension(f) is ".eml" or ".txt" or ".msg")
            .Order(StringComparer.Ordinal).ToList();
        var files = paths.Select(File.ReadAllBytes).ToList();
        var bytes = files.Sum(f => (long)f.Length);
        Console.WriteLine($"MIME parse benchmark: {files.Count} corpus messages, {bytes / 1024.0 / 1024.0:F1} MB, {rounds} rounds after warm-up, {Environment.ProcessorCount} cores");

        for (var i = 0; i < 3; i++)
            files.ForEach(Read);
        var watch = Stopwatch.StartNew();
        for (var r = 0; r < rounds; r++)
            files.ForEach(Read);
        var ours = watch.Elapsed.TotalSeconds;
        Print("SupportGateway.Mail", ours, files.Count * rounds, bytes * rounds);
        watch.Restart();
        for (var r = 0; r < rounds; r++)
            files.ForEach(data => _ = InboundMail.Read(data).Text);
        Print("  + HTML as text (no Python peer)", watch.Elapsed.TotalSeconds, files.Count * rounds, bytes * rounds);

        var python = await PythonAsync(paths, rounds);
        if (python is null)
            return 1;
        Print("Python email (policy.default)", python.Value.Seconds, python.Value.Messages, python.Value.Bytes);
        Console.WriteLine($"speed-up: {python.Value.Seconds / python.Value.Messages / (ours / (files.Count * rounds)):F1}x messages/s");
        return 0;
    }

    /// <summary>What the Python side reads: subject, addresses, the plain (else HTML) body as a string, attachment bytes.</summary>
    private static void Read(byte[] data)
    {
        var message = InboundMail.Read(data);
        _ = (message.Subject, message.From, message.To);
        var parts = MailParts.Walk(message.Message.Body).Where(e => !MailParts.IsAttachment(e)).ToList();
        var body = parts.FirstOrDefault(e => e.ContentType.IsMimeType("text", "plain")) ?? parts.FirstOrDefault(e => e.ContentType.IsMimeType("text", "html"));
        _ = body is null ? null : MailParts.Text(body);
        foreach (var attachment in message.Attachments)
            _ = attachment.Content;
    }

    private static void Print(string name, double seconds, long messages, long bytes) =>
        Console.WriteLine($"  {name,-30} {messages / seconds,10:N0} messages/s {bytes / seconds / 1024 / 1024,8:F1} MB/s ({seconds:F2} s)");

    private static async Task<(double Seconds, long Messages, long Bytes)?> PythonAsync(List<string> paths, int rounds)
    {
        var list = Path.GetTempFileName();
        await File.WriteAllLinesAsync(list, paths);
        try
        {
            var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true };
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "python_email_parse.py"));
            start.ArgumentList.Add(list);
            start.ArgumentList.Add(Math.Max(1, rounds / 4).ToString(System.Globalization.CultureInfo.InvariantCulture));
            using var process = Process.Start(start) ?? throw new InvalidOperationException("python3 did not start");
            var output = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            if (process.ExitCode != 0)
            {
                Console.Error.WriteLine($"error: python3 exited with {process.ExitCode}");
                return null;
            }
            using var json = JsonDocument.Parse(output);
            var root = json.RootElement;
            return (root.GetProperty("seconds").GetDouble(), root.GetProperty("messages").GetInt64(), root.GetProperty("bytes").GetInt64());
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Console.Error.WriteLine("error: python3 is not installed; the comparison needs it.");
            return null;
        }
        finally
        {
            File.Delete(list);
        }
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SupportGateway.sln")))
                return dir.FullName;
        }
        return Directory.GetCurrentDirectory();
    }
}
