using System.Diagnostics;
using System.Text;
using SupportGateway.Mail.Imap;
using SupportGateway.Mail.Mime;
using SupportGateway.Mail.Net;
using SupportGateway.Mail.Smtp;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Mail.Servers;

/// <summary>The IMAP client against a real Dovecot, with mail delivered by a real Postfix.</summary>
[NonParallelizable]
public sealed class ImapDovecotTests
{
    private RecordingLog _log = new();

    [OneTimeSetUp]
    public Task Servers() => MailServers.EnsureStartedAsync();

    [SetUp]
    public void FreshLog() => _log = new RecordingLog();

    [Test]
    public async Task Logs_in_with_authenticate_plain_or_login_and_the_log_keeps_no_secret()
    {
        await using var plain = await ConnectAsync("robot@sg.test");
        Assert.That(plain.Capabilities, Does.Contain("IDLE").And.Contain("MOVE").And.Contain("UIDPLUS"), "post-login capabilities");
        await plain.LogoutAsync(CancellationToken.None);

        await using var login = await ConnectAsync("robot@sg.test", ignored: ["AUTH=PLAIN"]);
        Assert.That(login.IsConnected);
        await login.LogoutAsync(CancellationToken.None);
        Assert.That(login.IsConnected, Is.False);

        var token = Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0robot@sg.test\0{MailServers.Password}"));
        Assert.That(_log.Lines, Has.Some.Contains("AUTHENTICATE PLAIN ********").And.Some.Contains("LOGIN ******** ********"));
        Assert.That(_log.Lines, Has.None.Contains(MailServers.Password).And.None.Contains(token));

        var wrong = new ImapClient(Options("robot@sg.test") with { Password = "wrong" });
        Assert.That(() => wrong.ConnectAsync(CancellationToken.None),
            Throws.TypeOf<ImapCommandException>().With.Property(nameof(ImapCommandException.Code)).EqualTo("AUTHENTICATIONFAILED"));
        Assert.That(wrong.IsConnected, Is.False);
    }

    [Test]
    public async Task Fetches_a_thousand_messages_and_moves_them()
    {
        const int count = 1000;
        var folder = "Входящие-" + Guid.NewGuid().ToString("N")[..8];
        var done = folder + "-обработано";
        await using var client = await ConnectAsync("robot@sg.test");
        await client.CreateFolderAsync(folder, CancellationToken.None);
        await client.CreateFolderAsync(done, CancellationToken.None);
        await client.CreateFolderAsync(done, CancellationToken.None);

        var clock = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
            await client.AppendAsync(folder, Message(i), i % 2 == 0 ? ["\\Seen"] : null, new DateTimeOffset(2026, 11, 1, 9, 0, 0, TimeSpan.FromHours(3)).AddMinutes(i), CancellationToken.None);
        var appended = clock.Elapsed;

        var mailbox = await client.SelectAsync(folder, CancellationToken.None);
        Assert.That((mailbox.Exists, mailbox.UidNext, mailbox.ReadOnly), Is.EqualTo(((uint)count, (uint)count + 1, false)));
        Assert.That(mailbox.UidValidity, Is.GreaterThan(0));
        var uids = await client.UidSearchAsync("ALL", CancellationToken.None);
        Assert.That(uids, Has.Count.EqualTo(count));
        Assert.That(await client.UidSearchAsync("UNSEEN", CancellationToken.None), Has.Count.EqualTo(count / 2));

        clock.Restart();
        var messages = await client.UidFetchAsync(uids, ImapFetchItems.All, CancellationToken.None);
        var fetched = clock.Elapsed;
        Assert.That(messages, Has.Count.EqualTo(count));
        for (var i = 0; i < count; i++)
        {
            var message = messages[i];
            Assert.That(MimeParser.Parse(message.Body!).Subject, Is.EqualTo($"Заявка №{i}"));
            Assert.That(message.Size, Is.EqualTo(message.Body!.Length));
            Assert.That(message.InternalDate, Is.EqualTo(new DateTimeOffset(2026, 11, 1, 9, 0, 0, TimeSpan.FromHours(3)).AddMinutes(i)));
            Assert.That(message.Flags, i % 2 == 0 ? Does.Contain("\\Seen") : Does.Not.Contain("\\Seen"));
        }
        Assert.That(await client.UidSearchAsync("UNSEEN", CancellationToken.None), Has.Count.EqualTo(count / 2), "BODY.PEEK[] leaves \\Seen alone");

        await client.UidStoreAsync(uids.Take(10), ImapStoreMode.Add, ["\\Flagged"], CancellationToken.None);
        Assert.That(await client.UidSearchAsync("FLAGGED", CancellationToken.None), Is.EqualTo(uids.Take(10)));

        clock.Restart();
        await client.UidMoveAsync(uids, done, CancellationToken.None);
        var moved = clock.Elapsed;
        Assert.That(client.Selected!.Exists, Is.Zero, "EXPUNGE responses keep the count current");
        Assert.That(await client.UidSearchAsync("ALL", CancellationToken.None), Is.Empty);
        var target = await client.ExamineAsync(done, CancellationToken.None);
        Assert.That((target.Exists, target.ReadOnly), Is.EqualTo(((uint)count, true)));
        TestContext.Out.WriteLine($"Dovecot, {count} messages: APPEND {appended.TotalMilliseconds:F0} ms, UID FETCH (FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[]) {fetched.TotalMilliseconds:F0} ms, UID MOVE {moved.TotalMilliseconds:F0} ms");
    }

    [Test]
    public async Task Without_move_messages_are_copied_flagged_deleted_and_expunged_by_uid()
    {
        var folder = "nomove-" + Guid.NewGuid().ToString("N")[..8];
        await using var client = await ConnectAsync("robot@sg.test", ignored: ["MOVE"]);
        await client.CreateFolderAsync(folder, CancellationToken.None);
        await client.CreateFolderAsync(folder + ".done", CancellationToken.None);
        for (var i = 0; i < 5; i++)
            await client.AppendAsync(folder, Message(i), null, null, CancellationToken.None);
        await client.SelectAsync(folder, CancellationToken.None);
        var uids = await client.UidSearchAsync("ALL", CancellationToken.None);
        // Another client's message marked \Deleted must survive: the fallback expunges by UID only.
        await client.UidStoreAsync([uids[4]], ImapStoreMode.Add, ["\\Deleted"], CancellationToken.None);

        await client.UidMoveAsync(uids.Take(3), folder + ".done", CancellationToken.None);

        Assert.That(await client.UidSearchAsync("ALL", CancellationToken.None), Is.EqualTo(uids.Skip(3)));
        Assert.That(_log.Lines, Has.Some.Contains("UID COPY").And.Some.Contains("UID EXPUNGE").And.None.Contains("UID MOVE"));
        Assert.That((await client.ExamineAsync(folder + ".done", CancellationToken.None)).Exists, Is.EqualTo(3));
    }

    [Test]
    public async Task Idle_wakes_when_postfix_delivers_a_message()
    {
        await using var client = await ConnectAsync("customer@sg.test");
        await client.SelectAsync("INBOX", CancellationToken.None);
        var before = client.Selected!.Exists;

        var marker = Guid.NewGuid().ToString("N");
        var idle = client.WaitForChangeAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
        await Task.Delay(200);
        await using (var smtp = new SmtpClient(new SmtpClientOptions { Host = MailServers.Host, Port = MailServers.SmtpPort, Security = MailSecurity.PlainLoopbackOnly }))
        {
            await smtp.ConnectAsync(CancellationToken.None);
            var sent = await smtp.SendAsync(MimeWriter.Write(new OutgoingMessage
            {
                From = new MailAddress("", "robot@sg.test"),
                To = [new MailAddress("", "customer@sg.test")],
                Subject = "IDLE " + marker,
                Text = "Проверка IDLE.",
            }), "robot@sg.test", ["customer@sg.test"], CancellationToken.None);
            Assert.That(sent.Delivered, Is.Not.Empty);
        }
        var accepted = Stopwatch.StartNew();
        Assert.That(await idle, Is.True, "IDLE reported the new message");
        TestContext.Out.WriteLine($"IDLE woke {accepted.ElapsedMilliseconds} ms after Postfix accepted the message (bench: imap-idle)");
        Assert.That(client.Selected!.Exists, Is.GreaterThan(before));

        // After DONE the session is usable: the new message is there.
        var uids = await client.UidSearchAsync($"SUBJECT {marker}", CancellationToken.None);
        Assert.That(uids, Has.Count.EqualTo(1));
        Assert.That(_log.Lines, Has.Some.EqualTo("C: DONE"));
    }

    [Test]
    public async Task Reconnects_after_dovecot_restarts()
    {
        var folder = "restart-" + Guid.NewGuid().ToString("N")[..8];
        await using var client = await ConnectAsync("agent@sg.test");
        await client.CreateFolderAsync(folder, CancellationToken.None);
        await client.AppendAsync(folder, Message(1), null, null, CancellationToken.None);
        var before = await client.SelectAsync(folder, CancellationToken.None);

        await MailServers.RestartImapAsync();

        Assert.That(() => client.NoopAsync(CancellationToken.None), Throws.InstanceOf<MailProtocolException>());
        Assert.That((client.IsConnected, client.Selected), Is.EqualTo((false, (ImapMailbox?)null)));

        await client.ConnectAsync(CancellationToken.None);
        var after = await client.SelectAsync(folder, CancellationToken.None);
        Assert.That((after.UidValidity, after.Exists), Is.EqualTo((before.UidValidity, 1u)), "same folder, same UIDs after the restart");
    }

    private static ReadOnlyMemory<byte> Message(int i) => MimeWriter.Write(new OutgoingMessage
    {
        From = new MailAddress("Клиент", "customer@sg.test"),
        To = [new MailAddress("", "robot@sg.test")],
        Subject = $"Заявка №{i}",
        Text = $"Сообщение {i}: принтер не печатает.\r\n" + new string('x', i % 50),
    });

    private ImapClientOptions Options(string user, string[]? ignored = null) => new()
    {
        Host = MailServers.Host,
        Port = MailServers.ImapPort,
        Security = MailSecurity.PlainLoopbackOnly,
        UserName = user,
        Password = MailServers.Password,
        Timeout = TimeSpan.FromSeconds(20),
        ProtocolLog = _log,
        IgnoredCapabilities = new HashSet<string>(ignored ?? []),
    };

    private async Task<ImapClient> ConnectAsync(string user, string[]? ignored = null)
    {
        var client = new ImapClient(Options(user, ignored));
        await client.ConnectAsync(CancellationToken.None);
        return client;
    }
}
