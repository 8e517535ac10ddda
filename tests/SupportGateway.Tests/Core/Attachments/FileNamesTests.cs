using System.Text;
using SupportGateway.Core.Attachments;

namespace SupportGateway.Tests.Core.Attachments;

public sealed class FileNamesTests
{
    [TestCase("..\\..\\Windows\\win.ini", "win.ini")]
    [TestCase("../../etc/passwd", "passwd")]
    [TestCase("C:\\Users\\ivan\\Desktop\\отчёт.pdf", "отчёт.pdf")]
    [TestCase("/", "file")]
    [TestCase("..", "file")]
    [TestCase("   ", "file")]
    [TestCase(null, "file")]
    public void A_name_is_never_a_path(string? name, string expected) => Assert.That(FileNames.Clean(name), Is.EqualTo(expected));

    [Test]
    public void Right_to_left_overrides_and_other_invisible_characters_are_removed()
    {
        // "invoice\u202Efdp.exe" is shown as "invoiceexe.pdf" by a bidi-aware viewer; without the override it reads as it is.
        Assert.That(FileNames.Clean("invoice\u202Efdp.exe"), Is.EqualTo("invoicefdp.exe"));
        Assert.That(FileNames.Clean("a\u2066b\u2069c\u200Fd\u200Be\uFEFF.txt"), Is.EqualTo("abcde.txt"));
        Assert.That(FileNames.Clean("line\r\nbreak\0\u0007\u2028.txt"), Is.EqualTo("linebreak.txt"));
        Assert.That(FileNames.Clean("tab\there.txt"), Is.EqualTo("tabhere.txt"));
        Assert.That(FileNames.Clean("no\u00A0break.txt"), Is.EqualTo("no break.txt"));
    }

    [TestCase("CON", "_CON")]
    [TestCase("con.txt", "_con.txt")]
    [TestCase("Aux.tar.gz", "_Aux.tar.gz")]
    [TestCase("NUL .txt", "_NUL .txt")]
    [TestCase("COM1.log", "_COM1.log")]
    [TestCase("lpt9", "_lpt9")]
    [TestCase("COM¹.txt", "_COM¹.txt")]
    [TestCase("CONSOLE.txt", "CONSOLE.txt")]
    [TestCase("COM10.txt", "COM10.txt")]
    public void Windows_device_names_are_made_ordinary(string name, string expected) => Assert.That(FileNames.Clean(name), Is.EqualTo(expected));

    [TestCase("report.pdf.", "report.pdf")]
    [TestCase("report.pdf . . ", "report.pdf")]
    [TestCase(" .hidden", "hidden")]
    [TestCase("what?<is>this|\"*:.txt", "what__is_this____.txt")]
    public void Trailing_dots_and_spaces_and_forbidden_characters_go(string name, string expected) => Assert.That(FileNames.Clean(name), Is.EqualTo(expected));

    [Test]
    public void An_over_long_name_is_cut_keeping_its_extension_and_whole_characters()
    {
        var cyrillic = FileNames.Clean(string.Concat(Enumerable.Repeat("Отчёт ", 100)) + ".xlsx");
        var emoji = FileNames.Clean(string.Concat(Enumerable.Repeat("👍🏽", 100)) + ".png");

        Assert.That(cyrillic, Does.EndWith(".xlsx").And.StartWith("Отчёт Отчёт"));
        Assert.That(Encoding.UTF8.GetByteCount(cyrillic), Is.LessThanOrEqualTo(FileNames.MaxBytes));
        Assert.That(emoji, Does.EndWith("👍🏽.png"), "a skin-tone sequence is never split");
        Assert.That(Encoding.UTF8.GetByteCount(emoji), Is.LessThanOrEqualTo(FileNames.MaxBytes));
        Assert.That(FileNames.Clean(new string('a', 500)), Has.Length.EqualTo(FileNames.MaxBytes), "no extension: just cut");
    }

    [Test]
    public void Cleaning_is_idempotent_and_keeps_ordinary_names()
    {
        string[] names = ["Отчёт за март.pdf", "screenshot 2026-11-30 at 10.15.png", "  CON.txt. ", "a\u202Eb/c\\d..", "résumé.docx", "日本語.txt"];
        foreach (var name in names)
            Assert.That(FileNames.Clean(FileNames.Clean(name)), Is.EqualTo(FileNames.Clean(name)), name);
        Assert.That(FileNames.Clean("Отчёт за март.pdf"), Is.EqualTo("Отчёт за март.pdf"));
        Assert.That(FileNames.Clean("re\u0301sume\u0301.docx"), Is.EqualTo("résumé.docx"), "composed (NFC), as typed on a Mac or not");
    }
}
