using System.Security.Cryptography;
using System.Text;
using MailKit.Security;
using Microsoft.Extensions.Options;
using SupportGateway.Host.Channels.Email;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Mail.Servers;

/// <summary>
/// STARTTLS and implicit TLS against the real Dovecot and Postfix, whose self-signed certificate is pinned the way a
/// mailbox's <c>PinnedCertificates</c> pins it.
/// </summary>
[NonParallelizable]
public sealed class MailTlsTests
{
    private Transcript _log = new();
    private string _fingerprint = "";

    [OneTimeSetUp]
    public async Task Servers()
    {
        await MailServers.EnsureStartedAsync();
        // Written the way `openssl x509 -fingerprint -sha256` prints it.
        _fingerprint = string.Join(':', Convert.ToHexString(MailServers.Certificate().GetCertHash(HashAlgorithmName.SHA256)).Chunk(2).Select(c => new string(c)));
    }

    [SetUp]
    public void FreshLog() => _log = new Transcript();

    [TestCase(MailboxSecurity.StartTls, MailServers.ImapPort)]
    [TestCase(MailboxSecurity.SslOnConnect, MailServers.ImapsPort)]
    public async Task Imap_logs_in_over_tls(MailboxSecurity security, int port)
    {
        var mailbox = TestMailbox.Options("robot@sg.test", port, security: security);
        mailbox.Imap.PinnedCertificates = [_fingerprint];
        await using var session = await TestMailbox.OpenAsync(mailbox, _log);

        Assert.That(session.UidValidity, Is.GreaterThan(0));
        if (security == MailboxSecurity.StartTls)
        {
            var lines = _log.Lines.ToList();
            Assert.That(lines.FindIndex(l => l.StartsWith("C: ", StringComparison.Ordinal) && l.EndsWith(" STARTTLS", StringComparison.Ordinal)),
                Is.InRange(0, lines.FindIndex(l => l.Contains("AUTHENTICATE", StringComparison.Ordinal))), "STARTTLS came before the credentials");
        }
    }

    [TestCase(MailboxSecurity.StartTls, MailServers.SmtpPort)]
    [TestCase(MailboxSecurity.SslOnConnect, MailServers.SmtpsPort)]
    public async Task Smtp_delivers_over_tls(MailboxSecurity security, int port)
    {
        var marker = Guid.NewGuid().ToString("N");
        var mailbox = new MailboxOptions
        {
            Name = "tls" + marker[..6],
            Address = "robot@sg.test",
            Smtp = new SmtpEndpointOptions { Host = MailServers.Host, Port = port, Security = security, PinnedCertificates = [_fingerprint] },
        };
        var directory = TempDirectory.Create();
        var options = Options.Create(new EmailOptions { Mailboxes = [mailbox], ProtocolLogDirectory = directory });
        await using (var sessions = new SmtpSessions(new MailLogin(new MailTokens(TimeProvider.System)), options,
            new SupportGateway.Host.Health.ChannelHealth(), Microsoft.Extensions.Logging.Abstractions.NullLogger<SmtpSessions>.Instance, TimeProvider.System))
        {
            await sessions.SubmitAsync(mailbox, ClientMail.Create("", "robot@sg.test", "agent@sg.test", $"TLS {marker}", "Зашифровано."),
                "agent@sg.test", CancellationToken.None);
        }

        var delivered = Encoding.UTF8.GetString(await MailServers.WaitForDeliveryAsync("agent@sg.test", marker));
        var transcript = await File.ReadAllTextAsync(Path.Combine(directory, mailbox.Name + "-smtp.log"));
        Assert.That(security == MailboxSecurity.SslOnConnect || transcript.Contains("C: STARTTLS", StringComparison.Ordinal), transcript);
        Assert.That(delivered, Does.Match(@"Received: from sg\.test[\s\S]*\(using TLSv1\.[23]"), "Postfix recorded the TLS session in its Received header");
        TempDirectory.Delete(directory);
    }

    [Test]
    public async Task An_untrusted_certificate_stops_the_session_before_any_credential_is_sent()
    {
        var mailbox = TestMailbox.Options("robot@sg.test", MailServers.ImapPort, security: MailboxSecurity.StartTls);
        mailbox.Imap.PinnedCertificates = [string.Join(':', Enumerable.Repeat("00", 32))];

        Assert.That(() => TestMailbox.OpenAsync(mailbox, _log), Throws.InstanceOf<SslHandshakeException>());
        Assert.That(_log.Lines.Where(l => l.StartsWith("C: ", StringComparison.Ordinal)), Has.None.Contains("AUTHENTICATE").And.None.Contains("LOGIN"));
    }
}
