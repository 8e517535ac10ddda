using System.Text;
using Microsoft.Extensions.Options;
using SupportGateway.Core.Outbox;
using SupportGateway.Host.Channels.Email;
using SupportGateway.Mail.Inbound;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Mail.Servers;

/// <summary>The gateway's SMTP sessions (MailKit, one kept connection per mailbox) against a real Postfix that delivers into Dovecot Maildirs.</summary>
public sealed class SmtpPostfixTests
{
    private string _directory = "";
    private MailboxOptions _mailbox = null!;

    [OneTimeSetUp]
    public Task Servers() => MailServers.EnsureStartedAsync();

    [SetUp]
    public void Mailbox()
    {
        _directory = TempDirectory.Create();
        _mailbox = new MailboxOptions
        {
            Name = "robot",
            Address = "robot@sg.test",
            Smtp = new SmtpEndpointOptions { Host = MailServers.Host, Port = MailServers.SmtpPort, Security = MailboxSecurity.None },
        };
    }

    [TearDown]
    public void Clean() => TempDirectory.Delete(_directory);

    [Test]
    public async Task Message_with_8bit_utf8_text_and_attachments_is_delivered()
    {
        var marker = Guid.NewGuid().ToString("N");
        var pdf = Enumerable.Range(0, 70_000).Select(i => (byte)(i * 7)).ToArray();
        var message = Load(
            $"From: =?utf-8?B?0KHQu9GD0LbQsdCwINC/0L7QtNC00LXRgNC20LrQuA==?= <robot@sg.test>\r\nTo: agent@sg.test\r\nSubject: =?utf-8?B?0JfQsNGP0LLQutCw?= {marker}\r\nMessage-ID: <{marker}@sg.test>\r\n" +
            "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" +
            "--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
            ".Строка с точкой в начале.\r\nПринтер не печатает — ошибка 0x1F.\r\n" +
            "--b1\r\nContent-Type: application/pdf; name=\"otchet.pdf\"\r\nContent-Disposition: attachment; filename=\"otchet.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
            Convert.ToBase64String(pdf, Base64FormattingOptions.InsertLineBreaks) + "\r\n--b1--\r\n");

        await using (var sessions = Sessions())
            await sessions.SubmitAsync(_mailbox, message, "agent@sg.test", CancellationToken.None);

        var delivered = InboundMail.Read(await MailServers.WaitForDeliveryAsync("agent@sg.test", marker));
        Assert.That(delivered.Subject, Is.EqualTo($"Заявка {marker}"));
        // The dot-stuffed first line arrived unstuffed.
        Assert.That(delivered.Text.ReplaceLineEndings("\n"), Does.StartWith(".Строка с точкой в начале.\nПринтер не печатает — ошибка 0x1F."));
        Assert.That(delivered.Attachments.Single().Content, Is.EqualTo(pdf));
        var log = await File.ReadAllTextAsync(Path.Combine(_directory, "robot-smtp.log"));
        Assert.That(log, Does.Contain("BODY=8BITMIME"));
        Assert.That(log, Does.Not.Contain(" SMTPUTF8"), "ASCII headers and addresses need no SMTPUTF8");
    }

    [Test]
    public async Task A_550_for_the_recipient_is_permanent_and_the_next_mail_still_goes_out()
    {
        var marker = Guid.NewGuid().ToString("N");
        var message = Load($"From: robot@sg.test\r\nTo: nobody@sg.test\r\nSubject: {marker}\r\n\r\nАдресата не существует.\r\n");

        await using var sessions = Sessions();
        Assert.That(() => sessions.SubmitAsync(_mailbox, message, "nobody@sg.test", CancellationToken.None),
            Throws.TypeOf<PermanentDeliveryException>().With.Message.StartsWith("nobody@sg.test: 550"));
        await sessions.SubmitAsync(_mailbox, message, "customer@sg.test", CancellationToken.None);
        await sessions.SubmitAsync(_mailbox, message, "agent@sg.test", CancellationToken.None);

        await MailServers.WaitForDeliveryAsync("customer@sg.test", marker);
        await MailServers.WaitForDeliveryAsync("agent@sg.test", marker);
        var log = await File.ReadAllTextAsync(Path.Combine(_directory, "robot-smtp.log"));
        Assert.That(log.Split("C: EHLO").Length - 1, Is.EqualTo(2), "one connection after the refusal, kept for both later mails");
    }

    [Test]
    public async Task A_burst_goes_out_over_the_mailboxs_connections_and_no_more()
    {
        _mailbox.Smtp.Connections = 2;
        var markers = Enumerable.Range(0, 8).Select(_ => Guid.NewGuid().ToString("N")).ToList();

        await using (var sessions = Sessions())
            await Task.WhenAll(markers.Select(marker => Task.Run(() => sessions.SubmitAsync(_mailbox,
                Load($"From: robot@sg.test\r\nTo: customer@sg.test\r\nSubject: {marker}\r\n\r\nЗаявка принята.\r\n"), "customer@sg.test", CancellationToken.None))));

        foreach (var marker in markers)
            await MailServers.WaitForDeliveryAsync("customer@sg.test", marker);
        var logs = Directory.GetFiles(_directory, "robot-smtp*.log").Select(Path.GetFileName).Order().ToList();
        Assert.That(logs, Is.SubsetOf(new[] { "robot-smtp-2.log", "robot-smtp.log" }).And.Contains("robot-smtp.log"));
        var transcripts = logs.Select(name => File.ReadAllText(Path.Combine(_directory, name!))).ToList();
        Assert.That(transcripts.Sum(t => t.Split("C: EHLO").Length - 1), Is.EqualTo(logs.Count), "each connection opened once and kept");
        Assert.That(transcripts.Sum(t => t.Split("C: DATA").Length - 1), Is.EqualTo(markers.Count));
    }

    private static MimeKit.MimeMessage Load(string raw) => MimeKit.MimeMessage.Load(new MemoryStream(Encoding.UTF8.GetBytes(raw)));

    private SmtpSessions Sessions() => new(new MailLogin(new MailTokens(TimeProvider.System)),
        Options.Create(new EmailOptions { Mailboxes = [_mailbox], ProtocolLogDirectory = _directory }), new SupportGateway.Host.Health.ChannelHealth(),
        Microsoft.Extensions.Logging.Abstractions.NullLogger<SmtpSessions>.Instance, TimeProvider.System);
}
