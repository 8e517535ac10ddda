using System.Text;
using SupportGateway.Mail.Mime;
using SupportGateway.Mail.Net;
using SupportGateway.Mail.Smtp;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Mail.Servers;

/// <summary>The SMTP client against a real Postfix that delivers into Dovecot Maildirs.</summary>
public sealed class SmtpPostfixTests
{
    private readonly RecordingLog _log = new();

    [OneTimeSetUp]
    public Task Servers() => MailServers.EnsureStartedAsync();

    [Test]
    public async Task Message_with_8bit_utf8_text_and_attachments_is_delivered()
    {
        var marker = Guid.NewGuid().ToString("N");
        var pdf = Enumerable.Range(0, 70_000).Select(i => (byte)(i * 7)).ToArray();
        var message = Encoding.UTF8.GetBytes(
            $"From: =?utf-8?B?0KHQu9GD0LbQsdCwINC/0L7QtNC00LXRgNC20LrQuA==?= <robot@sg.test>\r\nTo: agent@sg.test\r\nSubject: =?utf-8?B?0JfQsNGP0LLQutCw?= {marker}\r\nMessage-ID: <{marker}@sg.test>\r\n" +
            "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" +
            "--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
            ".Строка с точкой в начале.\r\nПринтер не печатает — ошибка 0x1F.\r\n" +
            "--b1\r\nContent-Type: application/pdf; name=\"otchet.pdf\"\r\nContent-Disposition: attachment; filename=\"otchet.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
            Convert.ToBase64String(pdf, Base64FormattingOptions.InsertLineBreaks) + "\r\n--b1--\r\n");

        await using var client = await ConnectAsync();
        var result = await client.SendAsync(message, "robot@sg.test", ["agent@sg.test"], CancellationToken.None);
        await client.QuitAsync(CancellationToken.None);

        Assert.That(result.Delivered, Is.EqualTo(new[] { "agent@sg.test" }), result.DataReply?.ToString());
        Assert.That(client.Extensions, Does.Contain("PIPELINING").And.Contain("8BITMIME").And.Contain("SMTPUTF8"));
        var delivered = MimeParser.Parse(await MailServers.WaitForDeliveryAsync("agent@sg.test", marker));
        Assert.That(delivered.Subject, Is.EqualTo($"Заявка {marker}"));
        // Dovecot stores Maildir files with LF line ends; the dot-stuffed first line arrived unstuffed.
        Assert.That(delivered.Text.ReplaceLineEndings("\n"), Does.StartWith(".Строка с точкой в начале.\nПринтер не печатает — ошибка 0x1F."));
        Assert.That(delivered.Attachments.Single().DecodedContent(), Is.EqualTo(pdf));
        Assert.That(_log.Lines, Has.Some.Contains("BODY=8BITMIME"));
        Assert.That(_log.Lines, Has.None.Contains(" SMTPUTF8"), "ASCII headers and addresses need no SMTPUTF8");
    }

    [Test]
    public async Task A_550_for_one_recipient_is_permanent_while_the_others_are_delivered()
    {
        var marker = Guid.NewGuid().ToString("N");
        var message = MimeWriter.Write(new OutgoingMessage
        {
            From = new MailAddress("Робот", "robot@sg.test"),
            To = [new MailAddress("", "customer@sg.test"), new MailAddress("", "nobody@sg.test"), new MailAddress("", "agent@sg.test")],
            Subject = $"Three recipients {marker}",
            Text = "Один из адресатов не существует.",
        });

        await using var client = await ConnectAsync();
        var result = await client.SendAsync(message, "robot@sg.test", ["customer@sg.test", "nobody@sg.test", "agent@sg.test"], CancellationToken.None);

        var nobody = result.Recipients.Single(r => r.Address == "nobody@sg.test");
        Assert.That((nobody.Outcome, nobody.Reply.Code), Is.EqualTo((RecipientOutcome.Permanent, 550)));
        Assert.That(result.Delivered, Is.EquivalentTo(new[] { "customer@sg.test", "agent@sg.test" }));
        await MailServers.WaitForDeliveryAsync("customer@sg.test", marker);
        await MailServers.WaitForDeliveryAsync("agent@sg.test", marker);

        // The session stays usable after a partial refusal.
        var again = await client.SendAsync(message, "robot@sg.test", ["nobody@sg.test"], CancellationToken.None);
        Assert.That((again.Recipients.Single().Outcome, again.DataReply), Is.EqualTo((RecipientOutcome.Permanent, (SmtpReply?)null)));
    }

    [Test]
    public void Plain_connections_are_refused_beyond_loopback()
    {
        var client = new SmtpClient(new SmtpClientOptions { Host = "mail.example.com", Port = 25, Security = MailSecurity.PlainLoopbackOnly });
        Assert.That(() => client.ConnectAsync(CancellationToken.None), Throws.ArgumentException.With.Message.Contains("loopback"));
    }

    private async Task<SmtpClient> ConnectAsync()
    {
        var client = new SmtpClient(new SmtpClientOptions
        {
            Host = MailServers.Host,
            Port = MailServers.SmtpPort,
            Security = MailSecurity.PlainLoopbackOnly,
            ClientName = "tests.sg.test",
            Timeout = TimeSpan.FromSeconds(20),
            ProtocolLog = _log,
        });
        await client.ConnectAsync(CancellationToken.None);
        return client;
    }
}
