using System.Net.Security;
using SupportGateway.Mail.Imap;
using SupportGateway.Mail.Mime;
using SupportGateway.Mail.Net;
using SupportGateway.Mail.Smtp;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Mail.Servers;

/// <summary>STARTTLS and implicit TLS against the real Dovecot and Postfix, whose self-signed certificate is pinned.</summary>
[NonParallelizable]
public sealed class MailTlsTests
{
    private RecordingLog _log = new();
    private RemoteCertificateValidationCallback _pinned = null!;

    [OneTimeSetUp]
    public async Task Servers()
    {
        await MailServers.EnsureStartedAsync();
        var thumbprint = MailServers.Certificate().Thumbprint;
        _pinned = (_, certificate, _, _) => certificate?.GetCertHashString() == thumbprint;
    }

    [SetUp]
    public void FreshLog() => _log = new RecordingLog();

    [TestCase(MailSecurity.StartTls, MailServers.ImapPort)]
    [TestCase(MailSecurity.ImplicitTls, MailServers.ImapsPort)]
    public async Task Imap_logs_in_over_tls(MailSecurity security, int port)
    {
        await using var client = new ImapClient(new ImapClientOptions
        {
            Host = MailServers.Host,
            Port = port,
            Security = security,
            UserName = "robot@sg.test",
            Password = MailServers.Password,
            ProtocolLog = _log,
            ServerCertificateValidation = _pinned,
        });
        await client.ConnectAsync(CancellationToken.None);
        var inbox = await client.ExamineAsync("INBOX", CancellationToken.None);

        Assert.That(inbox.UidValidity, Is.GreaterThan(0));
        Assert.That(client.Capabilities, Does.Not.Contain("STARTTLS"), "capabilities were read again inside TLS");
        if (security == MailSecurity.StartTls)
        {
            var lines = _log.Lines.ToList();
            Assert.That(lines.FindIndex(l => l.StartsWith("C: ") && l.EndsWith(" STARTTLS")), Is.InRange(0, lines.FindIndex(l => l.Contains("AUTHENTICATE"))),
                "STARTTLS came before the credentials");
        }
    }

    [TestCase(MailSecurity.StartTls, MailServers.SmtpPort)]
    [TestCase(MailSecurity.ImplicitTls, MailServers.SmtpsPort)]
    public async Task Smtp_delivers_over_tls(MailSecurity security, int port)
    {
        var marker = Guid.NewGuid().ToString("N");
        await using var client = new SmtpClient(new SmtpClientOptions
        {
            Host = MailServers.Host,
            Port = port,
            Security = security,
            ClientName = "tests.sg.test",
            ProtocolLog = _log,
            ServerCertificateValidation = _pinned,
        });
        await client.ConnectAsync(CancellationToken.None);
        var result = await client.SendAsync(MimeWriter.Write(new OutgoingMessage
        {
            From = new MailAddress("", "robot@sg.test"),
            To = [new MailAddress("", "agent@sg.test")],
            Subject = "TLS " + marker,
            Text = "Зашифровано.",
        }), "robot@sg.test", ["agent@sg.test"], CancellationToken.None);
        await client.QuitAsync(CancellationToken.None);

        Assert.That(result.Delivered, Is.EqualTo(new[] { "agent@sg.test" }));
        var delivered = System.Text.Encoding.UTF8.GetString(await MailServers.WaitForDeliveryAsync("agent@sg.test", marker));
        Assert.That(security == MailSecurity.ImplicitTls || _log.Lines.Contains("C: STARTTLS"));
        Assert.That(delivered, Does.Match(@"Received: from tests\.sg\.test[\s\S]*\(using TLSv1\.[23]"), "Postfix recorded the TLS session in its Received header");
    }

    [Test]
    public async Task An_untrusted_certificate_stops_the_session_before_any_credential_is_sent()
    {
        await using var client = new ImapClient(new ImapClientOptions
        {
            Host = MailServers.Host,
            Port = MailServers.ImapPort,
            Security = MailSecurity.StartTls,
            UserName = "robot@sg.test",
            Password = MailServers.Password,
            ProtocolLog = _log,
        });

        Assert.That(() => client.ConnectAsync(CancellationToken.None), Throws.TypeOf<MailProtocolException>());
        Assert.That(client.IsConnected, Is.False);
        Assert.That(_log.Lines.Where(l => l.StartsWith("C: ")), Has.None.Contains("AUTHENTICATE").And.None.Contains("LOGIN"));
    }
}
