using System.Text;
using SupportGateway.Mail.Mime;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Mail;

public sealed class MimeWriterTests
{
    private static readonly MailAddress Support = new("Служба поддержки", "support@example.ru");

    [Test]
    public void Written_message_has_crlf_lines_within_998_octets_and_ascii_headers()
    {
        var bytes = MimeWriter.Write(new OutgoingMessage
        {
            From = Support,
            To = [new MailAddress("Иван \"Ваня\" Петров", "ivan@example.ru")],
            Subject = "RE: [SG-10429] " + string.Concat(Enumerable.Repeat("Очень длинная тема письма ", 12)),
            Text = "Здравствуйте!\n" + new string('x', 2000) + "\nконец   ",
            Html = "<p>Здравствуйте!</p>",
            InReplyTo = "abc@example.ru",
            References = [.. Enumerable.Range(0, 30).Select(i => $"id{i}@example.ru")],
            Attachments = [new OutgoingAttachment("Отчёт за ноябрь 2026 года по обращениям клиентов.pdf", "application/pdf", new byte[5000])],
            Headers = [new("Auto-Submitted", "auto-replied")],
        });
        var lines = SplitCrlf(bytes);
        Assert.That(bytes.AsSpan().IndexOf("\n"u8), Is.EqualTo(bytes.AsSpan().IndexOf("\r\n"u8) + 1), "a bare LF");
        Assert.That(lines.Max(l => l.Length), Is.LessThanOrEqualTo(998));
        Assert.That(lines.Where(l => l.Length > 0).All(l => l.All(b => b < 0x80)), "8-bit octets where none are needed");
    }

    [Test]
    public void Fields_survive_the_round_trip()
    {
        var pdf = Enumerable.Range(0, 4000).Select(i => (byte)i).ToArray();
        var outgoing = new OutgoingMessage
        {
            From = Support,
            To = [new MailAddress("Иван Петров", "ivan@example.ru"), new MailAddress("", "boss@example.ru")],
            Cc = [new MailAddress("O'Brien, Pat", "pat@example.com")],
            Subject = "RE: [SG-10429] Принтер не печатает — 100%",
            MessageId = "sg-outbox-42@example.ru",
            InReplyTo = "orig@mail.example.ru",
            References = ["first@example.ru", "orig@mail.example.ru"],
            Date = new DateTimeOffset(2026, 11, 22, 10, 15, 0, TimeSpan.FromHours(3)),
            Text = "Здравствуйте!\r\n\r\nПроверьте кабель.   \r\n=20 и точка.",
            Html = "<p>Здравствуйте!</p>",
            Attachments = [new OutgoingAttachment("Отчёт №1.pdf", "application/pdf", pdf), new OutgoingAttachment("logo.png", "image/png", new byte[] { 1, 2, 3 }) { ContentId = "logo@sg", Inline = true }],
            Headers = [new("Auto-Submitted", "auto-replied")],
        };
        var parsed = MimeParser.Parse(MimeWriter.Write(outgoing));

        Assert.That(parsed.Subject, Is.EqualTo(outgoing.Subject));
        Assert.That(parsed.From, Is.EqualTo(new[] { Support }));
        Assert.That(parsed.To, Is.EqualTo(outgoing.To));
        Assert.That(parsed.Cc, Is.EqualTo(outgoing.Cc));
        Assert.That((parsed.MessageId, parsed.InReplyTo.Single(), parsed.References), Is.EqualTo((outgoing.MessageId, outgoing.InReplyTo, outgoing.References)));
        Assert.That(parsed.Date, Is.EqualTo(outgoing.Date));
        Assert.That(parsed.Text, Is.EqualTo(outgoing.Text));
        Assert.That(parsed.HtmlBody, Is.EqualTo(outgoing.Html));
        Assert.That(parsed.Headers.Get("Auto-Submitted"), Is.EqualTo("auto-replied"));
        Assert.That(parsed.IsAutoReply, Is.True);
        var attachments = parsed.Root.Walk().Where(e => e.FileName is not null).ToList();
        Assert.That(attachments.Select(a => (a.FileName, a.ContentType.MimeType, a.ContentId)), Is.EqualTo(new[] { ("logo.png", "image/png", (string?)"logo@sg"), ("Отчёт №1.pdf", "application/pdf", null) }));
        Assert.That(attachments[1].DecodedContent(), Is.EqualTo(pdf));
    }

    /// <summary>The issue's bar: every corpus message, written and parsed again, keeps subject, addresses, text and attachment bytes.</summary>
    [Test]
    public void Every_corpus_message_survives_write_and_parse()
    {
        var score = new Score("round trip (subject, addresses, text, attachment bytes)");
        foreach (var file in Corpus.MimeMessages())
        {
            var original = MimeParser.Parse(File.ReadAllBytes(file));
            var outgoing = new OutgoingMessage
            {
                From = original.From.FirstOrDefault() ?? new MailAddress("", "nobody@invalid"),
                To = original.To,
                Cc = original.Cc,
                Subject = original.Subject,
                Text = original.Text,
                Html = original.HtmlBody,
                Attachments = [.. original.Attachments.Select(a => new OutgoingAttachment(a.FileName ?? "", a.ContentType.MimeType, a.DecodedContent())
                {
                    ContentId = a.ContentId,
                    Inline = a.Disposition?.IsInline == true,
                })],
            };
            var copy = MimeParser.Parse(MimeWriter.Write(outgoing));
            var differences = new List<string>();
            if (copy.Subject != original.Subject)
                differences.Add($"subject «{copy.Subject}» ≠ «{original.Subject}»");
            // One author: a second From address (RFC 5322 allows it with Sender) is not written.
            if (!copy.From.SequenceEqual([outgoing.From]) || !copy.To.SequenceEqual(original.To) || !copy.Cc.SequenceEqual(original.Cc))
                differences.Add($"addresses [{string.Join("; ", original.From.Concat(original.To).Concat(original.Cc))}] → [{string.Join("; ", copy.From.Concat(copy.To).Concat(copy.Cc))}]");
            if (Lines(copy.Text) != Lines(original.Text))
                differences.Add("text");
            // Inline images move into multipart/related beside the HTML, so order is not compared.
            var before = original.Attachments.Select(a => Convert.ToHexString(a.DecodedContent())).Order().ToList();
            var after = copy.Attachments.Select(a => Convert.ToHexString(a.DecodedContent())).Order().ToList();
            if (!before.SequenceEqual(after))
                differences.Add($"attachments [{string.Join("; ", original.Attachments.Select(a => $"{a.ContentType.MimeType} {a.FileName} {a.DecodedContent().Length}"))}] → [{string.Join("; ", copy.Attachments.Select(a => $"{a.ContentType.MimeType} {a.FileName} {a.DecodedContent().Length}"))}]");
            score.Check(differences.Count == 0, $"{Corpus.Relative(file)}: {string.Join(", ", differences)}");
        }
        score.Report();
        Assert.That(score.Agreed, Is.EqualTo(score.Checks));
    }

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
