using System.Text;
using MailKit;
using SupportGateway.Host.Channels.Email;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Mail;

/// <summary>
/// The mailbox reader's IMAP session (MailKit) against sessions with the behaviour big providers show in public
/// transcripts, which Dovecot cannot reproduce: Mail.ru without IDLE or AUTHENTICATE, Yandex without SASL-IR and
/// with Cyrillic folders, Exchange without MOVE and with untagged data around IDLE and BYE after DONE, Gmail's
/// XOAUTH2 with SASL-IR and its error challenge. Each script asserts the exact lines the client sends.
/// </summary>
public sealed class ImapReplayTests
{
    private Transcript _log = new();

    [SetUp]
    public void FreshLog() => _log = new Transcript();

    [Test]
    public async Task Mail_ru_logs_in_with_login_and_is_polled_with_noop_since_it_has_no_idle()
    {
        var body = "Subject: =?koi8-r?B?8NLJztTF0g==?=\r\nFrom: a@mail.ru\r\n\r\nТекст\r\n";
        var size = Encoding.UTF8.GetByteCount(body);
        await using var server = new ReplayServer($$"""
            S: * OK IMAP4 ready
            C: A00000000 CAPABILITY
            S: * CAPABILITY IMAP4rev1 ID XLIST UIDPLUS UNSELECT MOVE LIST-STATUS
            S: A00000000 OK CAPABILITY completed
            C: A00000001 LOGIN support@mail.ru "pa\"ss"
            S: * CAPABILITY IMAP4rev1 ID XLIST UIDPLUS UNSELECT MOVE LIST-STATUS
            S: A00000001 OK Authentication successful
            C: A00000002 LIST "" ""
            S: * LIST (\Noselect) "/" ""
            S: A00000002 OK LIST completed
            C: A00000003 LIST "" "INBOX"
            S: * LIST (\HasNoChildren) "/" "INBOX"
            S: A00000003 OK LIST completed
            C: A00000004 XLIST "" "*"
            S: * XLIST (\HasNoChildren \Inbox) "/" "INBOX"
            S: * XLIST (\HasNoChildren \Sent) "/" "&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-"
            S: * XLIST (\HasNoChildren \Spam) "/" "&BCEEPwQwBDw-"
            S: * XLIST (\HasNoChildren) "/" "&BB4EMQRABDAEMQQ+BEIEMAQ9BD0ESwQ1-"
            S: A00000004 OK XLIST completed
            C: A00000005 SELECT INBOX
            S: * FLAGS (\Answered \Flagged \Deleted \Draft \Seen)
            S: * 0 EXISTS
            S: * 0 RECENT
            S: * OK [UIDVALIDITY 1427955509]
            S: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft)]
            S: * OK [UIDNEXT 3592]
            S: A00000005 OK [READ-WRITE] SELECT completed
            C: A00000006 UID SEARCH UID 1:* UNDELETED
            S: * SEARCH
            S: A00000006 OK SEARCH completed
            C: A00000007 NOOP
            S: * 1 EXISTS
            S: * 1 RECENT
            S: A00000007 OK NOOP completed
            C: A00000008 UID SEARCH UID 1:* UNDELETED
            S: * SEARCH 3592
            S: A00000008 OK SEARCH completed
            C: A00000009 UID FETCH 3592 (BODY.PEEK[])
            S: * 1 FETCH (UID 3592 BODY[] {{{size}}}
            {{Lines(body)}}
            S: )
            S: A00000009 OK FETCH completed
            C: A00000010 UID MOVE 3592 &BB4EMQRABDAEMQQ+BEIEMAQ9BD0ESwQ1-
            S: * OK [COPYUID 1427955510 3592 17]
            S: * 1 EXPUNGE
            S: A00000010 OK MOVE completed
            C: A00000011 LOGOUT
            S: * BYE logging out
            S: A00000011 OK LOGOUT completed
            """);
        await using (var session = await OpenAsync(server, "support@mail.ru", "pa\"ss", processed: "Обработанные"))
        {
            Assert.That((session.UidValidity, session.CanIdle), Is.EqualTo((1427955509u, false)));
            Assert.That(await session.NewAsync(0, CancellationToken.None), Is.Empty);
            Assert.That(await session.WaitAsync(TimeSpan.FromMinutes(9), TimeSpan.FromMilliseconds(10), null, TimeProvider.System, CancellationToken.None), Is.True,
                "Mail.ru answers IDLE with BAD [CLIENTBUG]: it is polled, and NOOP's EXISTS counts");
            var uids = await session.NewAsync(0, CancellationToken.None);
            var message = (await session.FetchAsync([.. uids], CancellationToken.None)).Single();
            Assert.That((message.Uid.Id, Encoding.UTF8.GetString(message.Raw)), Is.EqualTo((3592u, body)), "the raw bytes, unchanged");
            await session.ReleaseAsync([message.Uid], CancellationToken.None);
        }

        Assert.That(await server.FinishedAsync(), Is.Null);
        Assert.That(_log.Text, Does.Not.Contain("pa\\\"ss").And.Not.Contain("support@mail.ru \""));
    }

    [Test]
    public async Task Mail_announced_in_the_answer_to_a_move_is_read_next_without_waiting()
    {
        // MailKit counts each EXPUNGE at once but announces the count only with the EXISTS after it: the session must
        // not read "2 messages, 2 moved away, now 1" as no new mail (it did, and that mail waited for the next one).
        await using var server = new ReplayServer("""
            S: * OK IMAP4 ready
            C: A00000000 CAPABILITY
            S: * CAPABILITY IMAP4rev1 ID XLIST UIDPLUS UNSELECT MOVE LIST-STATUS
            S: A00000000 OK CAPABILITY completed
            C: A00000001 LOGIN support@mail.ru secret
            S: * CAPABILITY IMAP4rev1 ID XLIST UIDPLUS UNSELECT MOVE LIST-STATUS
            S: A00000001 OK Authentication successful
            C: A00000002 LIST "" ""
            S: * LIST (\Noselect) "/" ""
            S: A00000002 OK LIST completed
            C: A00000003 LIST "" "INBOX"
            S: * LIST (\HasNoChildren) "/" "INBOX"
            S: A00000003 OK LIST completed
            C: A00000004 XLIST "" "*"
            S: * XLIST (\HasNoChildren \Inbox) "/" "INBOX"
            S: * XLIST (\HasNoChildren) "/" "&BB4EMQRABDAEMQQ+BEIEMAQ9BD0ESwQ1-"
            S: A00000004 OK XLIST completed
            C: A00000005 SELECT INBOX
            S: * FLAGS (\Answered \Flagged \Deleted \Draft \Seen)
            S: * 2 EXISTS
            S: * 0 RECENT
            S: * OK [UIDVALIDITY 1427955509]
            S: * OK [UIDNEXT 3]
            S: A00000005 OK [READ-WRITE] SELECT completed
            C: A00000006 UID SEARCH UID 1:* UNDELETED
            S: * SEARCH 1 2
            S: A00000006 OK SEARCH completed
            C: A00000007 UID MOVE 1:2 &BB4EMQRABDAEMQQ+BEIEMAQ9BD0ESwQ1-
            S: * OK [COPYUID 1427955510 1:2 17:18]
            S: * 1 EXPUNGE
            S: * 1 EXPUNGE
            S: * 1 EXISTS
            S: A00000007 OK MOVE completed
            C: A00000008 LOGOUT
            S: * BYE logging out
            S: A00000008 OK LOGOUT completed
            """);
        await using (var session = await OpenAsync(server, "support@mail.ru", "secret", processed: "Обработанные"))
        {
            var uids = await session.NewAsync(0, CancellationToken.None);
            await session.ReleaseAsync([.. uids], CancellationToken.None);
            Assert.That(await session.WaitAsync(TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(1), null, TimeProvider.System, CancellationToken.None), Is.True,
                "the third message was announced with the move: no NOOP, no wait");
        }

        Assert.That(await server.FinishedAsync(), Is.Null);
    }

    [Test]
    public async Task Yandex_gets_authenticate_plain_after_the_continuation_and_its_missing_folder_is_created()
    {
        await using var server = new ReplayServer("""
            S: * OK Yandex IMAP4rev1 at imap.yandex.ru:993 ready to talk with 127.0.0.1:50000, 2026-Nov-22 10:00:00, abc
            C: A00000000 CAPABILITY
            S: * CAPABILITY IMAP4rev1 CHILDREN UNSELECT LITERAL+ NAMESPACE XLIST BINARY UIDPLUS ENABLE ID AUTH=PLAIN AUTH=XOAUTH2 IDLE MOVE
            S: A00000000 OK CAPABILITY Completed.
            C: A00000001 AUTHENTICATE PLAIN
            S: +
            C: AHN1cHBvcnRAeWFuZGV4LnJ1AGFwcC1wYXNzd29yZA==
            S: A00000001 OK AUTHENTICATE Completed.
            C: A00000002 CAPABILITY
            S: * CAPABILITY IMAP4rev1 CHILDREN UNSELECT LITERAL+ NAMESPACE XLIST BINARY UIDPLUS ENABLE ID IDLE MOVE
            S: A00000002 OK CAPABILITY Completed.
            C: A00000003 NAMESPACE
            S: * NAMESPACE (("" "|")) NIL NIL
            S: A00000003 OK NAMESPACE Completed.
            C: A00000004 LIST "" "INBOX"
            S: * LIST (\HasNoChildren \Unmarked) "|" INBOX
            S: A00000004 OK LIST Completed.
            C: A00000041 XLIST "" "*"
            S: * XLIST (\HasNoChildren \Unmarked \Inbox) "|" INBOX
            S: * XLIST (\HasNoChildren \Unmarked \Sent) "|" "&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-"
            S: * XLIST (\HasNoChildren \Unmarked \Trash) "|" "&BCMENARBBDsENQQ9BD0ESwQ1-"
            S: A00000041 OK XLIST Completed.
            C: A00000005 LIST "" &BB4EMQRABDAEMQQ+BEIEMAQ9BD0ESwQ1-
            S: A00000005 OK LIST Completed.
            C: A00000006 CREATE &BB4EMQRABDAEMQQ+BEIEMAQ9BD0ESwQ1-
            S: A00000006 OK CREATE Completed.
            C: A00000007 LIST "" &BB4EMQRABDAEMQQ+BEIEMAQ9BD0ESwQ1-
            S: * LIST (\HasNoChildren \Unmarked) "|" "&BB4EMQRABDAEMQQ+BEIEMAQ9BD0ESwQ1-"
            S: A00000007 OK LIST Completed.
            C: A00000008 SELECT INBOX
            S: * 77 EXISTS
            S: * 0 RECENT
            S: * OK [UIDVALIDITY 1600000000] UIDs valid
            S: * OK [UIDNEXT 78] Predicted next UID
            S: A00000008 OK [READ-WRITE] SELECT Completed.
            C: A00000009 LOGOUT
            S: * BYE Bye
            S: A00000009 OK LOGOUT Completed.
            """);
        await using (var session = await OpenAsync(server, "support@yandex.ru", "app-password", processed: "Обработанные"))
            Assert.That((session.UidValidity, session.CanIdle), Is.EqualTo((1600000000u, true)));

        Assert.That(await server.FinishedAsync(), Is.Null);
        Assert.That(_log.Text, Does.Not.Contain("AHN1cHBvcnRA").And.Not.Contain("app-password"));
    }

    [Test]
    public async Task Exchange_without_move_idles_through_early_untagged_data_and_its_bye_after_done_drops_the_session()
    {
        var first = "Subject: 40\r\n\r\nx\r\n";
        var second = "Subject: 41\r\n\r\ny\r\n";
        await using var server = new ReplayServer($$"""
            S: * OK The Microsoft Exchange IMAP4 service is ready.
            C: A00000000 CAPABILITY
            S: * CAPABILITY IMAP4 IMAP4rev1 AUTH=NTLM AUTH=GSSAPI AUTH=PLAIN UIDPLUS CHILDREN IDLE NAMESPACE LITERAL+
            S: A00000000 OK CAPABILITY completed.
            C: A00000001 AUTHENTICATE PLAIN
            S: +
            C: AHN1cHBvcnRAZXhhbXBsZS5jb20AcEBzcyB3MHJk
            S: A00000001 OK AUTHENTICATE completed.
            C: A00000002 CAPABILITY
            S: * CAPABILITY IMAP4 IMAP4rev1 AUTH=NTLM AUTH=GSSAPI AUTH=PLAIN UIDPLUS CHILDREN IDLE NAMESPACE LITERAL+
            S: A00000002 OK CAPABILITY completed.
            C: A00000003 NAMESPACE
            S: * NAMESPACE (("" "/")) NIL NIL
            S: A00000003 OK NAMESPACE completed.
            C: A00000004 LIST "" "INBOX"
            S: * LIST (\Marked \HasNoChildren) "/" INBOX
            S: A00000004 OK LIST completed.
            C: A00000005 LIST "" Processed
            S: * LIST (\HasNoChildren) "/" Processed
            S: A00000005 OK LIST completed.
            C: A00000006 SELECT INBOX
            S: * 4 EXISTS
            S: * 0 RECENT
            S: * FLAGS (\Seen \Answered \Flagged \Deleted \Draft $MDNSent)
            S: * OK [PERMANENTFLAGS (\Seen \Answered \Flagged \Deleted \Draft $MDNSent)] Permanent flags
            S: * OK [UIDVALIDITY 14] UIDVALIDITY value
            S: * OK [UIDNEXT 41] The next unique identifier value
            S: A00000006 OK [READ-WRITE] SELECT completed.
            C: A00000007 IDLE
            S: * 5 EXISTS
            S: + IDLE accepted, awaiting DONE command.
            C: DONE
            S: A00000007 OK IDLE completed.
            C: A00000008 UID SEARCH UID 40:* UNDELETED
            S: * SEARCH 40 41
            S: A00000008 OK SEARCH completed.
            C: A00000009 UID FETCH 40:41 (BODY.PEEK[])
            S: * 4 FETCH (UID 40 BODY[] {{{first.Length}}}
            {{Lines(first)}}
            S: )
            S: * 2 FETCH (FLAGS (\Seen \Answered))
            S: * 6 EXISTS
            S: * 5 FETCH (BODY[] {{{second.Length}}}
            {{Lines(second)}}
            S:  UID 41)
            S: A00000009 OK FETCH completed.
            C: A00000010 UID COPY 40:41 Processed
            S: A00000010 OK [COPYUID 15 40:41 7:8] COPY completed.
            C: A00000011 UID STORE 40:41 +FLAGS.SILENT (\Deleted)
            S: A00000011 OK STORE completed.
            C: A00000012 UID EXPUNGE 40:41
            S: * 5 EXPUNGE
            S: * 4 EXPUNGE
            S: A00000012 OK EXPUNGE completed.
            C: A00000013 IDLE
            S: + IDLE accepted, awaiting DONE command.
            C: DONE
            S: * BYE Connection is closed. 13
            S: <close>
            """);
        var session = await OpenAsync(server, "support@example.com", "p@ss w0rd", processed: "Processed", ignored: ["AUTH=NTLM", "AUTH=GSSAPI"]);
        await using (session)
        {
            Assert.That(await Wait(session), Is.True, "EXISTS before the '+' counts");
            var uids = await session.NewAsync(39, CancellationToken.None);
            var messages = await session.FetchAsync([.. uids], CancellationToken.None);
            Assert.That(messages.Select(m => (m.Uid.Id, Encoding.ASCII.GetString(m.Raw))), Is.EqualTo(new[] { (40u, first), (41u, second) }),
                "an unsolicited FETCH without UID is not taken for a message");
            await session.ReleaseAsync([.. uids], CancellationToken.None);
            Assert.That(await Wait(session), Is.True, "the EXISTS that came with FETCH is not lost: no IDLE before it is handled");

            Assert.That(() => Wait(session), Throws.InstanceOf<Exception>(), "BYE after DONE ends the session");
            Assert.That(session.IsConnected, Is.False);
        }
        Assert.That(await server.FinishedAsync(), Is.Null);
    }

    [Test]
    public async Task Gmail_takes_xoauth2_inline_and_a_refused_token_is_replaced_by_a_fresh_one_once()
    {
        var directory = TempDirectory.Create();
        var (command, arguments) = TokenCommand.Numbered(directory);
        await using var server = new ReplayServer($"""
            S: * OK Gimap ready for requests from 127.0.0.1 a1mb
            C: A00000000 CAPABILITY
            S: * CAPABILITY IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1 XYZZY SASL-IR AUTH=XOAUTH2 AUTH=PLAIN AUTH=PLAIN-CLIENTTOKEN AUTH=OAUTHBEARER
            S: A00000000 OK Thats all she wrote! a1mb
            C: A00000001 AUTHENTICATE XOAUTH2 {XOAuth2("support@example.com", "token-1")}
            S: + eyJzdGF0dXMiOiI0MDAiLCJzY2hlbWVzIjoiQmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==
            C:
            S: A00000001 NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)
            C: A00000002 AUTHENTICATE XOAUTH2 {XOAuth2("support@example.com", "token-2")}
            S: * CAPABILITY IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1 UIDPLUS COMPRESS=DEFLATE ENABLE MOVE CONDSTORE ESEARCH UTF8=ACCEPT LIST-EXTENDED LIST-STATUS LITERAL- SPECIAL-USE APPENDLIMIT=35651584
            S: A00000002 OK support@example.com authenticated (Success)
            C: A00000003 NAMESPACE
            S: * NAMESPACE (("" "/")) NIL NIL
            S: A00000003 OK Success
            C: A00000004 LIST "" "INBOX" RETURN (SUBSCRIBED CHILDREN)
            S: * LIST (\HasNoChildren \Subscribed) "/" "INBOX"
            S: A00000004 OK Success
            C: A00000041 LIST (SPECIAL-USE) "" "*" RETURN (SUBSCRIBED CHILDREN)
            S: * LIST (\All \HasNoChildren \Subscribed) "/" "[Gmail]/All Mail"
            S: * LIST (\HasNoChildren \Sent \Subscribed) "/" "[Gmail]/Sent Mail"
            S: * LIST (\HasNoChildren \Junk \Subscribed) "/" "[Gmail]/Spam"
            S: A00000041 OK Success
            C: A00000042 LIST "" "[Gmail]" RETURN (SUBSCRIBED CHILDREN)
            S: * LIST (\HasChildren \Noselect \Subscribed) "/" "[Gmail]"
            S: A00000042 OK Success
            C: A00000005 SELECT INBOX (CONDSTORE)
            S: * FLAGS (\Answered \Flagged \Draft \Deleted \Seen $NotPhishing $Phishing)
            S: * OK [PERMANENTFLAGS (\Answered \Flagged \Draft \Deleted \Seen $NotPhishing $Phishing \*)] Flags permitted.
            S: * OK [UIDVALIDITY 1] UIDs valid.
            S: * 3 EXISTS
            S: * 0 RECENT
            S: * OK [UIDNEXT 9] Predicted next UID.
            S: * OK [HIGHESTMODSEQ 4242]
            S: A00000005 OK [READ-WRITE] INBOX selected. (Success)
            C: A00000006 IDLE
            S: + idling
            C: DONE
            S: A00000006 OK IDLE terminated (Success)
            C: A00000007 LOGOUT
            S: * BYE LOGOUT Requested
            S: A00000007 OK 73 good day (Success)
            """);
        var mailbox = Mailbox(server, "support@example.com", password: null);
        mailbox.Imap.Auth = MailAuth.OAuth2;
        mailbox.OAuth2 = new OAuth2Options { Provider = OAuth2Provider.Command, Command = command, Arguments = arguments };
        await using (var session = await TestMailbox.OpenAsync(mailbox, _log))
            Assert.That(await session.WaitAsync(TimeSpan.FromMilliseconds(300), TimeSpan.FromMinutes(1), null, TimeProvider.System, CancellationToken.None), Is.False,
                "nothing arrived: DONE after the refresh interval");

        Assert.That(await server.FinishedAsync(), Is.Null);
        Assert.That(TokenCommand.Calls(directory), Is.EqualTo(2), "the kept token was refused, so a fresh one was asked for, once");
        Assert.That(_log.Text, Does.Not.Contain("token-1").And.Not.Contain("token-2").And.Not.Contain(XOAuth2("support@example.com", "token-2")));
        TempDirectory.Delete(directory);
    }

    [Test]
    public async Task A_server_that_stops_answering_ends_the_session_at_the_timeout()
    {
        await using var server = new ReplayServer("""
            S: * PREAUTH [CAPABILITY IMAP4rev1 IDLE NAMESPACE] ready
            C: A00000000 NAMESPACE
            S: <wait>
            """);
        var mailbox = Mailbox(server, "support@example.com", "x");
        mailbox.Imap.Timeout = TimeSpan.FromMilliseconds(500);

        Assert.That(() => TestMailbox.OpenAsync(mailbox, _log), Throws.InstanceOf<IOException>().Or.InstanceOf<TimeoutException>());
        Assert.That(await server.FinishedAsync(), Is.Null, "the client hung up");
    }

    private static Task<bool> Wait(MailboxSession session) =>
        session.WaitAsync(TimeSpan.FromMilliseconds(300), TimeSpan.FromMinutes(1), null, TimeProvider.System, CancellationToken.None);

    private static MailboxOptions Mailbox(ReplayServer server, string user, string? password, string? processed = null, string[]? ignored = null)
    {
        var mailbox = TestMailbox.Options(user, server.Port, password, ignored, processed);
        mailbox.Imap.Timeout = TimeSpan.FromSeconds(5);
        return mailbox;
    }

    private Task<MailboxSession> OpenAsync(ReplayServer server, string user, string password, string? processed = null, string[]? ignored = null) =>
        TestMailbox.OpenAsync(Mailbox(server, user, password, processed, ignored), _log);

    /// <summary>The XOAUTH2 initial response: "user=" user ^A "auth=Bearer " token ^A ^A, in base64.</summary>
    private static string XOAuth2(string user, string token) => Convert.ToBase64String(Encoding.ASCII.GetBytes($"user={user}\u0001auth=Bearer {token}\u0001\u0001"));

    /// <summary>A literal's text as script lines (the server adds CRLF to each).</summary>
    private static string Lines(string text) => string.Join("\n", text.Split("\r\n")[..^1].Select(l => "S: " + l));
}
