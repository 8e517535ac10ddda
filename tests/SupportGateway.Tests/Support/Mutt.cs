using System.Diagnostics;

namespace SupportGateway.Tests.Support;

/// <summary>
/// A real mutt as the agent's mail client: it opens the agent's INBOX over IMAP, finds a message by Message-ID,
/// replies with mutt's own reply logic (Reply-To, In-Reply-To/References, quoting) and sends through Postfix. The
/// editor step is a script that writes the reply text above the quote, as an agent would.
/// </summary>
internal static class Mutt
{
    public static async Task ReplyAsync(string user, string messageId, string replyText)
    {
        var directory = TempDirectory.Create();
        var reply = Path.Combine(directory, "reply.txt");
        await File.WriteAllTextAsync(reply, replyText.ReplaceLineEndings("\n") + "\n");
        var editor = Path.Combine(directory, "editor.sh");
        await File.WriteAllTextAsync(editor, $"#!/bin/sh\n{{ cat '{reply}'; printf '\\n'; cat \"$1\"; }} > \"$1.new\" && mv \"$1.new\" \"$1\"\n");
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(editor, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var muttrc = Path.Combine(directory, "muttrc");
        await File.WriteAllTextAsync(muttrc, $"""
            set imap_user = "{user}"
            set imap_pass = "{MailServers.Password}"
            set folder = "imap://{MailServers.Host}:{MailServers.ImapPort}/"
            set spoolfile = "+INBOX"
            set smtp_url = "smtp://{MailServers.Host}:{MailServers.SmtpPort}/"
            set from = "{user}"
            set realname = "Олег Агентов"
            set use_from = yes
            set reply_to = yes
            set include = yes
            set fast_reply = yes
            set editor = "{editor}"
            set charset = "utf-8"
            set send_charset = "utf-8"
            set ssl_starttls = no
            set ssl_force_tls = no
            set copy = no
            set record = ""
            set postpone = no
            set sleep_time = 0
            set mail_check = 0
            set quit = yes
            set certificate_file = "{Path.Combine(directory, "certificates")}"
            """);
        // Mutt wants a terminal: script(1) gives it one. The search is a regular expression; dots match themselves too.
        var command = $"mutt -d 2 -n -F '{muttrc}' -f imap://{MailServers.Host}:{MailServers.ImapPort}/INBOX " +
            $"-e 'push \"<search>~i {messageId}<enter><reply><send-message><quit>\"'";
        // Now and then mutt drops the keys still pushed when its editor returns and waits in the compose menu. Nothing
        // was sent then (its debug log has no "Sending message"), so it is safe to start over; after a send it is not.
        for (var attempt = 1; ; attempt++)
        {
            var debug = Path.Combine(directory, ".muttdebug0");
            File.Delete(debug);
            var (finished, screen) = await RunAsync(command, directory);
            if (finished)
                return;
            var log = File.Exists(debug) ? await File.ReadAllLinesAsync(debug) : [];
            var sent = log.Any(l => l.Contains("Sending message", StringComparison.Ordinal));
            if (sent || attempt == 3)
                Assert.Fail($"mutt did not finish its reply to <{messageId}> (attempt {attempt}, {(sent ? "after" : "before")} sending); " +
                    $"its screen ended with: {Tail(screen)}\nits debug log ended with:\n{string.Join("\n", log.TakeLast(30))}");
            TestContext.Out.WriteLine($"mutt stalled before sending its reply to <{messageId}>; starting over (attempt {attempt + 1})");
        }
    }

    /// <summary>Runs mutt under script(1); false when it had to be killed after 20 s.</summary>
    private static async Task<(bool Finished, string Screen)> RunAsync(string command, string directory)
    {
        var start = new ProcessStartInfo("script", ["-qec", command, "/dev/null"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        start.Environment["TERM"] = "xterm";
        // Mutt writes its debug log (-d 2) to $HOME/.muttdebug0: kept with the test's files for a failure's message.
        start.Environment["HOME"] = directory;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            return (false, await output);
        }
        Assert.That(process.ExitCode, Is.Zero, Tail(await output));
        return (true, await output);
    }

    private static string Tail(string screen)
    {
        var printable = new string([.. screen.Where(c => c >= ' ' || c == '\n')]);
        return printable.Length > 400 ? printable[^400..] : printable;
    }
}
