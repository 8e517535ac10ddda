using System.Text;
using SupportGateway.Mail.Net;
using SupportGateway.Mail.Smtp;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Mail;

/// <summary>SMTP sessions Postfix does not show: AUTH LOGIN only (as Exchange Online offers it), a 451 for one recipient, no EHLO.</summary>
public sealed class SmtpReplayTests
{
    private readonly RecordingLog _log = new();
    private static readonly byte[] Message = Encoding.ASCII.GetBytes("Subject: hi\r\n\r\nHello\r\n.hidden dot\r\n");

    [Test]
    public async Task Auth_login_is_redacted_and_a_451_for_one_recipient_is_transient_while_the_others_are_delivered()
    {
        await using var server = new ReplayServer($$"""
            S: 220 smtp.office365.com Microsoft ESMTP MAIL Service ready
            C: EHLO tests.sg.test
            S: 250-smtp.office365.com Hello [127.0.0.1]
            S: 250-SIZE 157286400
            S: 250-PIPELINING
            S: 250-8BITMIME
            S: 250-AUTH LOGIN XOAUTH2
            S: 250 SMTPUTF8
            C: AUTH LOGIN
            S: 334 VXNlcm5hbWU6
            C: c3VwcG9ydEBjb21wYW55LnJ1
            S: 334 UGFzc3dvcmQ6
            C: UzNjcjN0LXBhc3M=
            S: 235 2.7.0 Authentication successful
            C: MAIL FROM:<support@company.ru> SIZE={{Message.Length}}
            C: RCPT TO:<a@client.ru>
            C: RCPT TO:<b@client.ru>
            C: RCPT TO:<c@client.ru>
            C: DATA
            S: 250 2.1.0 Sender OK
            S: 250 2.1.5 Recipient OK
            S: 451 4.4.4 Temporary server error. Please try again later
            S: 250 2.1.5 Recipient OK
            S: 354 Start mail input; end with <CRLF>.<CRLF>
            C: Subject: hi
            C:
            C: Hello
            C: ..hidden dot
            C: .
            S: 250 2.0.0 OK <id@example> [Hostname=MAIL]
            C: QUIT
            S: 221 2.0.0 Service closing transmission channel
            """);
        await using var client = new SmtpClient(Options(server) with { UserName = "support@company.ru", Password = "S3cr3t-pass" });
        await client.ConnectAsync(CancellationToken.None);
        var result = await client.SendAsync(Message, "support@company.ru", ["a@client.ru", "b@client.ru", "c@client.ru"], CancellationToken.None);
        await client.QuitAsync(CancellationToken.None);

        Assert.That(await server.FinishedAsync(), Is.Null);
        Assert.That(result.Recipients.Select(r => (r.Address, r.Outcome)), Is.EqualTo(new[]
        {
            ("a@client.ru", RecipientOutcome.Accepted), ("b@client.ru", RecipientOutcome.Transient), ("c@client.ru", RecipientOutcome.Accepted),
        }));
        Assert.That(result.Delivered, Is.EqualTo(new[] { "a@client.ru", "c@client.ru" }));
        Assert.That(_log.Lines.Count(l => l == "C: ********"), Is.EqualTo(2));
        Assert.That(string.Join("\n", _log.Lines), Does.Not.Contain("c3VwcG9ydEBjb21wYW55LnJ1").And.Not.Contain("UzNjcjN0LXBhc3M=").And.Not.Contain("S3cr3t"));
    }

    [Test]
    public async Task A_server_that_does_not_know_ehlo_gets_helo_and_plain_commands()
    {
        await using var server = new ReplayServer("""
            S: 220 old.example.com SMTP ready
            C: EHLO tests.sg.test
            S: 502 5.5.2 Error: command not recognized
            C: HELO tests.sg.test
            S: 250 old.example.com
            C: MAIL FROM:<support@company.ru>
            S: 250 ok
            C: RCPT TO:<a@client.ru>
            S: 250 ok
            C: DATA
            S: 354 go ahead
            C: Subject: hi
            C:
            C: Hello
            C: ..hidden dot
            C: .
            S: 250 queued
            """);
        await using var client = new SmtpClient(Options(server));
        await client.ConnectAsync(CancellationToken.None);
        var result = await client.SendAsync(Message, "support@company.ru", ["a@client.ru"], CancellationToken.None);

        Assert.That(await server.FinishedAsync(), Is.Null);
        Assert.That(result.Delivered, Is.EqualTo(new[] { "a@client.ru" }));
        Assert.That(client.Extensions, Is.Empty);
    }

    [Test]
    public async Task A_refused_sender_is_a_command_error_and_the_session_is_reset()
    {
        await using var server = new ReplayServer("""
            S: 220 smtp.yandex.ru ESMTP
            C: EHLO tests.sg.test
            S: 250-smtp.yandex.ru
            S: 250 8BITMIME
            C: MAIL FROM:<other@company.ru>
            S: 553 5.7.1 Sender address rejected: not owned by auth user.
            C: RSET
            S: 250 2.0.0 Ok
            """);
        await using var client = new SmtpClient(Options(server));
        await client.ConnectAsync(CancellationToken.None);

        Assert.That(() => client.SendAsync(Message, "other@company.ru", ["a@client.ru"], CancellationToken.None),
            Throws.TypeOf<SmtpCommandException>().With.Property(nameof(SmtpCommandException.Reply)).Property(nameof(SmtpReply.IsPermanent)).True);
        Assert.That(await server.FinishedAsync(), Is.Null);
    }

    private SmtpClientOptions Options(ReplayServer server) => new()
    {
        Host = "127.0.0.1",
        Port = server.Port,
        Security = MailSecurity.PlainLoopbackOnly,
        ClientName = "tests.sg.test",
        Timeout = TimeSpan.FromSeconds(5),
        ProtocolLog = _log,
    };
}
