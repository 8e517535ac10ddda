using System.Diagnostics;
using System.Text;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Search;
using MailKit.Security;
using MimeKit;
using SupportGateway.Host.Channels.Email;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Mail.Servers;

/// <summary>The mailbox reader's IMAP session (MailKit) against a real Dovecot, with mail delivered by a real Postfix.</summary>
[NonParallelizable]
public sealed class ImapDovecotTests
{
    private Transcript _log = new();

    [OneTimeSetUp]
    public Task Servers() => MailServers.EnsureStartedAsync();

    [SetUp]
    public void FreshLog() => _log = new Transcript();

    [Test]
    public async Task Logs_in_with_authenticate_plain_or_login_and_the_log_keeps_no_secret()
    {
        await using (var plain = await TestMailbox.OpenAsync(Mailbox("robot@sg.test"), _log))
            Assert.That(plain.CanIdle);
        await using (var login = await TestMailbox.OpenAsync(Mailbox("robot@sg.test", ignored: ["AUTH=PLAIN"]), _log))
            Assert.That(login.IsConnected);

        var token = Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0robot@sg.test\0{MailServers.Password}"));
        Assert.That(_log.Lines, Has.Some.Contains("AUTHENTICATE PLAIN").And.Some.Contains("AUTHENTICATE LOGIN"));
        Assert.That(_log.Text, Does.Not.Contain(MailServers.Password).And.Not.Contain(token).And.Not.Contain(Convert.ToBase64String(Encoding.UTF8.GetBytes(MailServers.Password))));

        Assert.That(() => TestMailbox.OpenAsync(Mailbox("robot@sg.test", password: "wrong"), _log), Throws.InstanceOf<AuthenticationException>());
    }

    [Test]
    public async Task Reads_a_thousand_messages_byte_for_byte_and_moves_them()
    {
        const int count = 1000;
        var user = "support" + Guid.NewGuid().ToString("N")[..10] + "@sg.test";
        var done = "Обработано";
        var sent = new List<byte[]>();
        using (var setup = await MailServers.ImapAsync(user))
        {
            var inbox = setup.Inbox;
            for (var i = 0; i < count; i++)
            {
                var message = Message(i);
                sent.Add(message);
                await inbox.AppendAsync(new AppendRequest(MimeMessage.Load(new MemoryStream(message)), i % 2 == 0 ? MessageFlags.Seen : MessageFlags.None));
            }
        }

        await using var session = await TestMailbox.OpenAsync(Mailbox(user, processed: done), _log);
        var clock = Stopwatch.StartNew();
        var uids = await session.NewAsync(0, CancellationToken.None);
        Assert.That(uids.Select(u => u.Id), Is.EqualTo(Enumerable.Range(1, count).Select(i => (uint)i)));
        var fetched = new List<(UniqueId Uid, byte[] Raw)>();
        foreach (var batch in uids.Chunk(100))
            fetched.AddRange(await session.FetchAsync(batch, CancellationToken.None));
        var fetchTime = clock.Elapsed;
        Assert.That(fetched.Select(m => m.Uid), Is.EqualTo(uids));
        for (var i = 0; i < count; i++)
            Assert.That(fetched[i].Raw, Is.EqualTo(sent[i]), $"message {i} reached the reader byte for byte");
        Assert.That(await session.NewAsync(500, CancellationToken.None), Has.Count.EqualTo(500), "above the cursor only");
        Assert.That(await session.NewAsync(count, CancellationToken.None), Is.Empty, "UID n:* matches the last message even below n; it is left out");

        clock.Restart();
        await session.ReleaseAsync([.. uids], CancellationToken.None);
        var moveTime = clock.Elapsed;
        Assert.That(await session.NewAsync(0, CancellationToken.None), Is.Empty);
        Assert.That(_log.Lines, Has.Some.Contains("UID MOVE"));
        using var check = await MailServers.ImapAsync(user);
        Assert.That(await MailServers.CountAsync(check, done), Is.EqualTo(count));
        var moved = await check.GetFolderAsync(done);
        await moved.OpenAsync(FolderAccess.ReadOnly);
        Assert.That(await moved.SearchAsync(SearchQuery.NotSeen), Has.Count.EqualTo(count / 2), "BODY.PEEK[] left \\Seen alone");
        TestContext.Out.WriteLine($"Dovecot, {count} messages: UID FETCH BODY.PEEK[] in batches of 100 {fetchTime.TotalMilliseconds:F0} ms, UID MOVE {moveTime.TotalMilliseconds:F0} ms");
    }

    [Test]
    public async Task Without_move_messages_are_copied_flagged_deleted_and_expunged_by_uid()
    {
        var user = "support" + Guid.NewGuid().ToString("N")[..10] + "@sg.test";
        using var other = await MailServers.ImapAsync(user);
        for (var i = 0; i < 5; i++)
            await other.Inbox.AppendAsync(new AppendRequest(MimeMessage.Load(new MemoryStream(Message(i))), MessageFlags.None));
        // Another client's message marked \Deleted must survive: the fallback expunges by UID only (UIDPLUS).
        await other.Inbox.OpenAsync(FolderAccess.ReadWrite);
        await other.Inbox.StoreAsync([new UniqueId(5)], new StoreFlagsRequest(StoreAction.Add, MessageFlags.Deleted) { Silent = true });

        await using var session = await TestMailbox.OpenAsync(Mailbox(user, ignored: ["MOVE"], processed: "Done"), _log);
        var uids = await session.NewAsync(0, CancellationToken.None);
        Assert.That(uids.Select(u => u.Id), Is.EqualTo(new uint[] { 1, 2, 3, 4 }), "a message marked \\Deleted is not read");
        await session.ReleaseAsync([.. uids.Take(3)], CancellationToken.None);

        Assert.That((await session.NewAsync(0, CancellationToken.None)).Select(u => u.Id), Is.EqualTo(new uint[] { 4 }));
        Assert.That(_log.Lines, Has.Some.Contains("UID COPY").And.Some.Contains("UID EXPUNGE").And.None.Contains("UID MOVE"));
        using var check = await MailServers.ImapAsync(user);
        Assert.That(await MailServers.CountAsync(check, "Done"), Is.EqualTo(3));
        Assert.That(await MailServers.CountAsync(check, "INBOX"), Is.EqualTo(2), "the other client's deleted message is still there");
    }

    [Test]
    public async Task Idle_wakes_when_postfix_delivers_a_message()
    {
        var user = "support" + Guid.NewGuid().ToString("N")[..10] + "@sg.test";
        await using var session = await TestMailbox.OpenAsync(Mailbox(user), _log);
        Assert.That(await session.NewAsync(0, CancellationToken.None), Is.Empty);

        var marker = Guid.NewGuid().ToString("N");
        var idle = session.WaitAsync(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30), null, TimeProvider.System, CancellationToken.None);
        await Eventually.HoldsAsync(() => Task.FromResult(_log.Text.Contains("+ idling", StringComparison.Ordinal)), 10, () => "IDLE started");
        var accepted = Stopwatch.StartNew();
        await MailServers.SubmitAsync("robot@sg.test", Encoding.UTF8.GetBytes($"From: robot@sg.test\r\nTo: {user}\r\nSubject: IDLE {marker}\r\n\r\nПроверка IDLE.\r\n"));
        Assert.That(await idle, Is.True, "IDLE reported the new message");
        TestContext.Out.WriteLine($"IDLE woke {accepted.ElapsedMilliseconds} ms after the submission started (bench: imap)");

        // After DONE the session is usable: the new message is there.
        var uids = await session.NewAsync(0, CancellationToken.None);
        Assert.That(Encoding.UTF8.GetString((await session.FetchAsync([.. uids], CancellationToken.None)).Single().Raw), Does.Contain(marker));
        Assert.That(_log.Lines, Has.Some.EqualTo("C: DONE"));
    }

    [Test]
    public async Task During_a_burst_noop_finds_new_mail_and_idle_is_not_used()
    {
        var user = "support" + Guid.NewGuid().ToString("N")[..10] + "@sg.test";
        await using var session = await TestMailbox.OpenAsync(Mailbox(user), _log);
        Assert.That(session.CanIdle, "Dovecot offers IDLE, and a burst polls all the same");
        var marker = Guid.NewGuid().ToString("N");
        var accepted = Stopwatch.StartNew();
        await MailServers.SubmitAsync("robot@sg.test", Encoding.UTF8.GetBytes($"From: robot@sg.test\r\nTo: {user}\r\nSubject: Burst {marker}\r\n\r\nПроверка.\r\n"));
        var polls = 0;
        while (!await session.WaitAsync(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(50), TimeProvider.System, CancellationToken.None))
            Assert.That(++polls, Is.LessThan(200), "NOOP never announced the delivered message");
        TestContext.Out.WriteLine($"NOOP polling saw the message {accepted.ElapsedMilliseconds} ms after the submission started, after {polls + 1} polls (IDLE: see Idle_wakes_when_postfix_delivers_a_message)");

        var uids = await session.NewAsync(0, CancellationToken.None);
        Assert.That(Encoding.UTF8.GetString((await session.FetchAsync([.. uids], CancellationToken.None)).Single().Raw), Does.Contain(marker));
        Assert.That(_log.Lines, Has.Some.EndsWith(" NOOP").And.None.EndsWith(" IDLE"));
    }

    private static byte[] Message(int i) => Encoding.UTF8.GetBytes(
        $"From: =?utf-8?B?0JrQu9C40LXQvdGC?= <customer@sg.test>\r\nTo: robot@sg.test\r\nSubject: =?utf-8?B?{Convert.ToBase64String(Encoding.UTF8.GetBytes($"Заявка №{i}"))}?=\r\n" +
        $"Message-ID: <{i}.{Guid.NewGuid():N}@client.sg.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
        $"Сообщение {i}: принтер не печатает.\r\n{new string('x', i % 50)}\r\n");

    private static MailboxOptions Mailbox(string user, string? password = MailServers.Password, string[]? ignored = null, string? processed = null) =>
        TestMailbox.Options(user, MailServers.ImapPort, password, ignored, processed);
}
