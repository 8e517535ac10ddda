using System.Diagnostics;
using SupportGateway.Mail.Imap;
using SupportGateway.Mail.Mime;
using SupportGateway.Mail.Net;
using SupportGateway.Mail.Smtp;

/// <summary>
/// The IMAP client against the test Dovecot and Postfix (bash tests/mail-servers.sh start): APPEND, UID FETCH of whole
/// messages and UID MOVE over N messages, then IDLE wake-up latency after SMTP deliveries.
/// </summary>
internal static class ImapBench
{
    public static async Task<int> RunAsync(int messages, int rounds)
    {
        var options = new ImapClientOptions
        {
            Host = "127.0.0.1",
            Port = 1143,
            Security = MailSecurity.PlainLoopbackOnly,
            UserName = "robot@sg.test",
            Password = "secret",
        };
        await using var client = new ImapClient(options);
        try
        {
            await client.ConnectAsync(CancellationToken.None);
        }
        catch (MailProtocolException ex)
        {
            Console.Error.WriteLine($"imap bench: {ex.Message}. Start the test servers first: bash tests/mail-servers.sh start");
            return 2;
        }

        var folder = "bench-" + Guid.NewGuid().ToString("N")[..8];
        await client.CreateFolderAsync(folder, CancellationToken.None);
        await client.CreateFolderAsync(folder + "-done", CancellationToken.None);
        var bodies = Enumerable.Range(0, messages).Select(i => MimeWriter.Write(new OutgoingMessage
        {
            From = new MailAddress("Клиент", "customer@sg.test"),
            To = [new MailAddress("", "robot@sg.test")],
            Subject = $"Заявка №{i}",
            Text = $"Сообщение {i}.\r\n" + string.Concat(Enumerable.Repeat("Принтер в бухгалтерии не печатает. ", 20 + i % 100)),
        })).ToList();
        var octets = bodies.Sum(b => (long)b.Length);
        Console.WriteLine($"SupportGateway IMAP benchmark against Dovecot on loopback: {messages} messages, {octets / 1024.0 / 1024.0:F1} MB, {Environment.ProcessorCount} cores");

        var clock = Stopwatch.StartNew();
        foreach (var body in bodies)
            await client.AppendAsync(folder, body, null, null, CancellationToken.None);
        Report("APPEND", clock.Elapsed, messages, octets);

        await client.SelectAsync(folder, CancellationToken.None);
        var uids = await client.UidSearchAsync("ALL", CancellationToken.None);
        clock.Restart();
        var fetched = await client.UidFetchAsync(uids, ImapFetchItems.All, CancellationToken.None);
        Report("UID FETCH (FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[])", clock.Elapsed, fetched.Count, fetched.Sum(m => (long)m.Body!.Length));
        clock.Restart();
        await client.UidMoveAsync(uids, folder + "-done", CancellationToken.None);
        Report("UID MOVE", clock.Elapsed, uids.Count, 0);

        var latencies = new List<double>();
        await client.SelectAsync("INBOX", CancellationToken.None);
        await using var smtp = new SmtpClient(new SmtpClientOptions { Host = "127.0.0.1", Port = 2525, Security = MailSecurity.PlainLoopbackOnly });
        await smtp.ConnectAsync(CancellationToken.None);
        for (var round = 0; round < rounds; round++)
        {
            var idle = client.WaitForChangeAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
            await Task.Delay(100);
            await smtp.SendAsync(bodies[round % bodies.Count], "customer@sg.test", ["robot@sg.test"], CancellationToken.None);
            var accepted = Stopwatch.StartNew();
            if (!await idle)
                throw new InvalidOperationException("IDLE did not wake within 30 s");
            latencies.Add(accepted.Elapsed.TotalMilliseconds);
        }
        await smtp.QuitAsync(CancellationToken.None);
        await client.LogoutAsync(CancellationToken.None);
        latencies.Sort();
        Console.WriteLine($"IDLE wake-up after Postfix accepted the message, {rounds} deliveries: p50 {Percentile(latencies, 0.5):F0} ms, p99 {Percentile(latencies, 0.99):F0} ms, max {latencies[^1]:F0} ms");
        return 0;
    }

    private static void Report(string what, TimeSpan elapsed, int count, long octets) =>
        Console.WriteLine($"{what}: {count} messages in {elapsed.TotalMilliseconds:F0} ms, {count / elapsed.TotalSeconds:F0} msg/s" +
            (octets > 0 ? $", {octets / 1024.0 / 1024.0 / elapsed.TotalSeconds:F1} MB/s" : ""));

    private static double Percentile(List<double> sorted, double p) => sorted[(int)Math.Min(sorted.Count - 1, Math.Ceiling(p * sorted.Count) - 1)];
}
