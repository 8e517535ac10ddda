using System.Diagnostics;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SupportGateway.Host;
using SupportGateway.Mail.Mime;

/// <summary>
/// The e-mail channel end to end against the test Postfix and Dovecot (bash tests/mail-servers.sh start). Phase 1
/// delivers N mails into a fresh support mailbox with the gateway stopped, then starts it and times the backlog to
/// the last acknowledgement. Phase 2 sends N more while it runs and measures, per mail, "SMTP accepted" → "ticket
/// created" → "acknowledgement accepted by Postfix", at a steady rate (mails per second) below the backlog's
/// throughput, so the figures are the pipeline's latency rather than a queue's.
/// </summary>
internal static class EmailBench
{
    /// <summary>The mailboxes this run made on the test Dovecot, removed at the end: a day of runs had left hundreds of MB.</summary>
    private static readonly List<string> Mailboxes = [];

    private static string NewMailbox(string prefix)
    {
        var name = prefix + Guid.NewGuid().ToString("N")[..8];
        Mailboxes.Add(name);
        return name;
    }

    public static async Task<int> RunAsync(int mails, int rate)
    {
        var user = NewMailbox("supportbench");
        var directory = Path.Combine(Path.GetTempPath(), $"sg-bench-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        var database = Path.Combine(directory, "bench.db");
        using var smtp = new MailKit.Net.Smtp.SmtpClient();
        try
        {
            await smtp.ConnectAsync("127.0.0.1", 2525, MailKit.Security.SecureSocketOptions.None);
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or MailKit.Net.Smtp.SmtpProtocolException)
        {
            Console.Error.WriteLine($"email bench: {ex.Message}. Start the test servers first: bash tests/mail-servers.sh start");
            return 2;
        }
        Console.WriteLine($"SupportGateway e-mail benchmark: {mails} mails into a stopped gateway, then {mails} at {rate}/s while it runs; Postfix and Dovecot on loopback, SQLite, {Environment.ProcessorCount} cores");
        var ceiling = await MailStackCeilingAsync(mails);
        await WarmUpAsync(smtp, Path.Combine(directory, "warm-up.db"), Math.Min(mails, 300), rate);

        var accepted = new Dictionary<string, long>();
        var clock = Stopwatch.StartNew();
        await DeliverAsync(smtp, user, 0, mails, accepted, rate: 0);
        Console.WriteLine($"phase 1: {mails} mails accepted by Postfix in {clock.Elapsed.TotalSeconds:F1} s");
        // A backlog is mail in the mailbox: what Postfix still holds is delivered first.
        await MailStackQuietAsync("phase 1");

        using var host = BuildHost(database, user);
        var started = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        await host.StartAsync();
        var backlogDone = await WaitForAcksAsync(database, mails);
        cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        var backlogRate = mails * 1000.0 / (backlogDone - started);
        Console.WriteLine($"phase 1: backlog of {mails} read, ticketed and acknowledged in {(backlogDone - started) / 1000.0:F1} s: {backlogRate:F0} mails/s, " +
            $"{cpu.TotalMilliseconds * 1000 / mails:F0} µs of gateway CPU per mail ({cpu.TotalSeconds / ((backlogDone - started) / 1000.0):P0} of one core)");
        // Which stage the backlog waited on: reading and ticketing ends with the last ticket, sending with the last acknowledgement.
        await using (var stages = new SqliteConnection($"Data Source={database}"))
        {
            var (firstTicket, lastTicket) = await stages.QuerySingleAsync<(long, long)>("SELECT MIN(created_at), MAX(created_at) FROM tickets");
            Console.WriteLine($"phase 1 stages: first ticket {(firstTicket - started) / 1000.0:F1} s after the start, last ticket {(lastTicket - started) / 1000.0:F1} s, " +
                $"last acknowledgement {(backlogDone - started) / 1000.0:F1} s");
        }
        // The mail stack's own rate moves between runs by a fifth and more (138-177/s seen): measured again right after the
        // backlog, on the same quiet queue, the two bracket the gateway's run and their mean is the ceiling it is read against.
        await MailStackQuietAsync("ceiling again");
        var ceilingAfter = await MailStackCeilingAsync(mails);
        var mean = (ceiling + ceilingAfter) / 2;
        // The gateway sends one mail (the acknowledgement) per inbound mail here: no team address, no assignee.
        Console.WriteLine($"phase 1 against the ceiling: {backlogRate:F0} of {mean:F0} mails/s = {backlogRate / mean:P0} " +
            $"(the mean of the ceiling before and after, {ceiling:F0} and {ceilingAfter:F0}, divided by the 1 mail the gateway sends per inbound mail)");

        // Phase 1's acknowledgements and the ceiling's mail are delivered: phase 2 measures the pipeline, not that queue.
        await MailStackQuietAsync("phase 2");
        var phase2 = new Dictionary<string, long>();
        clock.Restart();
        await DeliverAsync(smtp, user, mails, mails, phase2, rate);
        await WaitForAcksAsync(database, 2 * mails);
        Console.WriteLine($"phase 2: {mails} mails sent at {rate}/s, last acknowledgement {clock.Elapsed.TotalSeconds:F1} s after the first mail");
        await smtp.DisconnectAsync(quit: true);

        await using var connection = new SqliteConnection($"Data Source={database}");
        var rows = (await connection.QueryAsync<(string ExternalId, long Created, long Acked)>("""
            -- CROSS JOIN keeps this order in SQLite: each mail, then its ticket and its acknowledgement by index.
            SELECT i.external_id, t.created_at, o.sent_at FROM inbound i
            CROSS JOIN tickets t CROSS JOIN outbox o
            WHERE t.id = i.ticket_id AND o.ticket_id = t.id AND o.channel = 'email' AND o.state = 'sent'
            """)).Where(r => phase2.ContainsKey(r.ExternalId)).ToList();
        var toTicket = rows.Select(r => (double)(r.Created - phase2[r.ExternalId])).Order().ToList();
        var toAck = rows.Select(r => (double)(r.Acked - phase2[r.ExternalId])).Order().ToList();
        Console.WriteLine($"phase 2 latency over {rows.Count} mails, SMTP accepted → ticket created: p50 {P(toTicket, 0.5):F0} ms, p99 {P(toTicket, 0.99):F0} ms; " +
            $"→ acknowledgement accepted by Postfix: p50 {P(toAck, 0.5):F0} ms, p99 {P(toAck, 0.99):F0} ms");
        // Where the time goes: the mail stack's part (Postfix accepted → Dovecot wrote the file) and the gateway's.
        var delivered = DeliveredAt($"/tmp/sg-mail/mail/{user}@sg.test");
        var split = rows.Where(r => delivered.ContainsKey(r.ExternalId)).ToList();
        var toMailbox = split.Select(r => (double)(delivered[r.ExternalId] - phase2[r.ExternalId])).Order().ToList();
        var mailboxToTicket = split.Select(r => (double)(r.Created - delivered[r.ExternalId])).Order().ToList();
        Console.WriteLine($"phase 2 split over {split.Count} mails, SMTP accepted → in the mailbox (Dovecot's file): p50 {P(toMailbox, 0.5):F0} ms, p99 {P(toMailbox, 0.99):F0} ms; " +
            $"in the mailbox → ticket created: p50 {P(mailboxToTicket, 0.5):F0} ms, p99 {P(mailboxToTicket, 0.99):F0} ms");
        await host.StopAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
        foreach (var mailbox in Mailboxes.Select(m => Path.Combine("/tmp/sg-mail/mail", m + "@sg.test")).Where(Directory.Exists))
            Directory.Delete(mailbox, recursive: true);
        return rows.Count == mails ? 0 : 1;
    }

    /// <summary>
    /// A gateway that has run for a while has its hot code compiled at its final tier. The runtime compiles a method
    /// again, optimised, only after it was called a number of times and then only in the background, so one short
    /// warm-up left most of the pipeline to be recompiled during the backlog (about 4,000 methods, the JIT on a core
    /// of its own). A first gateway on a mailbox of its own takes rounds shaped like the two phases (mail at once,
    /// then at the steady rate) until a round leaves little for the JIT: the figures below are the steady state.
    /// </summary>
    private static async Task WarmUpAsync(MailKit.Net.Smtp.SmtpClient smtp, string database, int mails, int rate)
    {
        const int MaxRounds = 6, QuietMethods = 100;
        var user = NewMailbox("supportwarmup");
        var clock = Stopwatch.StartNew();
        using var host = BuildHost(database, user);
        await host.StartAsync();
        var sent = 0;
        for (var round = 1; round <= MaxRounds; round++)
        {
            var methods = System.Runtime.JitInfo.GetCompiledMethodCount();
            await DeliverAsync(smtp, user, sent, mails, [], rate: 0);
            await DeliverAsync(smtp, user, sent + mails, rate, [], rate);
            sent += mails + rate;
            await WaitForAcksAsync(database, sent);
            await JitQuietAsync();
            methods = System.Runtime.JitInfo.GetCompiledMethodCount() - methods;
            Console.WriteLine($"warm-up round {round}: {mails} mails at once and {rate} at {rate}/s, {methods} methods compiled meanwhile");
            if (methods < QuietMethods)
                break;
        }
        await host.StopAsync();
        Console.WriteLine($"warm-up: {sent} mails through a gateway on a mailbox of its own in {clock.Elapsed.TotalSeconds:F1} s");
    }

    /// <summary>Until Postfix's queue is empty (postqueue -j prints one line per queued mail), so that a phase starts on a quiet mail stack.</summary>
    private static async Task MailStackQuietAsync(string phase)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromMinutes(5))
        {
            using var queue = Process.Start(new ProcessStartInfo("postqueue", ["-c", "/tmp/sg-mail/postfix", "-j"]) { RedirectStandardOutput = true })!;
            var listed = await queue.StandardOutput.ReadToEndAsync();
            await queue.WaitForExitAsync();
            if (queue.ExitCode == 0 && listed.Trim().Length == 0)
            {
                Console.WriteLine($"{phase}: Postfix's queue empty after {clock.Elapsed.TotalSeconds:F1} s");
                return;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException("Postfix still holds mail after 5 minutes: see /tmp/sg-mail/postfix.log");
    }

    /// <summary>Until the runtime's background compilation has caught up: no method compiled for half a second (at most 10 s).</summary>
    private static async Task JitQuietAsync()
    {
        var deadline = Stopwatch.StartNew();
        var last = System.Runtime.JitInfo.GetCompiledMethodCount();
        while (deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(500);
            var now = System.Runtime.JitInfo.GetCompiledMethodCount();
            if (now == last)
                return;
            last = now;
        }
    }

    /// <summary>
    /// Postfix's own load generator into Dovecot on the same machine: the rate at which the mail stack accepts and
    /// delivers, measured in the same run as the gateway, so the gateway's figure can be read against it.
    /// </summary>
    private static async Task<double> MailStackCeilingAsync(int mails)
    {
        var user = NewMailbox("supportceiling") + "@sg.test";
        var clock = Stopwatch.StartNew();
        using (var source = Process.Start(new ProcessStartInfo("smtp-source",
            ["-c", "-s", "8", "-m", mails.ToString(System.Globalization.CultureInfo.InvariantCulture), "-l", "2000", "-f", "bench@sg.test", "-t", user, "127.0.0.1:2525"])
            { RedirectStandardOutput = true, RedirectStandardError = true })!)
        {
            await source.WaitForExitAsync();
            if (source.ExitCode != 0)
                throw new InvalidOperationException($"smtp-source failed: {await source.StandardError.ReadToEndAsync()}");
        }
        var accepted = clock.Elapsed.TotalSeconds;
        var maildir = Path.Combine("/tmp/sg-mail/mail", user, "new");
        var deadline = DateTime.UtcNow.AddMinutes(5);
        while ((Directory.Exists(maildir) ? Directory.EnumerateFiles(maildir).Count() : 0) < mails && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        var delivered = clock.Elapsed.TotalSeconds;
        var ceiling = mails / delivered;
        Console.WriteLine($"mail stack ceiling (smtp-source -c -s 8 -m {mails} -l 2000 into Dovecot): accepted at {mails / accepted:F0} mails/s, " +
            $"delivered at {ceiling:F0} mails/s ({delivered:F1} s)");
        return ceiling;
    }

    private static IHost BuildHost(string database, string user)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        var mailbox = "SupportGateway:Channels:Email:Mailboxes:0:";
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["SupportGateway:Storage:ConnectionString"] = $"Data Source={database}",
            ["SupportGateway:Channels:WebChat:Enabled"] = "false",
            ["SupportGateway:Channels:Email:AgentNotifications:NotifyAssignee"] = "false",
            [mailbox + "Name"] = "bench",
            [mailbox + "Address"] = $"{user}@sg.test",
            [mailbox + "Imap:Host"] = "127.0.0.1", [mailbox + "Imap:Port"] = "1143", [mailbox + "Imap:Security"] = "None",
            [mailbox + "Imap:Username"] = $"{user}@sg.test", [mailbox + "Imap:Password"] = "secret", [mailbox + "Imap:ProcessedFolder"] = "Processed",
            [mailbox + "Smtp:Host"] = "127.0.0.1", [mailbox + "Smtp:Port"] = "2525", [mailbox + "Smtp:Security"] = "None",
            ["SupportGateway:Outbox:PollInterval"] = "00:00:00.200",
        });
        // A setting to try is given as the gateway takes it: SupportGateway__Channels__Email__FetchBatch=100.
        builder.Configuration.AddEnvironmentVariables();
        builder.Logging.AddConsole().SetMinimumLevel(LogLevel.Warning);
        builder.AddGateway();
        return builder.Build();
    }

    /// <summary>
    /// One sender per mail (…+N@sg.test): the acknowledgement cap per address must not apply. The senders of one call
    /// share a mailbox of their own, which takes the acknowledgements as the ceiling's fresh mailbox took
    /// smtp-source's mail: Dovecot's cost per delivery grows with the mailbox, and one shared by every run (the
    /// tests' customer@, 37,000 mails after a day of runs) had made Dovecot's LMTP the whole machine's bottleneck.
    /// </summary>
    private static async Task DeliverAsync(MailKit.Net.Smtp.SmtpClient smtp, string user, int first, int count, Dictionary<string, long> accepted, int rate)
    {
        var customers = NewMailbox("supportcustomers");
        var pace = Stopwatch.StartNew();
        for (var i = first; i < first + count; i++)
        {
            if (rate > 0 && pace.Elapsed < TimeSpan.FromSeconds((double)(i - first) / rate))
                await Task.Delay(TimeSpan.FromSeconds((double)(i - first) / rate) - pace.Elapsed);
            var id = $"bench-{i}-{Guid.NewGuid():N}@client.sg.test";
            var mail = new MimeKit.MimeMessage([new MimeKit.MailboxAddress("Клиент", $"{customers}+{i}@sg.test")], [MimeKit.MailboxAddress.Parse($"{user}@sg.test")],
                $"Заявка {i}: не печатает принтер", new MimeKit.TextPart("plain") { Text = $"Здравствуйте! Принтер в кабинете {i} не печатает.\r\n" })
            {
                MessageId = id,
            };
            // A refusal throws (SmtpCommandException), which ends the run.
            await smtp.SendAsync(mail, MimeKit.MailboxAddress.Parse($"{customers}+{i}@sg.test"), [MimeKit.MailboxAddress.Parse($"{user}@sg.test")]);
            accepted[id] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        }
    }

    private static async Task<long> WaitForAcksAsync(string database, int count)
    {
        await using var connection = new SqliteConnection($"Data Source={database}");
        var deadline = DateTime.UtcNow.AddMinutes(10);
        while (DateTime.UtcNow < deadline)
        {
            var sent = await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM outbox WHERE channel = 'email' AND state = 'sent'");
            if (sent >= count)
                return await connection.ExecuteScalarAsync<long>("SELECT MAX(sent_at) FROM outbox WHERE channel = 'email'");
            await Task.Delay(100);
        }
        throw new TimeoutException($"fewer than {count} acknowledgements after 10 minutes");
    }

    /// <summary>
    /// When Dovecot wrote each mail, by Message-ID: a maildir file's name starts with the delivery's time,
    /// "seconds.Mmicroseconds…" (the name is kept when the gateway moves it to the processed folder).
    /// </summary>
    private static Dictionary<string, long> DeliveredAt(string maildir)
    {
        var at = new Dictionary<string, long>(StringComparer.Ordinal);
        if (!Directory.Exists(maildir))
            return at;
        foreach (var file in Directory.EnumerateFiles(maildir, "*", SearchOption.AllDirectories))
        {
            var name = Path.GetFileName(file);
            var parts = name.Split('.');
            if (parts.Length < 2 || !long.TryParse(parts[0], out var seconds) || !parts[1].StartsWith('M'))
                continue;
            var micros = long.TryParse(parts[1][1..].Split('P')[0], out var m) ? m : 0;
            foreach (var line in File.ReadLines(file).TakeWhile(l => l.Length > 0))
            {
                if (line.StartsWith("Message-ID:", StringComparison.OrdinalIgnoreCase))
                {
                    at[line[11..].Trim().Trim('<', '>')] = (seconds * 1000) + (micros / 1000);
                    break;
                }
            }
        }
        return at;
    }

    private static double P(List<double> sorted, double p) => sorted.Count == 0 ? double.NaN : sorted[(int)Math.Min(sorted.Count - 1, Math.Ceiling(p * sorted.Count) - 1)];
}
