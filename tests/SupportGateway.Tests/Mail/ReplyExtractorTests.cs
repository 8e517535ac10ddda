using SupportGateway.Mail.Replies;

namespace SupportGateway.Tests.Mail;

/// <summary>The Russian clients our users run, written the way each one quotes (our own texts).</summary>
public sealed class ReplyExtractorTests
{
    [TestCase("Outlook (RU)", "Принтер снова не печатает.\n\nС уважением,\nИван\n\nОт: Поддержка <support@example.ru>\nОтправлено: 21 ноября 2026 г. 10:15\nКому: Иван Петров <ivan@example.ru>\nТема: RE: [SG-10429] Принтер\n\nЗдравствуйте! Проверьте кабель.")]
    [TestCase("Outlook with a rule (RU)", "Принтер снова не печатает.\n\nС уважением,\nИван\n\n________________________________\nОт: Поддержка <support@example.ru>\nОтправлено: 21 ноября 2026 г. 10:15\nКому: Иван Петров\nТема: RE: [SG-10429] Принтер\n\nЗдравствуйте!")]
    [TestCase("Yandex", "Принтер снова не печатает.\n\nС уважением,\nИван\n\n21.11.2026, 10:15, \"Поддержка\" <support@example.ru>:\n> Здравствуйте! Проверьте кабель.\n>\n> SG-10429")]
    [TestCase("Mail.ru", "Принтер снова не печатает.\n\nС уважением,\nИван\n\nСуббота, 21 ноября 2026, 10:15 +03:00 от Поддержка <support@example.ru>:\n> Здравствуйте! Проверьте кабель.")]
    [TestCase("Gmail (RU)", "Принтер снова не печатает.\n\nС уважением,\nИван\n\nсб, 21 нояб. 2026 г. в 10:15, Поддержка <support@example.ru>:\n\n> Здравствуйте! Проверьте кабель.")]
    [TestCase("Thunderbird (RU)", "Принтер снова не печатает.\n\nС уважением,\nИван\n\n21.11.2026 10:15, Поддержка пишет:\n> Здравствуйте! Проверьте кабель.")]
    [TestCase("The Bat!", "Принтер снова не печатает.\n\nС уважением,\nИван\n\nВы писали 21 ноября 2026 г., 10:15:04:\n\n> Здравствуйте! Проверьте кабель.")]
    [TestCase("Outlook original message", "Принтер снова не печатает.\n\nС уважением,\nИван\n\n-----Исходное сообщение-----\nОт: Поддержка\nТема: [SG-10429]\n\nЗдравствуйте!")]
    public void Reply_above_a_russian_client_quote_is_extracted(string client, string text)
    {
        var result = ReplyExtractor.FromText(text);
        Assert.That(result.Reply, Is.EqualTo("Принтер снова не печатает.\n\nС уважением,\nИван"), client);
        Assert.That(result.Quote, Does.Contain("Здравствуйте!"), client);
    }

    [Test]
    public void Mobile_signature_is_split_from_the_reply()
    {
        var result = ReplyExtractor.FromText("Да, всё заработало.\n\nОтправлено из мобильной Почты Mail.ru\n");
        Assert.That((result.Reply, result.Signature), Is.EqualTo(("Да, всё заработало.", "Отправлено из мобильной Почты Mail.ru")));
    }

    [Test]
    public void Inline_answers_between_quotes_are_kept()
    {
        const string text = "> Какая версия?\n\n2.4.1\n\n> Какая ОС?\n\nWindows 11";
        Assert.That(ReplyExtractor.FromText(text).Reply, Is.EqualTo(text));
    }

    [Test]
    public void A_message_of_quotes_only_is_kept_whole()
    {
        var result = ReplyExtractor.FromText("> Только цитата.\n");
        Assert.That((result.Reply, result.Quote), Is.EqualTo(("> Только цитата.", "")));
    }

    [Test]
    public void Html_blockquote_is_the_quote()
    {
        var result = ReplyExtractor.FromHtml("<div>Спасибо, помогло.</div><div>21.11.2026, 10:15, Поддержка &lt;support@example.ru&gt;:</div><blockquote><div>Перезагрузите роутер.</div></blockquote>");
        Assert.That(result.Reply, Is.EqualTo("Спасибо, помогло."));
        Assert.That(result.Quote, Does.Contain("Перезагрузите роутер."));
    }

    [Test]
    public void Html_without_quotes_comes_back_as_plain_text()
    {
        var result = ReplyExtractor.FromHtml("<p>Первая строка</p><blockquote>не цитата, а выделение</blockquote><p>Итог</p>");
        Assert.That(result.Reply, Does.Contain("Первая строка").And.Contain("Итог"));
    }
}
