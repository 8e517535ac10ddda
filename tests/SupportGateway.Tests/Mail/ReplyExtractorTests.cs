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
        Assert.That(result.Reply, Is.EqualTo("Принтер снова не печатает."), client);
        Assert.That(result.Signature, Is.EqualTo("С уважением,\nИван"), client);
        Assert.That(result.Quote, Does.Contain("Здравствуйте!"), client);
    }

    [TestCase("Счёт не пришёл.\n\nС уважением,\nОльга Смирнова\nглавный бухгалтер\nООО «Ромашка»\n+7 495 123-45-67", "С уважением,")]
    [TestCase("Счёт не пришёл.\n\nС наилучшими пожеланиями,\nОльга", "С наилучшими пожеланиями,")]
    [TestCase("The export fails again.\n\nBest regards,\nJohn Smith\nIT Manager, Acme Ltd", "Best regards,")]
    [TestCase("The export fails again.\n\nKind regards\nJohn", "Kind regards")]
    [TestCase("The export fails again.\n\nThanks,\nJohn", "Thanks,")]
    [TestCase("Счёт не пришёл.\n\nОтправлено с iPhone", "Отправлено с iPhone")]
    [TestCase("Счёт не пришёл.\n\nОтправлено из мобильной Яндекс Почты", "Отправлено из мобильной Яндекс Почты")]
    [TestCase("Счёт не пришёл.\n\nОтправлено из Почты для Windows", "Отправлено из Почты для Windows")]
    [TestCase("Счёт не пришёл.\n\nПолучить Outlook для Android", "Получить Outlook для Android")]
    [TestCase("The export fails again.\n\nGet Outlook for iOS", "Get Outlook for iOS")]
    public void Sign_offs_and_client_footers_are_the_signature_not_the_reply(string text, string signatureStart)
    {
        var result = ReplyExtractor.FromText(text);
        Assert.That(result.Reply, Is.EqualTo(text[..text.IndexOf("\n\n", StringComparison.Ordinal)]));
        Assert.That(result.Signature, Does.StartWith(signatureStart));
        Assert.That(result.Unquoted, Is.EqualTo(text), "nothing of the author's is lost");
    }

    [Test]
    public void A_sign_off_above_a_delimited_signature_is_kept_apart_from_it()
    {
        var result = ReplyExtractor.FromText("Не открывается отчёт.\n\nСпасибо,\nИван\n-- \nООО «Ромашка», отдел продаж");
        Assert.That(result.Reply, Is.EqualTo("Не открывается отчёт."));
        Assert.That(result.SignOff, Is.EqualTo("Спасибо,\nИван"));
        Assert.That(result.Signature, Is.EqualTo("Спасибо,\nИван\n-- \nООО «Ромашка», отдел продаж"));
        Assert.That(result.ReplyWithSignOff, Is.EqualTo("Не открывается отчёт.\n\nСпасибо,\nИван"));
    }

    [Test]
    public void An_interleaved_answer_keeps_the_authors_blocks_in_order_without_the_quoted_questions()
    {
        // Thunderbird (RU) answering between the lines of the agent's questions.
        var result = ReplyExtractor.FromText(
            "21.11.2026 10:15, Поддержка пишет:\n> Какая модель принтера?\n\nHP LaserJet 1020.\n\n> Горит ли индикатор ошибки?\n> Каким цветом?\n\n" +
            "Да, мигает оранжевым.\n\n-- \nИван");
        Assert.That(result.Reply, Is.EqualTo("HP LaserJet 1020.\n\nДа, мигает оранжевым."));
        Assert.That(result.Quote, Does.Contain("Какая модель").And.Contain("Каким цветом?"));
        Assert.That(result.Signature, Is.EqualTo("-- \nИван"));
    }

    [TestCase("Спасибо, всё работает")]
    [TestCase("Please check the report.\n\nThanks,\nthe numbers in the March export are still wrong after the update, and the totals row is empty as well, so nobody here can close the month")]
    [TestCase("Проверьте, пожалуйста.\n\nСпасибо!")]
    public void Thanks_that_are_the_message_stay_in_the_reply(string text) =>
        Assert.That(ReplyExtractor.FromText(text).Reply, Is.EqualTo(text));

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
