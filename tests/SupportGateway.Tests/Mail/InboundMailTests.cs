using System.Text;
using SupportGateway.Mail.Inbound;

namespace SupportGateway.Tests.Mail;

/// <summary>What the gateway reads from a message through MimeKit and the layer on top of it.</summary>
public sealed class InboundMailTests
{
    private static InboundMail Parse(string text) => InboundMail.Read(Encoding.UTF8.GetBytes(text));

    [Test]
    public void Encoded_words_split_inside_a_multibyte_character_are_joined_before_decoding()
    {
        // "Привет" in UTF-8 split between two words in the middle of "и" (0xD0 0xB8).
        var bytes = Encoding.UTF8.GetBytes("Привет");
        var first = Convert.ToBase64String(bytes[..5]);
        var second = Convert.ToBase64String(bytes[5..]);
        var message = Parse($"Subject: =?UTF-8?B?{first}?=\r\n =?UTF-8?B?{second}?=\r\n\r\nbody");
        Assert.That(message.Subject, Is.EqualTo("Привет"));
    }

    [Test]
    public void Text_between_encoded_words_is_kept_but_whitespace_between_them_is_not() =>
        Assert.That(Parse("Subject: =?koi8-r?B?8NLJ18XU?= and =?utf-8?Q?=D0=BC=D0=B8=D1=80?= =?utf-8?Q?!?=\r\n\r\n").Subject,
            Is.EqualTo("Привет and мир!"));

    [Test]
    public void Rfc2231_continuations_and_charset_give_the_file_name()
    {
        var message = Parse("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: application/pdf\r\n"
            + "Content-Disposition: attachment;\r\n filename*0*=utf-8''%D0%A1%D1%87%D1%91%D1%82;\r\n filename*1=\" 42.pdf\"\r\n"
            + "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n");
        var attachment = message.Attachments.Single();
        Assert.That(attachment.FileName, Is.EqualTo("Счёт 42.pdf"));
        Assert.That(attachment.Content, Is.EqualTo("%PDF-"u8.ToArray()));
    }

    [TestCase("\"Иванов, Иван\" <ivan@example.ru>", "Иванов, Иван", "ivan@example.ru")]
    [TestCase("=?utf-8?B?0JjQstCw0L0sINCY0LLQsNC90L7Qsg==?= <ivan@example.ru>", "Иван, Иванов", "ivan@example.ru")]
    [TestCase("ivan@example.ru (Иван)", "Иван", "ivan@example.ru")]
    [TestCase("Ivan Petrov ivan@example.ru", "Ivan Petrov", "ivan@example.ru")]
    [TestCase("Ivan <ivan@example.ru", "Ivan", "ivan@example.ru")]
    public void Addresses_are_read_from_what_mailers_really_send(string field, string name, string address)
    {
        var from = Parse($"From: {field}\r\n\r\n").From.Single();
        Assert.That((from.Name, from.Address), Is.EqualTo((name, address)));
    }

    [Test]
    public void Groups_are_flattened_into_their_members() =>
        Assert.That(Parse("To: Support team: a@x.ru, \"B\" <b@x.ru>;, c@x.ru\r\n\r\n").To.Select(a => a.Address),
            Is.EqualTo(new[] { "a@x.ru", "b@x.ru", "c@x.ru" }));

    [TestCase("Wed, 11 Feb 98 11:51 CST", "1998-02-11T11:51:00-06:00")]
    [TestCase("Thu, 7 Feb 2019 13:18:20 +0500 (YEKT)", "2019-02-07T13:18:20+05:00")]
    [TestCase("7 Feb 2019 13:18:20 MSK", "2019-02-07T13:18:20+03:00")]
    [TestCase("Thu,  7 Feb 2019 13:18 -0000", "2019-02-07T13:18:00+00:00")]
    public void Dates_are_read_leniently(string field, string expected) =>
        Assert.That(Parse($"Date: {field}\r\n\r\n").Date, Is.EqualTo(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture)));

    [Test]
    public void Lines_may_end_in_crlf_lf_or_a_bare_cr()
    {
        foreach (var eol in new[] { "\r\n", "\n", "\r" })
        {
            var message = Parse($"Subject: hi{eol}Content-Type: multipart/alternative; boundary=x{eol}{eol}--x{eol}Content-Type: text/plain{eol}{eol}plain{eol}--x--{eol}");
            Assert.That((message.Subject, message.Text), Is.EqualTo(("hi", "plain")), eol.Replace("\r", "CR").Replace("\n", "LF"));
        }
    }

    [Test]
    public void Undeclared_windows1251_text_is_detected()
    {
        var body = Encoding.GetEncoding(1251).GetBytes("Добрый день! Не работает печать счетов, ошибка при сохранении.");
        var message = InboundMail.Read((byte[])[.. "Subject: x\r\n\r\n"u8.ToArray(), .. body]);
        Assert.That(message.Text, Does.StartWith("Добрый день!"));
    }

    [Test]
    public void Html_only_message_gets_plain_text_without_markup()
    {
        var message = Parse("Content-Type: text/html; charset=utf-8\r\n\r\n<html><head><style>p{}</style></head><body><p>Здравствуйте,</p><p>нужна <b>помощь</b></p><script>x()</script></body></html>");
        Assert.That(message.Text, Is.EqualTo("Здравствуйте,\n\nнужна помощь"));
    }

    [Test]
    public void Nesting_deeper_than_the_limit_is_kept_as_a_leaf_with_its_text()
    {
        var text = new StringBuilder();
        for (var i = 0; i < 10; i++)
            text.Append($"Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n");
        text.Append("Content-Type: text/plain\r\n\r\nглубоко внутри\r\n");
        var message = InboundMail.Read(Encoding.UTF8.GetBytes(text.ToString()), new MailLimits { MaxDepth = 5 });
        Assert.That(message.IsLenient, Is.False);
        var deepest = MailParts.Walk(message.Message.Body).Last();
        Assert.That(deepest, Is.TypeOf<MimeKit.MimePart>(), "below the limit, a multipart is one opaque part");
        Assert.That(Encoding.UTF8.GetString(MailParts.Content(deepest)), Does.Contain("глубоко внутри"), "nothing below it is lost");
    }

    [Test]
    public void A_subject_of_thousands_of_encoded_words_is_decoded_only_up_to_the_limit()
    {
        var words = string.Join("\r\n ", Enumerable.Repeat("=?utf-8?B?0J/RgNC40LLQtdGC?=", 3300)); // "Привет" each
        var message = Parse($"From: a@example.ru\r\nSubject: {words}\r\n\r\nbody");
        var limit = MailLimits.Default.MaxHeaderBytes;
        Assert.That(message.Subject, Does.StartWith("ПриветПривет"));
        Assert.That(message.Subject.Length, Is.LessThanOrEqualTo(limit), "only the first MaxHeaderBytes bytes are decoded");
        Assert.That(message.Subject.Length, Is.GreaterThan(limit / 10));
    }

    [Test]
    public void A_message_with_blank_lines_before_its_header_is_read_after_them()
    {
        var message = Parse("   \r\n\r\nFrom: Ольга <olga@example.ru>\r\nSubject: Счёт\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nНе приходит счёт.\r\n");
        Assert.That(message.IsLenient, Is.True);
        Assert.That((message.From.Single().Address, message.Subject, message.Text.Trim()), Is.EqualTo(("olga@example.ru", "Счёт", "Не приходит счёт.")));
    }

    [Test]
    public void A_message_with_no_header_block_is_read_as_text_with_every_byte()
    {
        const string raw = "Здравствуйте, не работает принтер.\r\n\r\n--\r\nОльга";
        var message = Parse(raw);
        Assert.That(message.IsLenient, Is.True, message.LenientReason);
        Assert.That(message.Text, Is.EqualTo(raw));
        Assert.That((message.Subject, message.From), Is.EqualTo(("", Array.Empty<SupportGateway.Mail.Mime.MailAddress>())));
    }

    [Test]
    public void A_body_that_follows_the_fields_without_a_blank_line_is_kept_as_text()
    {
        var message = Parse("From: a@example.ru\r\nSubject: x\r\nКартридж заменили, не печатает.\r\nВторая строка.\r\n");
        Assert.That(message.Subject, Is.EqualTo("x"));
        Assert.That(message.Text, Does.StartWith("Картридж заменили, не печатает.\r\nВторая строка."));
        var parts = Parse("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\nbar\r\n--b--\r\n");
        Assert.That(parts.Text.Trim(), Is.EqualTo("bar"), "in a part too");
    }

    [Test]
    public void An_unreadable_content_type_means_text_plain_but_a_named_file_stays_a_file()
    {
        Assert.That(Parse("Content-Type: text; charset=us-ascii\r\n\r\nhello").Text, Is.EqualTo("hello")); // RFC 2045 §5.2
        var file = Parse("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee file\r\n"
            + "--b\r\nContent-Type: application-x-gzip; name=\"document.xml.gz\"\r\nContent-Transfer-Encoding: base64\r\n\r\nH4sIAAAAAAAAAwMAAAAAAAAAAAA=\r\n--b--\r\n");
        Assert.That(file.Attachments.Select(a => a.FileName), Is.EqualTo(new[] { "document.xml.gz" }));
        Assert.That(file.Text.Trim(), Is.EqualTo("see file"));
    }

    [Test]
    public void A_message_over_the_size_limit_keeps_its_header_fields()
    {
        var raw = Encoding.ASCII.GetBytes("From: a@example.ru\r\nSubject: big\r\n\r\n" + new string('x', 5000));
        var message = InboundMail.Read(raw, new MailLimits { MaxMessageBytes = 1000 });
        Assert.That(message.LenientReason, Does.Contain("larger than 1000 bytes"));
        Assert.That((message.From.Single().Address, message.Subject), Is.EqualTo(("a@example.ru", "big")));
    }

    [Test]
    public void Auto_replies_and_delivery_reports_are_recognised()
    {
        Assert.That(Parse("From: a@b.ru\r\nAuto-Submitted: auto-replied\r\nSubject: Re: x\r\n\r\nI am away").IsAutoReply, Is.True);
        Assert.That(Parse("From: a@b.ru\r\nAuto-Submitted: no\r\nSubject: Re: x\r\n\r\nhello").IsAutoReply, Is.False);
        Assert.That(Parse("From: MAILER-DAEMON@mx.ru\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\n--r\r\n\r\nfailed\r\n--r--").IsBounce, Is.True);
    }
}
