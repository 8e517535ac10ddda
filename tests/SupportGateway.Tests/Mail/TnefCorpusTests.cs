using SupportGateway.Mail.Mime;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Mail;

/// <summary>
/// TNEF (winmail.dat) against MimeKit's expected name lists in corpus/mime/mimekit/tnef: every listed name must
/// be found. By that convention the bodies count as "body.rtf", "body.html" and "body.txt".
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
            var names = Names(TnefReader.Read(File.ReadAllBytes(path))!);
            foreach (var name in File.ReadAllLines(Path.ChangeExtension(path, ".list")).Where(l => l.Length > 0))
                score.Check(names.Contains(name), $"{Path.GetFileName(path)}: {name} not among [{string.Join(", ", names)}]");
        }
        return score;
    }

    [Test]
    public void A_damaged_stream_keeps_what_came_before_the_damage()
    {
        var good = File.ReadAllBytes(Path.Combine(Folder, "two-files.tnef"));
        var whole = TnefReader.Read(good)!;
        Assert.That(whole.Complete);
        foreach (var cut in new[] { 7, 40, good.Length / 2, good.Length - 3 })
        {
            var part = TnefReader.Read(good.AsSpan(0, cut))!;
            // TNEF has no end marker: only a cut inside an attribute can be told from a shorter stream.
            if (cut is 7 || cut == good.Length - 3)
                Assert.That(part.Complete, Is.False, $"cut at {cut}");
            Assert.That(part.Attachments.Select(a => a.FileName), Is.SubsetOf(whole.Attachments.Select(a => a.FileName)));
        }
        Assert.That(TnefReader.Read("not tnef at all"u8), Is.Null);
        Assert.That(TnefReader.Read(File.ReadAllBytes(Path.Combine(Folder, "garbage-at-end.tnef")))!.Complete, Is.False);
    }

    [Test]
    public void Mutated_streams_never_throw()
    {
        var random = new Random(20261122);
        var streams = Directory.GetFiles(Folder, "*.tnef").Order().Select(File.ReadAllBytes).ToList();
        var (cases, damaged) = (3000, 0);
        for (var i = 0; i < cases; i++)
        {
            var bytes = streams[i % streams.Count].ToArray();
            for (var flips = random.Next(1, 8); flips > 0; flips--)
                bytes[random.Next(6, bytes.Length)] = (byte)random.Next(256);
            var cut = random.Next(2) == 0 ? bytes.Length : random.Next(6, bytes.Length);
            var tnef = TnefReader.Read(bytes.AsSpan(0, cut));
            Assert.That(tnef, Is.Not.Null);
            damaged += tnef!.Complete ? 0 : 1;
        }
        TestContext.Out.WriteLine($"TNEF fuzz: {cases} mutated streams read without an exception, {damaged} reported as damaged");
    }

    [Test]
    public void Compressed_rtf_bodies_decompress_to_rtf()
    {
        Assert.That(CompressedRtf.PrefixLength, Is.EqualTo(207), "MS-OXRTFCP's initial dictionary");
        var rtf = TnefReader.Read(File.ReadAllBytes(Path.Combine(Folder, "long-filename.tnef")))!.RtfBody;
        Assert.That(rtf, Is.Not.Null);
        var text = System.Text.Encoding.ASCII.GetString(rtf!);
        Assert.That(text, Does.StartWith("{\\rtf1").And.EndWith("}").Or.EndWith("}\0").Or.Contains("\\par"));
    }

    [Test]
    public void A_message_lists_the_files_inside_winmail_dat_instead_of_it()
    {
        var tnef = File.ReadAllBytes(Path.Combine(Folder, "two-files.tnef"));
        var whole = Outlook(tnef);
        Assert.That(whole.Attachments.Select(a => a.FileName), Is.EqualTo(new[] { "AUTHORS", "README" }));
        Assert.That(whole.Attachments.Select(a => a.DecodedContent()), Is.EqualTo(TnefReader.Read(tnef)!.Attachments.Select(a => a.Content)));
        Assert.That(whole.Text, Does.StartWith("See the files."));

        // A damaged winmail.dat is kept beside whatever could be read from it.
        var damaged = Outlook(tnef[..^3]);
        Assert.That(damaged.Attachments.Select(a => a.FileName), Does.Contain("winmail.dat"));

        var rich = MimeParser.Parse(File.ReadAllBytes(Path.Combine(Folder, "rich-text.eml")));
        Assert.That(rich.Attachments.Select(a => a.FileName), Is.EqualTo(new[]
        {
            "kitten-playing-with-a-christmas-tree.jpg", "Build a train table.txt", "Christmas Celebration!.txt", "kitten-playing-with-a-christmas-tree.jpg",
        }), "attached Outlook items become their text plus their files");
        Assert.That(rich.Attachments.Select(a => a.ContentType.MimeType), Has.None.EqualTo("application/ms-tnef"));
    }

    private static MimeMessage Outlook(byte[] winmail) => MimeParser.Parse(System.Text.Encoding.ASCII.GetBytes(
        "From: a@example.com\r\nSubject: files\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
        "--b\r\nContent-Type: text/plain\r\n\r\nSee the files.\r\n" +
        "--b\r\nContent-Type: application/ms-tnef; name=\"winmail.dat\"\r\nContent-Disposition: attachment; filename=\"winmail.dat\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
        Convert.ToBase64String(winmail, Base64FormattingOptions.InsertLineBreaks) + "\r\n--b--\r\n"));

    private static List<string> Names(TnefMessage tnef)
    {
        var names = tnef.Attachments.Select(a => a.FileName).ToList();
        if (tnef.RtfBody is not null)
            names.Add("body.rtf");
        if (tnef.HtmlBody is not null)
            names.Add("body.html");
        if (tnef.Body is not null)
            names.Add("body.txt");
        return names;
    }
}
