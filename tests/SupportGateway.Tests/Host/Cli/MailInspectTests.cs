using System.Text.Json;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Cli;

public sealed class MailInspectTests
{
    [TestCase("thunderbird/sample05.eml", "Алфавит", "windows-1251 encoded-word subject")]
    [TestCase("thunderbird/sample04.eml", "Алфавит", "koi8-r encoded-word subject")]
    [TestCase("thunderbird/noCharsetKOI8U.eml", "Моя семья", "KOI8 body with no charset at all")]
    public async Task Mail_inspect_prints_correct_cyrillic(string file, string expected, string what)
    {
        var (exit, output) = await GatewayProcess.RunAsync(Path.GetTempPath(), new Dictionary<string, string>(), "mail", "inspect", Corpus.Path("mime", file));
        Assert.That(exit, Is.Zero, output);
        using var json = JsonDocument.Parse(output);
        var subjectAndText = json.RootElement.GetProperty("subject").GetString() + "\n" + json.RootElement.GetProperty("text").GetString();
        Assert.That(subjectAndText, Does.Contain(expected), what);
        Assert.That(json.RootElement.GetProperty("attachments").GetArrayLength(), Is.Zero);
    }

    [TestCase("koi8-r")]
    [TestCase("utf-8")]
    [TestCase("us-ascii")]
    public async Task Mail_inspect_reads_windows_1251_text_under_a_wrong_label(string label)
    {
        var text = "Здравствуйте! Принтер в бухгалтерии не печатает, ошибка 0x1F.";
        var file = Path.Combine(Path.GetTempPath(), $"sg-mislabelled-{label}-{Guid.NewGuid():N}.eml");
        await File.WriteAllBytesAsync(file, [.. System.Text.Encoding.ASCII.GetBytes(
            $"From: a@example.ru\r\nSubject: test\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset={label}\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"),
            .. SupportGateway.Mail.Mime.Charsets.Find("windows-1251")!.GetBytes(text + "\r\n")]);
        try
        {
            var (exit, output) = await GatewayProcess.RunAsync(Path.GetTempPath(), new Dictionary<string, string>(), "mail", "inspect", file);
            Assert.That(exit, Is.Zero, output);
            using var json = JsonDocument.Parse(output);
            Assert.That(json.RootElement.GetProperty("text").GetString()!.Trim(), Is.EqualTo(text));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Test]
    public async Task Mail_inspect_lists_attachments_and_addresses()
    {
        var (exit, output) = await GatewayProcess.RunAsync(Path.GetTempPath(), new Dictionary<string, string>(), "mail", "inspect",
            Corpus.Path("mime", "imap_tools-ru", "attachment_8bit.eml"));
        Assert.That(exit, Is.Zero, output);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.That(root.GetProperty("from")[0].GetProperty("name").GetString(), Is.EqualTo("Каукин Владимир"));
        Assert.That(root.GetProperty("to")[0].GetProperty("address").GetString(), Is.EqualTo("rasp@wat.aero"));
        Assert.That(root.GetProperty("attachments")[0].GetProperty("contentType").GetString(), Is.EqualTo("message/rfc822"));
        Assert.That(root.GetProperty("htmlPresent").GetBoolean(), Is.True);
    }

    [Test]
    public async Task Mail_inspect_of_a_missing_file_is_one_clear_line()
    {
        var (exit, output) = await GatewayProcess.RunAsync(Path.GetTempPath(), new Dictionary<string, string>(), "mail", "inspect", "/nonexistent/x.eml");
        Assert.That((exit, output.Trim()), Is.EqualTo((2, "error: /nonexistent/x.eml does not exist.")));
    }

    [Test]
    public async Task Mail_reply_text_prints_only_the_new_text_of_a_windows_1251_reply_and_the_signature_on_request()
    {
        var body = "Спасибо, заработало.\r\n\r\nС уважением,\r\nОльга Смирнова\r\nглавный бухгалтер\r\n\r\n-----Исходное сообщение-----\r\nОт: Поддержка\r\nОтправлено: 21 ноября 2026 г. 10:15\r\nТема: [SG-10429]\r\n\r\nПерезагрузите роутер.\r\n";
        var head = "From: ivan@example.ru\r\nSubject: RE: [SG-10429]\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=windows-1251\r\nContent-Transfer-Encoding: 8bit\r\n\r\n";
        System.Text.Encoding.RegisterProvider(System.Text.CodePagesEncodingProvider.Instance);
        var file = Path.Combine(Path.GetTempPath(), $"reply-{Guid.NewGuid():N}.eml");
        await File.WriteAllBytesAsync(file, [.. System.Text.Encoding.ASCII.GetBytes(head), .. System.Text.Encoding.GetEncoding(1251).GetBytes(body)]);
        try
        {
            var (exit, output) = await GatewayProcess.RunAsync(Path.GetTempPath(), new Dictionary<string, string>(), "mail", "reply-text", file);
            Assert.That((exit, output.Trim()), Is.EqualTo((0, "Спасибо, заработало.")), "no quote, no signature");
            (exit, output) = await GatewayProcess.RunAsync(Path.GetTempPath(), new Dictionary<string, string>(), "mail", "reply-text", file, "--signature");
            Assert.That((exit, output.Trim().ReplaceLineEndings("\n")), Is.EqualTo((0, "С уважением,\nОльга Смирнова\nглавный бухгалтер")));
        }
        finally
        {
            File.Delete(file);
        }
    }
}
