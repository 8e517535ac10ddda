using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.RegularExpressions;
using SupportGateway.Host.Channels.WhatsApp;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.WhatsApp;

/// <summary>A customer's WhatsApp conversation through Twilio: tickets, follow-ups, agents' answers, files and send errors.</summary>
[NonParallelizable]
public sealed class TwilioConversationTests : TwilioScenario
{
    private const string Customer = "+447700900123";

    [Test]
    public async Task A_message_opens_a_ticket_the_ack_names_it_a_follow_up_continues_it_and_an_agent_reply_reaches_the_customer()
    {
        await SendAsync("SM000000000000000000000000000000b1", Customer, "Не работает касса");
        var ack = await SentAsync(Customer);
        var number = Regex.Match(ack["Body"], @"SG-\d+").Value;
        Assert.That(number, Is.Not.Empty, ack["Body"]);
        Assert.That((ack["From"], ack["StatusCallback"]), Is.EqualTo((Sender, StatusUrl)));
        Assert.That(await ProcessedAsync("SM000000000000000000000000000000b1"), Is.EqualTo(number));

        var ticket = await TicketAsync(number);
        Assert.That(ticket.GetProperty("ticket").GetProperty("channel").GetString(), Is.EqualTo("whatsapp"));
        Assert.That(await DbProbe.ScalarAsync<string>(Gateway.Directory, "SELECT account FROM tickets"), Is.EqualTo("twilio"), "answers go back through Twilio");

        await SendAsync("SM000000000000000000000000000000b2", Customer, "Ошибка ФН-12");
        Assert.That(await ProcessedAsync("SM000000000000000000000000000000b2"), Is.EqualTo(number));

        var reply = await Agent.PostAsJsonAsync($"/api/v1/tickets/{number}/replies", new { text = "Перезагрузите кассу, пожалуйста." });
        Assert.That(reply.StatusCode, Is.EqualTo(HttpStatusCode.Created), await reply.Content.ReadAsStringAsync());
        var answer = await SentAsync(Customer, m => m["Body"] == "Перезагрузите кассу, пожалуйста.");
        Assert.That(answer["From"], Is.EqualTo(Sender));

        // The customer answers that very message (WhatsApp's reply): it finds the ticket by the sid we got back.
        await SendAsync("SM000000000000000000000000000000b3", Customer, "Не помогло", f => f["OriginalRepliedMessageSid"] = answer["_sid"]);
        Assert.That(await ProcessedAsync("SM000000000000000000000000000000b3"), Is.EqualTo(number));
    }

    [Test]
    public async Task New_request_words_open_a_second_ticket_and_a_stranger_naming_a_ticket_gets_their_own()
    {
        await SendAsync("SM000000000000000000000000000000c1", Customer, "Не печатает чек");
        var first = await ProcessedAsync("SM000000000000000000000000000000c1");
        await SendAsync("SM000000000000000000000000000000c2", Customer, "Новая заявка: не открывается личный кабинет");
        var second = await ProcessedAsync("SM000000000000000000000000000000c2");
        Assert.That(second, Is.Not.EqualTo(first).And.Not.Empty);
        var text = (await TicketAsync(second)).GetProperty("messages")[0].GetProperty("text").GetString();
        Assert.That(text, Is.EqualTo("не открывается личный кабинет"));

        // "/new" alone opens nothing and asks for the problem, in the language of the ticket it leaves; the next message opens one.
        await SendAsync("SM000000000000000000000000000000c3", Customer, "/new");
        Assert.That(await ProcessedAsync("SM000000000000000000000000000000c3"), Is.Empty);
        await SentAsync(Customer, m => m["Body"] == "Опишите новую проблему одним сообщением.");
        await SendAsync("SM000000000000000000000000000000c4", Customer, "Сканер не видит штрихкод");
        var third = await ProcessedAsync("SM000000000000000000000000000000c4");
        Assert.That(third, Is.Not.EqualTo(second).And.Not.Empty);

        // Someone else writing the number does not get into the ticket.
        await SendAsync("SM000000000000000000000000000000c5", "+447700900999", $"Что с {first}?");
        var strangers = await ProcessedAsync("SM000000000000000000000000000000c5");
        Assert.That(strangers, Is.Not.EqualTo(first).And.Not.Empty);
        // The customer writing it does.
        await SendAsync("SM000000000000000000000000000000c6", Customer, $"По {first}: чек так и не печатается");
        Assert.That(await ProcessedAsync("SM000000000000000000000000000000c6"), Is.EqualTo(first));
    }

    [Test]
    public async Task A_media_download_that_keeps_failing_is_named_in_the_text_then_fetched_again_and_attached_to_the_message()
    {
        // d1 fails the prefetch only; d2 fails the prefetch, the filter and two retries; d3 is gone (Twilio answers 404).
        Twilio.Media["ME000000000000000000000000000000d1"] = ("photo"u8.ToArray(), "image/jpeg");
        Twilio.MediaFailures["ME000000000000000000000000000000d1"] = 1;
        Twilio.Media["ME000000000000000000000000000000d2"] = ("%PDF-1.4"u8.ToArray(), "application/pdf");
        Twilio.MediaFailures["ME000000000000000000000000000000d2"] = 4;
        await SendAsync("MM000000000000000000000000000000d1", Customer, "Экран с ошибкой", f =>
        {
            f["NumMedia"] = "3";
            f["MediaUrl0"] = FakeTwilioApi.MediaUrl("MM000000000000000000000000000000d1", "ME000000000000000000000000000000d1");
            f["MediaContentType0"] = "image/jpeg";
            f["MediaUrl1"] = FakeTwilioApi.MediaUrl("MM000000000000000000000000000000d1", "ME000000000000000000000000000000d2");
            f["MediaContentType1"] = "application/pdf";
            f["MediaUrl2"] = FakeTwilioApi.MediaUrl("MM000000000000000000000000000000d1", "ME000000000000000000000000000000d3");
            f["MediaContentType2"] = "image/png";
        });
        var number = await ProcessedAsync("MM000000000000000000000000000000d1");
        var first = (await TicketAsync(number)).GetProperty("messages")[0];
        Assert.That(first.GetProperty("text").GetString(),
            Does.StartWith("Экран с ошибкой").And.Contain("ME000000000000000000000000000000d2.pdf").And.Contain("could not be downloaded yet"));

        // The retries run in the background: the PDF joins the stored message, the lost picture is audited.
        List<string?> names = [];
        await Eventually.HoldsAsync(async () => (names = [.. (await TicketAsync(number)).GetProperty("messages")[0].GetProperty("attachments").EnumerateArray()
            .Select(a => a.GetProperty("fileName").GetString())]).Count == 2);
        Assert.That(names, Is.EqualTo(new[] { "ME000000000000000000000000000000d1.jpg", "ME000000000000000000000000000000d2.pdf" }));
        await Eventually.HoldsAsync(async () => (await TicketAsync(number)).GetProperty("audit").EnumerateArray()
            .Any(a => a.GetProperty("action").GetString() == "attachment_lost" && a.GetProperty("newValue").GetString()!.StartsWith("ME000000000000000000000000000000d3.png", StringComparison.Ordinal)));
        var audit = (await TicketAsync(number)).GetProperty("audit").EnumerateArray().Select(a => (a.GetProperty("action").GetString(), a.GetProperty("newValue").GetString())).ToList();
        Assert.That(audit, Does.Contain(("attachment_added", "ME000000000000000000000000000000d2.pdf")));
        Assert.That(Twilio.MediaRequests.Count(r => r == "ME000000000000000000000000000000d2"), Is.EqualTo(5), "fetched until it came, then no more");
        Assert.That(await DbProbe.ScalarAsync<long>(Gateway.Directory, "SELECT COUNT(*) FROM file_retries WHERE state = 'pending'"), Is.Zero);
    }

    [Test]
    public async Task Twilio_errors_sort_into_retry_window_closed_and_unreachable()
    {
        // A 500 is Twilio's trouble: tried again, then sent.
        Twilio.Faults.Enqueue((500, 20500));
        await SendAsync("SM000000000000000000000000000000e1", Customer, "Не работает касса");
        var number = await ProcessedAsync("SM000000000000000000000000000000e1");
        await SentAsync(Customer);

        // Outside the 24-hour window, with no template configured: held, not retried, and the reason names the window.
        Twilio.Faults.Enqueue((400, TwilioSender.WindowClosed));
        await Agent.PostAsJsonAsync($"/api/v1/tickets/{number}/replies", new { text = "Ответ через двое суток" });
        await Eventually.HoldsAsync(async () => await DbProbe.ScalarAsync<long>(Gateway.Directory, "SELECT COUNT(*) FROM outbox WHERE state = 'held'") == 1);
        var error = await DbProbe.ScalarAsync<string>(Gateway.Directory, "SELECT last_error FROM outbox WHERE state = 'held'");
        Assert.That(error, Does.Contain("63016").And.Contain("24-hour window"));

        // A number that is not on WhatsApp: the customer is unreachable there and the agents read it on the ticket.
        Twilio.Faults.Enqueue((400, 63024));
        await Agent.PostAsJsonAsync($"/api/v1/tickets/{number}/replies", new { text = "Ещё один ответ" });
        await Eventually.HoldsAsync(async () => await DbProbe.ScalarAsync<long>(Gateway.Directory,
            "SELECT COUNT(*) FROM contact_identities WHERE channel = 'whatsapp' AND unreachable_at IS NOT NULL") == 1);
        Assert.That(Twilio.Messages.Count(m => m["To"] == "whatsapp:" + Customer), Is.EqualTo(1), "only the acknowledgement went out");
    }

    [Test]
    public async Task A_long_answer_goes_in_parts_under_twilios_limit()
    {
        await SendAsync("SM000000000000000000000000000000f1", Customer, "Нужна инструкция");
        var number = await ProcessedAsync("SM000000000000000000000000000000f1");
        var paragraphs = string.Join("\n\n", Enumerable.Range(1, 12).Select(i => $"Шаг {i}. " + new string('ж', 300)));
        await Agent.PostAsJsonAsync($"/api/v1/tickets/{number}/replies", new { text = paragraphs });
        await Eventually.HoldsAsync(() => Task.FromResult(Twilio.Messages.Count(m => m["Body"].StartsWith("Шаг", StringComparison.Ordinal)) >= 3));
        var parts = Twilio.Messages.Where(m => m["Body"].StartsWith("Шаг", StringComparison.Ordinal)).Select(m => m["Body"]).ToList();
        Assert.That(parts, Has.All.Length.LessThanOrEqualTo(TwilioSender.MaxText));
        Assert.That(string.Join("\n\n", parts), Is.EqualTo(paragraphs));
    }

    [Test]
    public async Task Without_a_resolution_template_the_notice_is_text_asking_for_a_reply_and_thanks_confirm_it()
    {
        await SendAsync("SM000000000000000000000000000000g1", Customer, "Не работает касса");
        var number = await ProcessedAsync("SM000000000000000000000000000000g1");
        var patch = await Agent.PatchAsJsonAsync($"/api/v1/tickets/{number}", new { status = "resolved", resolution = "solved" });
        Assert.That(patch.StatusCode, Is.EqualTo(HttpStatusCode.OK), await patch.Content.ReadAsStringAsync());
        var notice = await SentAsync(Customer, m => m["Body"].Contains("отмечено как решённое", StringComparison.Ordinal));
        Assert.That(notice.ContainsKey("ContentSid"), Is.False);
        Assert.That(notice["Body"], Does.Contain(number).And.Contain("подтвердите"));

        await SendAsync("SM000000000000000000000000000000g2", Customer, "Спасибо, всё работает!");
        await Eventually.HoldsAsync(async () => (await TicketAsync(number)).GetProperty("ticket").GetProperty("status").GetString() == "closed");
    }

    [Test]
    public void Parts_cut_at_a_paragraph_then_a_line_then_a_space_and_never_inside_a_character()
    {
        Assert.That(SupportGateway.Host.Channels.TextParts.Split("aaa\n\nbbb ccc", 8), Is.EqualTo(new[] { "aaa", "bbb ccc" }));
        Assert.That(SupportGateway.Host.Channels.TextParts.Split("aaa\nbbb ccc", 8), Is.EqualTo(new[] { "aaa", "bbb ccc" }));
        Assert.That(SupportGateway.Host.Channels.TextParts.Split("aaaa bbbb cccc", 10), Is.EqualTo(new[] { "aaaa bbbb", "cccc" }));
        var emoji = new StringBuilder().Insert(0, "😀", 5).ToString();
        Assert.That(SupportGateway.Host.Channels.TextParts.Split(emoji, 5).SelectMany(p => p).Count(char.IsHighSurrogate), Is.EqualTo(5));
        Assert.That(SupportGateway.Host.Channels.TextParts.Split("   ", 10), Is.Empty);
    }

    [Test]
    public void New_request_words_are_found_at_the_start_only()
    {
        Assert.That(WhatsAppFilter.StartsNew("/new"), Is.EqualTo(""));
        Assert.That(WhatsAppFilter.StartsNew("Новая заявка: касса"), Is.EqualTo("касса"));
        Assert.That(WhatsAppFilter.StartsNew("new request - printer"), Is.EqualTo("printer"));
        Assert.That(WhatsAppFilter.StartsNew("/newest"), Is.Null);
        Assert.That(WhatsAppFilter.StartsNew("У меня новая заявка"), Is.Null);
    }
}
