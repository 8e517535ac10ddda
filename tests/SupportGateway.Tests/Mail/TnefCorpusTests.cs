using MimeKit;
using MimeKit.Tnef;
using SupportGateway.Mail.Inbound;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Mail;

/// <summary>
/// TNEF (winmail.dat), read through MimeKit's <see cref="TnefPart"/>, against MimeKit's expected name lists in
/// corpus/mime/mimekit/tnef: every listed name must be found. By that convention the bodies count as "body.rtf",
/// "body.html" and "body.txt". Messages carrying the streams list the files inside instead of winmail.dat.
/// </summary>
public sealed class TnefCorpusTests
{
    private static string Folder => Path.Combine(Corpus.Root, "mime", "mimekit", "tnef");

    [Test]
    public void Every_listed_name_is_extracted()
    {
        var score = NameScore();
        score.Report();
        Assert.That(score.Checks, Is.EqualTo(20), "the ten streams list twenty names");
        Assert.That(score.Ratio, Is.EqualTo(1));
    }

    internal static Score NameScore()
    {
        var score = new Score("TNEF names (MimeKit lists)");
        foreach (var path in Directory.GetFiles(Folder, "*.tnef").Order(StringComparer.Ordinal))
        {
            var names = Names(Convert(File.ReadAllBytes(path)));
            foreach (var name in File.ReadAllLines(Path.ChangeExtension(path, ".list")).Where(l => l.Length > 0))
                score.Check(names.Contains(name), $"{Path.GetFileName(path)}: {name} not among [{string.Join(", ", names)}]");
        }
        return score;
    }

    [Test]
    public void A_damaged_stream_keeps_what_came_before_the_damage_and_itself()
    {
        var good = File.ReadAllBytes(Path.Combine(Folder, "two-files.tnef"));
        var whole = Outlook(good).Attachments.Select(a => a.FileName).ToList();
        Assert.That(whole, Is.EqualTo(new[] { "AUTHORS", "README" }));
        foreach (var cut in new[] { 7, 40, good.Length / 2, good.Length - 3 })
        {
            var names = Outlook(good[..cut]).Attachments.Select(a => a.FileName).ToList();
            Assert.That(names, Is.SubsetOf(whole.Append("winmail.dat")), $"cut at {cut}");
            // TNEF has no end marker: only a cut inside an attribute can be told from a shorter stream.
            if (cut is 7 || cut == good.Length - 3)
                Assert.That(names, Does.Contain("winmail.dat"), $"cut at {cut}: the damaged stream is kept");
        }
        Assert.That(Outlook("not tnef at all"u8.ToArray()).Attachments.Select(a => a.FileName), Is.EqualTo(new[] { "winmail.dat" }));
        Assert.That(Outlook(File.ReadAllBytes(Path.Combine(Folder, "garbage-at-end.tnef"))).Attachments.Select(a => a.FileName), Does.Contain("winmail.dat"));
    }

    [Test]
    public void Tnef_past_the_messages_budget_stays_winmail_dat_unconverted()
    {
        var stream = File.ReadAllBytes(Path.Combine(Folder, "two-files.tnef"));
        var encoded = System.Convert.ToBase64String(stream, Base64FormattingOptions.InsertLineBreaks).Length + 2;

        Assert.That(Outlook(stream, new MailLimits { MaxTnefBytes = encoded + 4 }).Attachments.Select(a => a.FileName), Is.EqualTo(new[] { "AUTHORS", "README" }));
        var kept = Outlook(stream, new MailLimits { MaxTnefBytes = encoded / 2 }).Attachments;
        Assert.That(kept.Select(a => (a.FileName, a.Content.Length)), Is.EqualTo(new[] { ("winmail.dat", stream.Length) }), "kept whole, as a file");
        // Two streams in one message share the budget: the second is kept as it came.
        var both = Outlook(stream, new MailLimits { MaxTnefBytes = encoded + 4 }, twice: true).Attachments.Select(a => a.FileName);
        Assert.That(both, Is.EqualTo(new[] { "AUTHORS", "README", "winmail.dat" }));
    }

    [Test]
    public void Mutated_streams_never_throw()
    {
        var random = new Random(20261122);
        var streams = Directory.GetFiles(Folder, "*.tnef").Order().Select(File.ReadAllBytes).ToList();
        var (cases, kept) = (3000, 0);
        for (var i = 0; i < cases; i++)
        {
            var bytes = streams[i % streams.Count].ToArray();
            for (var flips = random.Next(1, 8); flips > 0; flips--)
                bytes[random.Next(6, bytes.Length)] = (byte)random.Next(256);
            var cut = random.Next(2) == 0 ? bytes.Length : random.Next(6, bytes.Length);
            var message = Outlook(bytes[..cut]);
            _ = message.Text;
            kept += message.Attachments.Any(a => a.FileName == "winmail.dat") ? 1 : 0;
        }
        TestContext.Out.WriteLine($"TNEF fuzz: {cases} mutated streams read without an exception, {kept} kept as winmail.dat beside what was read");
    }

    [Test]
    public void Compressed_rtf_bodies_decompress_to_rtf()
    {
        var converted = Convert(File.ReadAllBytes(Path.Combine(Folder, "long-filename.tnef")));
        var rtf = converted.BodyParts.OfType<TextPart>().FirstOrDefault(p => p.IsRichText);
        Assert.That(rtf, Is.Not.Null);
        Assert.That(rtf!.Text, Does.StartWith("{\\rtf1").And.Contains("\\par"));
    }

    [Test]
    public void A_message_lists_the_files_inside_winmail_dat_instead_of_it()
    {
        var tnef = File.ReadAllBytes(Path.Combine(Folder, "two-files.tnef"));
        var whole = Outlook(tnef);
        Assert.That(whole.Attachments.Select(a => a.FileName), Is.EqualTo(new[] { "AUTHORS", "README" }));
        Assert.That(whole.Attachments.Select(a => a.Content), Is.EqualTo(Convert(tnef).Attachments.OfType<MimePart>().Select(MailParts.Content)));
        Assert.That(whole.Text, Does.StartWith("See the files."));

        var rich = InboundMail.Read(File.ReadAllBytes(Path.Combine(Folder, "rich-text.eml")));
        Assert.That(rich.Attachments.Select(a => a.FileName), Is.EqualTo(new[]
        {
            "kitten-playing-with-a-christmas-tree.jpg", "Build a train table.txt", "Christmas Celebration!.txt", "kitten-playing-with-a-christmas-tree.jpg",
        }), "attached Outlook items become their text plus their files");
        Assert.That(rich.Attachments.Select(a => a.ContentType), Has.None.EqualTo("application/ms-tnef"));
    }

    private static MimeMessage Convert(byte[] tnef)
    {
        // As the gateway does before it reads mail: MimeKit's TNEF reader needs windows-1252.
        System.Text.Encoding.RegisterProvider(System.Text.CodePagesEncodingProvider.Instance);
        return new TnefPart { Content = new MimeContent(new MemoryStream(tnef)) }.ConvertToMessage();
    }

    private static InboundMail Outlook(byte[] winmail, MailLimits? limits = null, bool twice = false)
    {
        var part = "--b\r\nContent-Type: application/ms-tnef; name=\"winmail.dat\"\r\nContent-Disposition: attachment; filename=\"winmail.dat\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
            System.Convert.ToBase64String(winmail, Base64FormattingOptions.InsertLineBreaks) + "\r\n";
        return InboundMail.Read(System.Text.Encoding.ASCII.GetBytes(
            "From: a@example.com\r\nSubject: files\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
            "--b\r\nContent-Type: text/plain\r\n\r\nSee the files.\r\n" + part + (twice ? part : "") + "--b--\r\n"), limits);
    }

    private static List<string> Names(MimeMessage converted)
    {
        // Inline images of the HTML body are files too, though not attachments.
        var names = converted.BodyParts.Select(p => p.ContentDisposition?.FileName ?? p.ContentType.Name).OfType<string>().ToList();
        var bodies = converted.BodyParts.OfType<TextPart>().Where(p => !p.IsAttachment).ToList();
        if (bodies.Any(p => p.IsRichText))
            names.Add("body.rtf");
        if (bodies.Any(p => p.IsHtml))
            names.Add("body.html");
        if (bodies.Any(p => p.IsPlain))
            names.Add("body.txt");
        return names;
    }
}
