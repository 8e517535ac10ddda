using System.Text;
using Microsoft.Extensions.Options;
using SupportGateway.Core.Outbox;
using SupportGateway.Host.Channels.Email;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Mail;

/// <summary>
/// The gateway's SMTP sessions (MailKit) against sessions Postfix does not show, as Exchange Online answers them:
/// AUTH LOGIN and XOAUTH2, a 451 for the recipient (transient) and a 550 (permanent).
/// </summary>
public sealed class SmtpReplayTests
{
    private static readonly byte[] Bytes = Encoding.ASCII.GetBytes("From: support@company.ru\r\nTo: a@client.ru\r\nSubject: hi\r\n\r\nHello\r\n.hidden dot\r\n");

    private static MimeKit.MimeMessage Message => MimeKit.MimeMessage.Load(new MemoryStream(Bytes));
    private string _directory = "";

    [SetUp]
    public void Directory() => _directory = TempDirectory.Create();

    [TearDown]
    public void Clean() => TempDirectory.Delete(_directory);

    [Test]
    public async Task Auth_login_is_redacted_and_a_550_for_the_recipient_is_permanent()
    {
        await using var server = new ReplayServer($$"""
            S: 220 smtp.office365.com Microsoft ESMTP MAIL Service ready
            C: EHLO company.ru
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
            C: MAIL FROM:<support@company.ru> SIZE={{Bytes.Length}}
            C: RCPT TO:<a@client.ru>
            S: 250 2.1.0 Sender OK
            S: 550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup
            C: RSET
            S: 250 2.0.0 Resetting
            C: QUIT
            S: 221 2.0.0 Service closing transmission channel
            """);
        var mailbox = Mailbox(server);
        mailbox.Smtp.Username = "support@company.ru";
        mailbox.Smtp.Password = "S3cr3t-pass";
        await using (var sessions = Sessions(mailbox))
            Assert.That(() => sessions.SubmitAsync(mailbox, Message, "a@client.ru", CancellationToken.None),
                Throws.TypeOf<PermanentDeliveryException>().With.Message.Contains("a@client.ru: 550"));

        Assert.That(await server.FinishedAsync(), Is.Null);
        var log = await File.ReadAllTextAsync(Path.Combine(_directory, "support-smtp.log"));
        Assert.That(log, Does.Contain("AUTH LOGIN").And.Not.Contain("c3VwcG9ydEBjb21wYW55LnJ1").And.Not.Contain("UzNjcjN0LXBhc3M=").And.Not.Contain("S3cr3t"));
    }

    [Test]
    public async Task Xoauth2_logs_in_with_the_mailbox_token_and_a_451_is_a_retry_later()
    {
        var (command, arguments) = TokenCommand.Numbered(_directory);
        var token = Convert.ToBase64String(Encoding.ASCII.GetBytes("user=support@company.ru\u0001auth=Bearer token-1\u0001\u0001"));
        await using var server = new ReplayServer($"""
            S: 220 smtp.office365.com Microsoft ESMTP MAIL Service ready
            C: EHLO company.ru
            S: 250-smtp.office365.com Hello [127.0.0.1]
            S: 250-SIZE 157286400
            S: 250-PIPELINING
            S: 250-8BITMIME
            S: 250-AUTH LOGIN XOAUTH2
            S: 250 SMTPUTF8
            C: AUTH XOAUTH2 {token}
            S: 235 2.7.0 Authentication successful
            C: MAIL FROM:<support@company.ru> SIZE={Bytes.Length}
            C: RCPT TO:<a@client.ru>
            S: 250 2.1.0 Sender OK
            S: 451 4.4.4 Temporary server error. Please try again later
            C: RSET
            S: 250 2.0.0 Resetting
            C: QUIT
            S: 221 2.0.0 Service closing transmission channel
            """);
        var mailbox = Mailbox(server);
        mailbox.Smtp.Username = "support@company.ru";
        mailbox.Smtp.Auth = MailAuth.OAuth2;
        mailbox.OAuth2 = new OAuth2Options { Provider = OAuth2Provider.Command, Command = command, Arguments = arguments };
        await using (var sessions = Sessions(mailbox))
            Assert.That(() => sessions.SubmitAsync(mailbox, Message, "a@client.ru", CancellationToken.None),
                Throws.TypeOf<IOException>().With.Message.Contains("a@client.ru: 451"), "the outbox tries again later");

        Assert.That(await server.FinishedAsync(), Is.Null);
        Assert.That(await File.ReadAllTextAsync(Path.Combine(_directory, "support-smtp.log")), Does.Not.Contain(token).And.Not.Contain("token-1"));
    }

    [Test]
    public async Task A_token_refused_twice_shows_on_healthz_and_leaves_the_mail_for_the_outbox()
    {
        var (command, arguments) = TokenCommand.Numbered(_directory);
        string Token(int n) => Convert.ToBase64String(Encoding.ASCII.GetBytes($"user=support@company.ru\u0001auth=Bearer token-{n}\u0001\u0001"));
        await using var server = new ReplayServer($"""
            S: 220 smtp.office365.com Microsoft ESMTP MAIL Service ready
            C: EHLO company.ru
            S: 250-smtp.office365.com Hello [127.0.0.1]
            S: 250-AUTH LOGIN XOAUTH2
            S: 250 8BITMIME
            C: AUTH XOAUTH2 {Token(1)}
            S: 535 5.7.3 Authentication unsuccessful [SN4PR0201CA0063.namprd02.prod.outlook.com]
            C: AUTH XOAUTH2 {Token(2)}
            S: 535 5.7.3 Authentication unsuccessful [SN4PR0201CA0063.namprd02.prod.outlook.com]
            C: QUIT
            S: 221 2.0.0 Service closing transmission channel
            """);
        var mailbox = Mailbox(server);
        mailbox.Smtp.Username = "support@company.ru";
        mailbox.Smtp.Auth = MailAuth.OAuth2;
        mailbox.OAuth2 = new OAuth2Options { Provider = OAuth2Provider.Command, Command = command, Arguments = arguments };
        var health = new SupportGateway.Host.Health.ChannelHealth();
        await using (var sessions = new SmtpSessions(new MailLogin(new MailTokens(TimeProvider.System)),
            Options.Create(new EmailOptions { Mailboxes = [mailbox], ProtocolLogDirectory = _directory }), health,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<SmtpSessions>.Instance, TimeProvider.System))
        {
            Assert.That(() => sessions.SubmitAsync(mailbox, Message, "a@client.ru", CancellationToken.None),
                Throws.Exception.Not.InstanceOf<PermanentDeliveryException>(), "not permanent: the outbox retries it with backoff");
        }

        Assert.That(await server.FinishedAsync(), Is.Null);
        Assert.That(health.Snapshot(), Has.One.Matches<(string Channel, SupportGateway.Host.Health.ChannelState State, string Detail)>(c =>
            c.Channel == "email:support:smtp" && c.State == SupportGateway.Host.Health.ChannelState.Down && c.Detail.Contains("rejected the OAuth 2.0 token", StringComparison.Ordinal)));
    }

    private static MailboxOptions Mailbox(ReplayServer server) => new()
    {
        Name = "support",
        Address = "support@company.ru",
        Smtp = new SmtpEndpointOptions { Host = "127.0.0.1", Port = server.Port, Security = MailboxSecurity.None, Timeout = TimeSpan.FromSeconds(5) },
    };

    private SmtpSessions Sessions(MailboxOptions mailbox) => new(new MailLogin(new MailTokens(TimeProvider.System)),
        Options.Create(new EmailOptions { Mailboxes = [mailbox], ProtocolLogDirectory = _directory }), new SupportGateway.Host.Health.ChannelHealth(),
        Microsoft.Extensions.Logging.Abstractions.NullLogger<SmtpSessions>.Instance, TimeProvider.System);
}
