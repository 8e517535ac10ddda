using System.Diagnostics;
using System.Text;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using SupportGateway.Host.Channels.Email;

/// <summary>
/// The mailbox reader's IMAP session (MailKit) against the test Dovecot and Postfix (bash tests/mail-servers.sh start):
/// UID SEARCH, UID FETCH BODY.PEEK[] in the reader's batches and UID MOVE over N messages, then IDLE wake-up latency
/// after SMTP deliveries.
/// </summary>
internal static class ImapBench
{
    public static async Task<int> RunAsync(int messages, int rounds)
    {
        var user = $"supportbench{Guid.NewGuid().ToString("N")[..8]}@sg.test";
        using var setup = new ImapClient();
        try
        {
            await setup.ConnectAsync("127.0.0.1", 1143, SecureSocketOptions.None);
            await setup.AuthenticateAsync(user, "secret");
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or ImapProtocolException)
        {
            Console.Error.WriteLine($"imap bench: {ex.Message}. Start the test servers first: bash tests/mail-servers.sh start");
            return 2;
        }

        var bodies = Enumerable.Range(0, messages).Select(i => Encoding.UTF8.GetBytes(
            $"From: customer@sg.test\r\nTo: {user}\r\nSubject: =?utf-8?B?{Convert.ToBase64String(Encoding.UTF8.GetBytes($"Заявка №{i}"))}?=\r\n" +
            $"Message-ID: <{i}.bench@sg.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
            $"Сообщение {i}.\r\n" + string.Concat(Enumerable.Repeat("Принтер в бухгалтерии не печатает. ", 20 + i % 100)) + "\r\n")).ToList();
        var octets = bodies.Sum(b => (long)b.Length);
        Console.WriteLine($"SupportGateway IMAP benchmark (MailKit) against Dovecot on loopback: {messages} messages, {octets / 1024.0 / 1024.0:F1} MB, {Environment.ProcessorCount} cores");

        var clock = Stopwatch.StartNew();
        foreach (var body in bodies)
            await setup.Inbox.AppendAsync(new AppendRequest(MimeMessage.Load(new MemoryStream(body)), MessageFlags.None));
        Report("APPEND", clock.Elapsed, messages, octets);
        await setup.DisconnectAsync(true);

        var mailbox = new MailboxOptions
        {
            Name = "bench",
            Address = user,
            Imap = new ImapEndpointOptions { Host = "127.0.0.1", Port = 1143, Security = MailboxSecurity.None, Username = user, Password = "secret", ProcessedFolder = "Processed" },
        };
        var batch = new EmailOptions().FetchBatch;
        await using var session = await MailboxSession.OpenAsync(mailbox, new MailLogin(new MailTokens(TimeProvider.System)), new NullProtocolLogger(), CancellationToken.None);
        clock.Restart();
        var uids = await session.NewAsync(0, CancellationToken.None);
        long fetched = 0;
        foreach (var chunk in uids.Chunk(batch))
            fetched += (await session.FetchAsync(chunk, CancellationToken.None)).Sum(m => (long)m.Raw.Length);
        Report($"UID SEARCH + UID FETCH BODY.PEEK[] in batches of {batch}", clock.Elapsed, uids.Count, fetched);
        clock.Restart();
        foreach (var chunk in uids.Chunk(batch))
            await session.ReleaseAsync(chunk, CancellationToken.None);
        Report($"UID MOVE in batches of {batch}", clock.Elapsed, uids.Count, 0);

        var latencies = new List<double>();
        using var smtp = new SmtpClient();
        await smtp.ConnectAsync("127.0.0.1", 2525, SecureSocketOptions.None);
        for (var round = 0; round < rounds; round++)
        {
            var idle = session.WaitAsync(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30), null, TimeProvider.System, CancellationToken.None);
            await Task.Delay(100);
            await smtp.SendAsync(MimeMessage.Load(new MemoryStream(bodies[round % bodies.Count])));
            var accepted = Stopwatch.StartNew();
            if (!await idle)
                throw new InvalidOperationException("IDLE did not wake within 30 s");
            latencies.Add(accepted.Elapsed.TotalMilliseconds);
            await session.ReleaseAsync([.. await session.NewAsync(0, CancellationToken.None)], CancellationToken.None);
        }
        await smtp.DisconnectAsync(true);
        latencies.Sort();
        Console.WriteLine($"IDLE wake-up after Postfix accepted the message, {rounds} deliveries: p50 {Percentile(latencies, 0.5):F0} ms, p99 {Percentile(latencies, 0.99):F0} ms, max {latencies[^1]:F0} ms");
        return 0;
    }

    private static void Report(string what, TimeSpan elapsed, int count, long octets) =>
        Console.WriteLine($"{what}: {count} messages in {elapsed.TotalMilliseconds:F0} ms, {count / elapsed.TotalSeconds:F0} msg/s" +
            (octets > 0 ? $", {octets / 1024.0 / 1024.0 / elapsed.TotalSeconds:F1} MB/s" : ""));

    private static double Percentile(List<double> sorted, double p) => sorted[(int)Math.Min(sorted.Count - 1, Math.Ceiling(p * sorted.Count) - 1)];
}
