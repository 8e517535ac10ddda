using System.Text;
using MimeKit;
using SupportGateway.Host.Channels.Email;
using SupportGateway.Mail.Mime;
using SupportGateway.Tests.Support;
using Kit = MimeKit;

namespace SupportGateway.Tests.Host.Email;

/// <summary>
/// The gateway's outgoing mail as a recipient reads it: built the way the senders build it, written the way MailKit's
/// SmtpClient writes it for a server without 8BITMIME (the strictest case), and parsed again with MimeKit.
/// </summary>
public sealed class OutgoingMailTests
{
    private static readonly MailboxOptions Support = new() { Name = "support", Address = "support@example.ru", DisplayName = "Служба поддержки" };

    private static readonly string LongName = "Отчёт за ноябрь 2026 года по обращениям клиентов, том 1.pdf";

    [Test]
    public void Cyrillic_subject_names_threading_and_our_headers_read_back_as_written()
    {
        var subject = "RE: [SG-10429] " + string.Concat(Enumerable.Repeat("Очень длинная тема письма ", 12)).TrimEnd();
        var references = Enumerable.Range(0, 30).Select(i => $"id{i}@example.ru").ToList();
        var mail = MailSubmission.Create(Support, "ivan@example.ru", subject, "SG-10429.abc@example.ru",
            ("Auto-Submitted", "auto-replied"), ("X-SupportGateway-Ticket", "SG-10429"));
        mail.ReplyTo.Add(new MailboxAddress("Иван \"Ваня\" Петров", "ivan+SG-10429@example.ru"));
        mail.InReplyTo = references[^1];
        mail.References.AddRange(references);
        mail.Body = new BodyBuilder { TextBody = "Здравствуйте!" }.ToMessageBody();

        var read = Kit.MimeMessage.Load(new MemoryStream(Wire(mail)));

        Assert.That(read.Subject, Is.EqualTo(subject));
        Assert.That(read.From.Mailboxes.Select(m => (m.Name, m.Address)), Is.EqualTo(new[] { ("Служба поддержки", "support@example.ru") }));
        Assert.That(read.To.Mailboxes.Select(m => m.Address), Is.EqualTo(new[] { "ivan@example.ru" }));
        Assert.That(read.ReplyTo.Mailboxes.Single().Name, Is.EqualTo("Иван \"Ваня\" Петров"));
        Assert.That((read.MessageId, read.InReplyTo), Is.EqualTo(("SG-10429.abc@example.ru", "id29@example.ru")));
        Assert.That(read.References, Is.EqualTo(references));
        Assert.That((read.Headers["Auto-Submitted"], read.Headers["X-SupportGateway-Ticket"]), Is.EqualTo(("auto-replied", "SG-10429")));
        Assert.That(read.Date, Is.EqualTo(DateTimeOffset.Now).Within(TimeSpan.FromMinutes(1)));
        Assert.That(read.TextBody, Is.EqualTo("Здравствуйте!"));
    }

    [Test]
    public void Lines_are_crlf_within_998_octets_and_headers_are_ascii_even_for_long_lines_and_names()
    {
        var mail = MailSubmission.Create(Support, "ivan@example.ru", "RE: " + string.Concat(Enumerable.Repeat("Принтер не печатает ", 20)), null);
        var body = new BodyBuilder { TextBody = "Здравствуйте!\n" + new string('x', 2000) + "\nконец   ", HtmlBody = "<p>" + new string('я', 1500) + "</p>" };
        MailSubmission.Attach(body, LongName, "application/pdf", new byte[5000]);
        mail.Body = body.ToMessageBody();

        var bytes = Wire(mail);
        var lines = SplitCrlf(bytes);

        Assert.That(bytes.Count(b => b == '\n'), Is.EqualTo(lines.Count), "every line ends in CRLF");
        Assert.That(lines.Max(l => l.Length), Is.LessThanOrEqualTo(998));
        Assert.That(bytes.All(b => b < 0x80), "8-bit octets for a server without 8BITMIME");
        var read = Kit.MimeMessage.Load(new MemoryStream(bytes));
        Assert.That(read.TextBody?.ReplaceLineEndings("\n"), Is.EqualTo("Здравствуйте!\n" + new string('x', 2000) + "\nконец   "));
        Assert.That(read.HtmlBody, Is.EqualTo("<p>" + new string('я', 1500) + "</p>"));
    }

    [Test]
    public void File_names_are_rfc_2231_in_the_disposition_and_encoded_words_in_the_content_type()
    {
        var pdf = Enumerable.Range(0, 4000).Select(i => (byte)i).ToArray();
        var body = new BodyBuilder { TextBody = "Счёт во вложении." };
        MailSubmission.Attach(body, LongName, "application/pdf", pdf);
        var mail = MailSubmission.Create(Support, "ivan@example.ru", "Счёт", null);
        mail.Body = body.ToMessageBody();

        var bytes = Wire(mail);
        var read = Kit.MimeMessage.Load(new MemoryStream(bytes));

        var file = read.Attachments.OfType<MimePart>().Single();
        Assert.That(file.FileName, Is.EqualTo(LongName));
        Assert.That(file.ContentType.Name, Is.EqualTo(LongName));
        Assert.That(Decoded(file), Is.EqualTo(pdf));
        var headers = Encoding.ASCII.GetString(bytes);
        Assert.That(headers, Does.Contain("filename*0*=utf-8''").IgnoreCase, "RFC 2231 §3-4: charset and sections");
        Assert.That(headers, Does.Match(@"name=""=\?utf-8\?[bq]\?").IgnoreCase, "old Outlook reads the name as encoded-words");
    }

    [Test]
    public void Html_has_the_text_as_alternative_and_inline_images_beside_it_by_content_id()
    {
        var png = new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3 };
        var body = new BodyBuilder { TextBody = "Схема ниже.", HtmlBody = "<p>Схема ниже.</p><img src=\"cid:scheme@sg\">" };
        MailSubmission.Attach(body, "схема.png", "image/png", png, contentId: "scheme@sg", inline: true);
        MailSubmission.Attach(body, "акт.pdf", "application/pdf", [1, 2]);
        MailSubmission.Attach(body, "", "application/octet-stream", [3], inline: true);
        var mail = MailSubmission.Create(Support, "ivan@example.ru", "Схема", null);
        mail.Body = body.ToMessageBody();

        var read = Kit.MimeMessage.Load(new MemoryStream(Wire(mail)));

        Assert.That((read.TextBody, read.HtmlBody), Is.EqualTo(("Схема ниже.", "<p>Схема ниже.</p><img src=\"cid:scheme@sg\">")));
        var related = read.BodyParts.OfType<MimePart>().Single(p => p.ContentId == "scheme@sg");
        Assert.That((related.FileName, related.ContentDisposition?.Disposition, Decoded(related)), Is.EqualTo(("схема.png", "inline", png)));
        var mixed = (Multipart)read.Body!;
        Assert.That(mixed.ContentType.MimeType, Is.EqualTo("multipart/mixed"));
        Assert.That(mixed.Skip(1).OfType<MimePart>().Select(p => (p.FileName, p.ContentDisposition?.Disposition)),
            Is.EqualTo(new[] { ("акт.pdf", "attachment"), ((string?)null, "inline") }), "an inline file without a Content-ID is a file of the message");
        Assert.That(((Multipart)mixed[0]).ContentType.MimeType, Is.EqualTo("multipart/alternative"));
        Assert.That(((Multipart)((Multipart)mixed[0])[1]).ContentType.MimeType, Is.EqualTo("multipart/related"), "the HTML and its images");
    }

    /// <summary>The issue's bar: every corpus message, written again with MimeKit, keeps subject, addresses, text and attachment bytes.</summary>
    [Test]
    public void Every_corpus_message_survives_write_and_parse()
    {
        var score = new Score("round trip (subject, addresses, text, attachment bytes)");
        var refused = new List<string>();
        foreach (var file in Corpus.MimeMessages())
        {
            var original = SupportGateway.Mail.Inbound.InboundMail.Read(File.ReadAllBytes(file));
            var from = original.From.FirstOrDefault() ?? new MailAddress("", "nobody@invalid");
            var mail = new Kit.MimeMessage { Subject = original.Subject };
            var (to, cc) = (Writable(original.To), Writable(original.Cc));
            var author = Writable([from]).FirstOrDefault() ?? new MailAddress("", "nobody@invalid");
            mail.From.Add(Mailbox(author)!);
            mail.To.AddRange(to.Select(Mailbox)!);
            mail.Cc.AddRange(cc.Select(Mailbox)!);
            var body = new BodyBuilder { TextBody = original.Text, HtmlBody = original.HtmlBody };
            foreach (var a in original.Attachments)
                MailSubmission.Attach(body, a.FileName ?? "", a.ContentType, a.Content, a.ContentId, a.Inline);
            mail.Body = body.ToMessageBody();

            var copy = Kit.MimeMessage.Load(new MemoryStream(Wire(mail)));
            var differences = new List<string>();
            // Folding white space around the subject is no part of what a reader sees (RFC 5322 §3.2.2).
            if (Words(copy.Subject ?? "") != Words(original.Subject))
                differences.Add($"subject «{copy.Subject}» ≠ «{original.Subject}»");
            // One author: a second From address (RFC 5322 allows it with Sender) is not written.
            if (!Addresses(copy.From).SequenceEqual([author]) || !Addresses(copy.To).SequenceEqual(to) || !Addresses(copy.Cc).SequenceEqual(cc))
                differences.Add($"addresses [{string.Join("; ", original.From.Concat(original.To).Concat(original.Cc))}] → [{copy.From}; {copy.To}; {copy.Cc}]");
            if (Lines(copy.TextBody ?? "") != Lines(original.Text))
                differences.Add("text");
            // The body's text and HTML carry no Content-Disposition; every file does. Inline images move into multipart/related beside the HTML, so order is not compared.
            var before = original.Attachments.Select(a => Convert.ToHexString(a.Content)).Order().ToList();
            var after = copy.BodyParts.OfType<MimePart>().Where(p => p.ContentDisposition is not null).Select(p => Convert.ToHexString(Decoded(p))).Order().ToList();
            if (!before.SequenceEqual(after))
                differences.Add($"attachments {before.Count} → {after.Count} or their bytes");
            score.Check(differences.Count == 0, $"{Corpus.Relative(file)}: {string.Join(", ", differences)}");
        }
        score.Report();
        Assert.That(score.Agreed, Is.EqualTo(score.Checks));
        Assert.That(refused.Distinct(), Is.EquivalentTo(new[] { "", "matmail", "Undisclosed-Recipient:@mailman.enron.com;" }),
            "the only corpus addresses that are no mailbox: empty ones (<>), a bare local part and a mangled group");

        List<MailAddress> Writable(IEnumerable<MailAddress> addresses)
        {
            var writable = addresses.Where(a => Mailbox(a) is not null).ToList();
            refused.AddRange(addresses.Except(writable).Select(a => a.Address));
            return writable;
        }
    }

    /// <summary>What MailKit's SmtpClient sends to a server without 8BITMIME: prepared for 7 bits, CRLF line ends (RFC 5321 §2.3.8).</summary>
    private static byte[] Wire(Kit.MimeMessage message)
    {
        message.Prepare(EncodingConstraint.SevenBit, 998);
        var options = FormatOptions.Default.Clone();
        options.NewLineFormat = NewLineFormat.Dos;
        options.EnsureNewLine = true;
        using var output = new MemoryStream();
        message.WriteTo(options, output);
        return output.ToArray();
    }

    /// <summary>Null for what is no mailbox at all, which no sender can write (and the gateway refuses as a recipient).</summary>
    private static MailboxAddress? Mailbox(MailAddress address)
    {
        if (!address.Address.Contains('@', StringComparison.Ordinal))
            return null;
        try
        {
            return new(address.Name, address.Address);
        }
        catch (ParseException)
        {
            return null;
        }
    }

    private static IEnumerable<MailAddress> Addresses(InternetAddressList list) => list.Mailboxes.Select(m => new MailAddress(m.Name ?? "", m.Address));

    private static byte[] Decoded(MimePart part)
    {
        using var content = new MemoryStream();
        part.Content?.DecodeTo(content);
        return content.ToArray();
    }

    private static string Words(string text) => string.Join(' ', text.Split((char[])[' ', '\t', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries));

    private static string Lines(string text) => text.ReplaceLineEndings("\n").TrimEnd('\n');

    private static List<byte[]> SplitCrlf(byte[] bytes)
    {
        var lines = new List<byte[]>();
        var start = 0;
        for (var i = 0; i + 1 < bytes.Length; i++)
        {
            if (bytes[i] == '\r' && bytes[i + 1] == '\n')
            {
                lines.Add(bytes[start..i]);
                start = i + 2;
            }
        }
        return lines;
    }
}
