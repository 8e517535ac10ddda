using System.Text;
using SupportGateway.Mail.Imap;
using SupportGateway.Mail.Mime;
using SupportGateway.Mail.Net;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Mail;

/// <summary>
/// Sessions with the behaviour big providers show in public transcripts, which Dovecot cannot reproduce:
/// Mail.ru without IDLE or AUTHENTICATE, Yandex without SASL-IR and with Cyrillic folders, Exchange without MOVE
/// and with untagged data around IDLE and BYE after DONE, Gmail with SASL-IR and LITERAL- instead of LITERAL+.
/// </summary>
public sealed class ImapReplayTests
{
    private readonly RecordingLog _log = new();

    [Test]
    public async Task Mail_ru_logs_in_with_login_and_is_polled_with_noop_since_it_has_no_idle()
    {
        var body = "Subject: =?koi8-r?B?8NLJztTF0g==?=\r\nFrom: a@mail.ru\r\n\r\nТекст\r\n";
        await using var server = new ReplayServer($$"""
            S: * OK IMAP4 ready
            C: A0001 CAPABILITY
            S: * CAPABILITY IMAP4rev1 ID XLIST UIDPLUS UNSELECT MOVE LIST-STATUS
            S: A0001 OK CAPABILITY completed
            C: A0002 LOGIN "support@mail.ru" "pa\"ss"
            S: * CAPABILITY IMAP4rev1 ID XLIST UIDPLUS UNSELECT MOVE LIST-STATUS
            S: A0002 OK Authentication successful
            C: A0003 SELECT "INBOX"
            S: * FLAGS (\Answered \Flagged \Deleted \Draft \Seen)
            S: * 0 EXISTS
            S: * 0 RECENT
            S: * OK [UIDVALIDITY 1427955509]
            S: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft)]
            S: * OK [UIDNEXT 3592]
            S: A0003 OK [READ-WRITE] SELECT completed
            C: A0004 NOOP
            S: * 1 EXISTS
            S: * 1 RECENT
            S: A0004 OK NOOP completed
            C: A0005 UID FETCH 3592 (UID RFC822.SIZE BODY.PEEK[])
            S: * 1 FETCH (UID 3592 RFC822.SIZE {{Encoding.UTF8.GetByteCount(body)}} BODY[] {{{Encoding.UTF8.GetByteCount(body)}}}
            {{Lines(body)}}
            S: )
            S: A0005 OK FETCH completed
            C: A0006 UID MOVE 3592 "&BB4EMQRABDAEMQQ+BEIEMAQ9BD0ESwQ1-"
            S: * OK [COPYUID 1427955510 3592 17]
            S: * 1 EXPUNGE
            S: A0006 OK MOVE completed
            C: A0007 LOGOUT
            S: * BYE logging out
            S: A0007 OK LOGOUT completed
            """);
        await using var client = Client(server, "support@mail.ru", "pa\"ss");
        await client.ConnectAsync(CancellationToken.None);
        var inbox = await client.SelectAsync("INBOX", CancellationToken.None);
        Assert.That((inbox.UidValidity, inbox.UidNext, inbox.Exists), Is.EqualTo((1427955509u, 3592u, 0u)));

        Assert.That(() => client.WaitForChangeAsync(TimeSpan.FromSeconds(1), CancellationToken.None), Throws.TypeOf<NotSupportedException>(),
            "Mail.ru answers IDLE with BAD [CLIENTBUG]; the client must not send it");
        var changes = new List<ImapMailboxChange>();
        client.MailboxChanged += (_, change) => changes.Add(change);
        await client.NoopAsync(CancellationToken.None);
        Assert.That(changes, Is.EqualTo(new[] { new ImapMailboxChange("EXISTS", 1) }));

        var message = (await client.UidFetchAsync([3592], ImapFetchItems.Size | ImapFetchItems.Body, CancellationToken.None)).Single();
        Assert.That(MimeParser.Parse(message.Body!).Subject, Is.EqualTo("Принтер"));
        await client.UidMoveAsync([3592], "Обработанные", CancellationToken.None);
        Assert.That(client.Selected!.Exists, Is.Zero);
        await client.LogoutAsync(CancellationToken.None);

        Assert.That(await server.FinishedAsync(), Is.Null);
        Assert.That(_log.Lines, Has.Some.EqualTo("C: A0002 LOGIN ******** ********").And.None.Contains("pa\"ss"));
    }

    [Test]
    public async Task Yandex_gets_authenticate_plain_after_the_continuation_and_appends_with_literal_plus()
    {
        var message = "Subject: test\r\n\r\nbody\r\n";
        await using var server = new ReplayServer($$"""
            S: * OK Yandex IMAP4rev1 at imap.yandex.ru:993 ready to talk with 127.0.0.1:50000, 2026-Nov-22 10:00:00, abc
            C: A0001 CAPABILITY
            S: * CAPABILITY IMAP4rev1 CHILDREN UNSELECT LITERAL+ NAMESPACE XLIST BINARY UIDPLUS ENABLE ID AUTH=PLAIN AUTH=XOAUTH2 IDLE MOVE
            S: A0001 OK CAPABILITY Completed.
            C: A0002 AUTHENTICATE PLAIN
            S: +
            C: AHN1cHBvcnRAeWFuZGV4LnJ1AGFwcC1wYXNzd29yZA==
            S: A0002 OK AUTHENTICATE Completed.
            C: A0003 CAPABILITY
            S: * CAPABILITY IMAP4rev1 CHILDREN UNSELECT LITERAL+ NAMESPACE XLIST BINARY UIDPLUS ENABLE ID IDLE MOVE
            S: A0003 OK CAPABILITY Completed.
            C: A0004 CREATE "&BB4EMQRABDAEMQQ+BEIEMAQ9BD0ESwQ1-"
            S: A0004 NO [ALREADYEXISTS] CREATE Folder already exists.
            C: A0005 APPEND "&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-" (\Seen) {{{message.Length}}+}
            C: Subject: test
            C:
            C: body
            C:
            S: A0005 OK [APPENDUID 1600000000 77] APPEND Completed.
            C: A0006 EXAMINE "&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-"
            S: * 77 EXISTS
            S: * OK [UIDVALIDITY 1600000000] UIDs valid
            S: * OK [UIDNEXT 78] Predicted next UID
            S: A0006 OK [READ-ONLY] EXAMINE Completed.
            """);
        await using var client = Client(server, "support@yandex.ru", "app-password");
        await client.ConnectAsync(CancellationToken.None);
        await client.CreateFolderAsync("Обработанные", CancellationToken.None);
        var uid = await client.AppendAsync("Отправленные", Encoding.ASCII.GetBytes(message), ["\\Seen"], null, CancellationToken.None);
        var sent = await client.ExamineAsync("Отправленные", CancellationToken.None);

        Assert.That(await server.FinishedAsync(), Is.Null);
        Assert.That(uid, Is.EqualTo(77));
        Assert.That((sent.Name, sent.Exists, sent.UidNext, sent.ReadOnly), Is.EqualTo(("Отправленные", 77u, 78u, true)));
        Assert.That(client.Capabilities, Does.Not.Contain("AUTH=PLAIN"), "capabilities were read again after login");
        Assert.That(_log.Lines, Has.Some.EqualTo("C: ********").And.None.Contains("AHN1cHBvcnRA"));
    }

    [Test]
    public async Task Exchange_without_move_idles_through_early_untagged_data_and_its_bye_after_done_drops_the_connection()
    {
        await using var server = new ReplayServer("""
            S: * OK The Microsoft Exchange IMAP4 service is ready.
            C: A0001 CAPABILITY
            S: * CAPABILITY IMAP4 IMAP4rev1 AUTH=NTLM AUTH=GSSAPI AUTH=PLAIN UIDPLUS CHILDREN IDLE NAMESPACE LITERAL+
            S: A0001 OK CAPABILITY completed.
            C: A0002 AUTHENTICATE PLAIN
            S: +
            C: AHN1cHBvcnRAZXhhbXBsZS5jb20AcEBzcyB3MHJk
            S: A0002 OK AUTHENTICATE completed.
            C: A0003 CAPABILITY
            S: * CAPABILITY IMAP4 IMAP4rev1 AUTH=NTLM AUTH=GSSAPI AUTH=PLAIN UIDPLUS CHILDREN IDLE NAMESPACE LITERAL+
            S: A0003 OK CAPABILITY completed.
            C: A0004 SELECT "INBOX"
            S: * 4 EXISTS
            S: * 0 RECENT
            S: * FLAGS (\Seen \Answered \Flagged \Deleted \Draft $MDNSent)
            S: * OK [PERMANENTFLAGS (\Seen \Answered \Flagged \Deleted \Draft $MDNSent)] Permanent flags
            S: * OK [UIDVALIDITY 14] UIDVALIDITY value
            S: * OK [UIDNEXT 41] The next unique identifier value
            S: A0004 OK [READ-WRITE] SELECT completed.
            C: A0005 IDLE
            S: * 5 EXISTS
            S: + IDLE accepted, awaiting DONE command.
            C: DONE
            S: A0005 OK IDLE completed.
            C: A0006 UID FETCH 40:41 (UID FLAGS)
            S: * 4 FETCH (UID 40 FLAGS (\Seen))
            S: * 2 FETCH (FLAGS (\Seen \Answered))
            S: * 6 EXISTS
            S: * 5 FETCH (FLAGS () UID 41)
            S: A0006 OK FETCH completed.
            C: A0007 UID COPY 40:41 "Processed"
            S: A0007 OK [COPYUID 15 40:41 7:8] COPY completed.
            C: A0008 UID STORE 40:41 +FLAGS.SILENT (\Deleted)
            S: A0008 OK STORE completed.
            C: A0009 UID EXPUNGE 40:41
            S: * 5 EXPUNGE
            S: * 4 EXPUNGE
            S: A0009 OK EXPUNGE completed.
            C: A0010 IDLE
            S: + IDLE accepted, awaiting DONE command.
            C: DONE
            S: * BYE Connection is closed. 13
            S: <close>
            """);
        await using var client = Client(server, "support@example.com", "p@ss w0rd");
        await client.ConnectAsync(CancellationToken.None);
        await client.SelectAsync("INBOX", CancellationToken.None);

        Assert.That(await client.WaitForChangeAsync(TimeSpan.FromSeconds(10), CancellationToken.None), Is.True, "EXISTS before the '+' counts");
        var messages = await client.UidFetchAsync([40, 41], ImapFetchItems.Flags, CancellationToken.None);
        Assert.That(messages.Select(m => (m.Uid, string.Join(' ', m.Flags!))), Is.EqualTo(new[] { (40u, "\\Seen"), (41u, "") }),
            "an unsolicited FETCH without UID is not taken for a result");
        Assert.That(client.Selected!.Exists, Is.EqualTo(6));
        await client.UidMoveAsync([40, 41], "Processed", CancellationToken.None);
        Assert.That(client.Selected!.Exists, Is.EqualTo(4));

        using var leave = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        Assert.That(() => client.IdleAsync(leave.Token, CancellationToken.None),
            Throws.TypeOf<MailProtocolException>().With.Message.Contains("Connection is closed. 13"));
        Assert.That(client.IsConnected, Is.False);
        Assert.That(await server.FinishedAsync(), Is.Null);
    }

    [Test]
    public async Task Gmail_takes_the_initial_response_inline_and_a_synchronizing_literal_without_literal_plus()
    {
        var message = "Subject: x\r\n\r\ny\r\n";
        await using var server = new ReplayServer($$"""
            S: * OK Gimap ready for requests from 127.0.0.1 a1mb
            C: A0001 CAPABILITY
            S: * CAPABILITY IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1 XYZZY SASL-IR AUTH=XOAUTH2 AUTH=PLAIN AUTH=PLAIN-CLIENTTOKEN AUTH=OAUTHBEARER
            S: A0001 OK Thats all she wrote! a1mb
            C: A0002 AUTHENTICATE PLAIN AHN1cHBvcnRAZXhhbXBsZS5jb20AcEBzcyB3MHJk
            S: * CAPABILITY IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1 UIDPLUS COMPRESS=DEFLATE ENABLE MOVE CONDSTORE ESEARCH UTF8=ACCEPT LIST-EXTENDED LIST-STATUS LITERAL- SPECIAL-USE APPENDLIMIT=35651584
            S: A0002 OK support@example.com authenticated (Success)
            C: A0003 APPEND "[Gmail]/Drafts" {{{message.Length}}}
            S: + go ahead
            C: Subject: x
            C:
            C: y
            C:
            S: A0003 OK [APPENDUID 11 1400] (Success)
            C: A0004 SELECT "INBOX"
            S: * FLAGS (\Answered \Flagged \Draft \Deleted \Seen $NotPhishing $Phishing)
            S: * OK [PERMANENTFLAGS (\Answered \Flagged \Draft \Deleted \Seen $NotPhishing $Phishing \*)] Flags permitted.
            S: * OK [UIDVALIDITY 1] UIDs valid.
            S: * 3 EXISTS
            S: * 0 RECENT
            S: * OK [UIDNEXT 9] Predicted next UID.
            S: * OK [HIGHESTMODSEQ 4242]
            S: A0004 OK [READ-WRITE] INBOX selected. (Success)
            C: A0005 IDLE
            S: + idling
            C: DONE
            S: A0005 OK IDLE terminated (Success)
            """);
        await using var client = Client(server, "support@example.com", "p@ss w0rd");
        await client.ConnectAsync(CancellationToken.None);
        Assert.That(await client.AppendAsync("[Gmail]/Drafts", Encoding.ASCII.GetBytes(message), null, null, CancellationToken.None), Is.EqualTo(1400));
        var inbox = await client.SelectAsync("INBOX", CancellationToken.None);
        Assert.That((inbox.UidValidity, inbox.UidNext, inbox.Exists), Is.EqualTo((1u, 9u, 3u)));

        Assert.That(await client.WaitForChangeAsync(TimeSpan.FromMilliseconds(300), CancellationToken.None), Is.False, "nothing arrived: DONE after the wait");
        Assert.That(client.IsConnected);
        Assert.That(await server.FinishedAsync(), Is.Null);
        Assert.That(_log.Lines, Has.Some.EqualTo("C: A0002 AUTHENTICATE PLAIN ********"));
    }

    [Test]
    public async Task A_refused_command_keeps_the_session_and_a_timeout_drops_it()
    {
        await using var server = new ReplayServer("""
            S: * PREAUTH [CAPABILITY IMAP4rev1 IDLE] ready
            C: A0001 SELECT "&BB0ENQRC- &BEIEMAQ6BD4EOQ-"
            S: A0001 NO [NONEXISTENT] Mailbox doesn't exist
            C: A0002 NOOP
            S: <wait>
            """);
        await using var client = new ImapClient(new ImapClientOptions
        {
            Host = "127.0.0.1",
            Port = server.Port,
            Security = MailSecurity.PlainLoopbackOnly,
            Timeout = TimeSpan.FromMilliseconds(500),
            ProtocolLog = _log,
        });
        await client.ConnectAsync(CancellationToken.None);

        Assert.That(() => client.SelectAsync("Нет такой", CancellationToken.None),
            Throws.TypeOf<ImapCommandException>().With.Property(nameof(ImapCommandException.Code)).EqualTo("NONEXISTENT"));
        Assert.That(client.IsConnected);
        Assert.That(() => client.NoopAsync(CancellationToken.None), Throws.TypeOf<MailProtocolException>().With.Message.Contains("in time"));
        Assert.That(client.IsConnected, Is.False);
    }

    private ImapClient Client(ReplayServer server, string user, string password) => new(new ImapClientOptions
    {
        Host = "127.0.0.1",
        Port = server.Port,
        Security = MailSecurity.PlainLoopbackOnly,
        UserName = user,
        Password = password,
        Timeout = TimeSpan.FromSeconds(5),
        ProtocolLog = _log,
    });

    /// <summary>A literal's text as script lines (the server adds CRLF to each).</summary>
    private static string Lines(string text) => string.Join("\n", text.Split("\r\n")[..^1].Select(l => "S: " + l));
}
