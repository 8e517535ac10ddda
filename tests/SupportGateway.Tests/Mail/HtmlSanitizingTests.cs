using SupportGateway.Mail.Mime;

namespace SupportGateway.Tests.Mail;

/// <summary>A customer's HTML keeps its markup and loses everything that runs.</summary>
public sealed class HtmlSanitizingTests
{
    [TestCase("<p>Отчёт</p><script>alert(1)</script>", "<script")]
    [TestCase("<img src=\"x\" onerror=\"alert(1)\">", "onerror")]
    [TestCase("<a href=\"javascript:alert(1)\">ссылка</a>", "javascript:")]
    [TestCase("<a href=\"JaVaScRiPt&#58;alert(1)\">ссылка</a>", "alert(1)")]
    [TestCase("<div style=\"width: expression(alert(1))\">x</div>", "expression")]
    [TestCase("<iframe src=\"https://evil.example\"></iframe><form action=\"x\"><input></form>", "<iframe")]
    [TestCase("<svg><script>alert(1)</script></svg>", "<script")]
    public void What_runs_is_removed(string html, string absent) =>
        Assert.That(HtmlSanitizing.Sanitize(html), Does.Not.Contain(absent).IgnoreCase);

    [Test]
    public void Markup_inline_images_and_mail_links_stay()
    {
        var clean = HtmlSanitizing.Sanitize("<p><b>Ошибка</b> в <a href=\"mailto:ivan@example.ru\">отчёте</a></p><img src=\"cid:screen@1\"><table><tr><td>1</td></tr></table>");
        Assert.That(clean, Does.Contain("<b>Ошибка</b>").And.Contain("mailto:ivan@example.ru").And.Contain("cid:screen@1").And.Contain("<td>1</td>"));
    }

    [Test]
    public void Nothing_or_too_much_is_not_kept()
    {
        Assert.That(HtmlSanitizing.Sanitize(null), Is.Null);
        Assert.That(HtmlSanitizing.Sanitize("   "), Is.Null);
        Assert.That(HtmlSanitizing.Sanitize(new string('a', HtmlSanitizing.MaxChars + 1)), Is.Null);
    }
}
