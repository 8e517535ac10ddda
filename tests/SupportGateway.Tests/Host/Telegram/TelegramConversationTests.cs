using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Telegram;

/// <summary>A private chat over a ticket's life: resolution buttons, thanks, commands, files, edits and a blocked bot.</summary>
[NonParallelizable]
public sealed class TelegramConversationTests : TelegramScenario
{
    [Test]
    public async Task Resolution_buttons_confirm_or_reopen_and_a_thank_you_after_resolution_confirms_without_a_new_ticket()
    {
        Bot.Push(FakeBotApi.Update("message.json", 1, userId: 7001, text: "Не печатает чек", messageId: 10, language: "ru"));
        var (_, first) = await AckAsync(10);
        var prompt = await ResolveAsync(first);
        Assert.That(prompt["text"]!.GetValue<string>(), Does.Contain(first).And.Contain("решённое"));
        var buttons = prompt["reply_markup"]!["inline_keyboard"]![0]!.AsArray();
        Assert.That(buttons.Select(b => b!["text"]!.GetValue<string>()), Is.EqualTo(new[] { "Решено ✅", "Не решено ❌" }));

        // "Не решено" reopens: the ticket goes back to work, Telegram's spinner stops and the buttons come off.
        Bot.Push(FakeBotApi.Callback(2, userId: 7001, chatId: 7001, promptMessageId: 555, data: buttons[1]!["callback_data"]!.GetValue<string>()));
        await Eventually.HoldsAsync(async () => await StatusAsync(first) == "in_progress");
        await SentAsync(m => m["callback_query_id"]!.GetValue<string>() == "cb2", method: "answerCallbackQuery");
        var edit = await SentAsync(m => m["message_id"]!.GetValue<long>() == 555, method: "editMessageReplyMarkup");
        Assert.That(edit["reply_markup"]!["inline_keyboard"]!.AsArray(), Is.Empty);

        // Resolved again, then "Решено": closed, with the customer's confirmation in the audit trail.
        var again = await ResolveAsync(first, skip: 1);
        Bot.Push(FakeBotApi.Callback(3, userId: 7001, chatId: 7001, promptMessageId: 556,
            data: again["reply_markup"]!["inline_keyboard"]![0]![0]!["callback_data"]!.GetValue<string>()));
        await Eventually.HoldsAsync(async () => await StatusAsync(first) == "closed");
        var audit = (await TicketAsync(first)).GetProperty("audit").EnumerateArray().Select(a => a.GetProperty("action").GetString()).ToList();
        Assert.That(audit, Does.Contain("customer_rejected").And.Contain("customer_confirmed"));

        // A second problem, resolved; the customer only says thanks: no new ticket, and it counts as confirmation.
        Bot.Push(FakeBotApi.Update("message.json", 4, userId: 7001, text: "Не открывается отчёт Z", messageId: 20, language: "ru"));
        var (_, second) = await AckAsync(20);
        Assert.That(second, Is.Not.EqualTo(first));
        await ResolveAsync(second);
        Bot.Push(FakeBotApi.Update("message.json", 5, userId: 7001, text: "Спасибо большое! 👍", messageId: 21, language: "ru"));
        await Eventually.HoldsAsync(async () => await StatusAsync(second) == "closed");
        var thanks = await TicketAsync(second);
        Assert.That(thanks.GetProperty("messages").EnumerateArray().Last(m => m.GetProperty("direction").GetString() == "in").GetProperty("text").GetString(),
            Is.EqualTo("Спасибо большое! 👍"));
        Assert.That(await NumbersAsync(), Has.Count.EqualTo(2), "a thank-you opens nothing");

        // A real new problem after that still opens a ticket.
        Bot.Push(FakeBotApi.Update("message.json", 6, userId: 7001, text: "Теперь не работает сканер", messageId: 30, language: "ru"));
        var (_, third) = await AckAsync(30);
        Assert.That(new[] { first, second, third }, Is.Unique);
    }

    [Test]
    public async Task A_reply_to_the_bots_message_or_a_ticket_number_reaches_that_ticket_but_only_for_its_participants()
    {
        Bot.Push(FakeBotApi.Update("message.json", 1, userId: 7006, text: "Не работает касса", messageId: 10));
        var (firstAck, first) = await AckAsync(10);
        Bot.Push(FakeBotApi.Update("command.json", 2, userId: 7006, text: "/new Не работает сканер"));
        var secondAck = await SentAsync(m => m["chat_id"]!.GetValue<long>() == 7006 && m["text"]!.GetValue<string>().Contains("SG-", StringComparison.Ordinal)
            && !m["text"]!.GetValue<string>().Contains(first, StringComparison.Ordinal));
        var second = System.Text.RegularExpressions.Regex.Match(secondAck["text"]!.GetValue<string>(), @"SG-\d+").Value;

        // The chat's active ticket is now the second; a Telegram reply to the first ack, or the first number, goes to the first.
        Bot.Push(FakeBotApi.Update("message.json", 3, userId: 7006, text: "Касса снова зависла", messageId: 12, replyTo: firstAck["_sent_message_id"]!.GetValue<long>()));
        Bot.Push(FakeBotApi.Update("message.json", 4, userId: 7006, text: $"По {first}: чек тоже не печатается", messageId: 13));
        Bot.Push(FakeBotApi.Update("message.json", 5, userId: 7006, text: "Сканер не видит штрихкод", messageId: 14));
        await Eventually.HoldsAsync(async () => (await TicketAsync(first)).GetProperty("messages").EnumerateArray().Count(m => m.GetProperty("direction").GetString() == "in") == 3
            && (await TicketAsync(second)).GetProperty("messages").EnumerateArray().Count(m => m.GetProperty("direction").GetString() == "in") == 2);

        // Someone else naming the number opens a ticket of their own.
        Bot.Push(FakeBotApi.Update("message.json", 6, userId: 7007, text: $"{first} покажите мне эту заявку", messageId: 15));
        var (_, stranger) = await AckAsync(15);
        Assert.That(stranger, Is.Not.EqualTo(first));
        Assert.That((await TicketAsync(first)).GetProperty("messages").EnumerateArray().Count(m => m.GetProperty("direction").GetString() == "in"), Is.EqualTo(3));
    }

    [Test]
    public async Task Status_lists_open_requests_and_close_closes_the_current_one()
    {
        Bot.Push(FakeBotApi.Update("message.json", 1, userId: 7002, text: "Нет доступа к 1С", messageId: 10, language: "ru"));
        var (_, number) = await AckAsync(10);
        Bot.Push(FakeBotApi.Update("command.json", 2, userId: 7002, text: "/status", language: "ru"));
        var status = await SentAsync(m => m["text"]!.GetValue<string>().StartsWith("Ваши открытые обращения", StringComparison.Ordinal));
        Assert.That(status["text"]!.GetValue<string>(), Does.Contain($"{number} — Нет доступа к 1С — зарегистрировано"));

        Bot.Push(FakeBotApi.Update("command.json", 3, userId: 7002, text: "/close", language: "ru"));
        await SentAsync(m => m["text"]!.GetValue<string>() == $"Обращение {number} закрыто. Если проблема вернётся, просто напишите.");
        Assert.That(await StatusAsync(number), Is.EqualTo("closed"));
        Bot.Push(FakeBotApi.Update("command.json", 4, userId: 7002, text: "/status", language: "en"));
        await SentAsync(m => m["text"]!.GetValue<string>().StartsWith("You have no open requests", StringComparison.Ordinal));
    }

    [Test]
    public async Task Files_are_fetched_with_getFile_a_too_big_one_is_explained_and_stickers_and_locations_are_text()
    {
        var photo = FakeBotApi.Update("photo.json", 1, userId: 7003, messageId: 40);
        // The corpus photo comes in three sizes; the largest (720×960) is the one kept.
        var largest = SampleFiles.Jpeg(84913, random: true);
        Bot.Files["SAAS"] = largest;
        Bot.Push(photo);
        var (_, number) = await AckAsync(40);
        var ticket = await TicketAsync(number);
        var first = ticket.GetProperty("messages")[0];
        Assert.That(first.GetProperty("text").GetString(), Is.EqualTo("asdasdasdasdasdasd"), "the caption is the text");
        var attachment = first.GetProperty("attachments").EnumerateArray().Single();
        Assert.That((attachment.GetProperty("fileName").GetString(), attachment.GetProperty("size").GetInt64()), Is.EqualTo(("photo-40.jpg", 84913L)));
        Assert.That(Bot.Sent("getFile").Single()["file_id"]!.GetValue<string>(), Is.EqualTo("SAAS"));

        var big = FakeBotApi.Update("document.json", 2, userId: 7003, messageId: 41);
        big["message"]!["document"]!["file_size"] = 35L * 1024 * 1024;
        big["message"]!["caption"] = "Лог за неделю";
        Bot.Files["a1b2c34d5e6f7g8h9i"] = [1, 2, 3];
        Bot.Push(big);
        Bot.Push(FakeBotApi.Update("sticker.json", 3, userId: 7003, messageId: 42));
        Bot.Push(FakeBotApi.Update("location.json", 4, userId: 7003, messageId: 43));
        var told = await SentAsync(m => m["text"]!.GetValue<string>().Contains("20 MB", StringComparison.Ordinal)
            || m["text"]!.GetValue<string>().Contains("20 МБ", StringComparison.Ordinal));
        Assert.That(told["text"]!.GetValue<string>(), Does.Contain("document.pdf"));
        await Eventually.HoldsAsync(async () => (await TicketAsync(number)).GetProperty("messages").EnumerateArray().Count(m => m.GetProperty("direction").GetString() == "in") == 4);
        var texts = (await TicketAsync(number)).GetProperty("messages").EnumerateArray()
            .Where(m => m.GetProperty("direction").GetString() == "in").Select(m => m.GetProperty("text").GetString()!).ToList();
        Assert.That(texts[1], Does.StartWith("Лог за неделю").And.Contain("document.pdf, 35 MB"));
        Assert.That(texts[2], Does.StartWith("[sticker"));
        Assert.That(texts[3], Does.StartWith("[location "));
        Assert.That(Bot.Sent("getFile").Count(), Is.EqualTo(1), "the big file was not asked for");

        // Voice and video come in as files too, named by what they are.
        Bot.Files["dfghjjghdjhgd"] = new byte[6448];
        Bot.Files["sdfsdfsdfsfsdfdsfdsfs"] = new byte[4096];
        Bot.Push(FakeBotApi.Update("voice.json", 5, userId: 7003, messageId: 44));
        Bot.Push(FakeBotApi.Update("video.json", 6, userId: 7003, messageId: 45));
        await Eventually.HoldsAsync(async () => (await TicketAsync(number)).GetProperty("messages").EnumerateArray().Count(m => m.GetProperty("direction").GetString() == "in") == 6);
        var files = (await TicketAsync(number)).GetProperty("messages").EnumerateArray().SelectMany(m => m.GetProperty("attachments").EnumerateArray())
            .Select(a => (a.GetProperty("fileName").GetString(), a.GetProperty("contentType").GetString(), a.GetProperty("size").GetInt64())).ToList();
        Assert.That(files, Is.EquivalentTo(new[]
        {
            ("photo-40.jpg", "image/jpeg", 84913L), ("voice-44.ogg", "audio/ogg", 6448L), ("sdfsdfsdf.mp4", "video/mp4", 4096L),
        }));
    }

    [Test]
    public async Task An_edit_is_recorded_on_the_edited_messages_ticket_as_an_edit()
    {
        Bot.Push(FakeBotApi.Update("message.json", 1, userId: 7004, text: "Ошибка 503 на сайте", messageId: 50));
        var (_, first) = await AckAsync(50);
        Bot.Push(FakeBotApi.Update("command.json", 2, userId: 7004, text: "/new"));
        Bot.Push(FakeBotApi.Update("message.json", 3, userId: 7004, text: "Не приходит письмо", messageId: 52));
        await AckAsync(52);
        // The first message is edited after a second ticket became the chat's active one: the edit still goes to the first.
        var edit = FakeBotApi.Update("edited_message.json", 4, userId: 7004, text: "Ошибка 502 на сайте", messageId: 50);
        edit["edited_message"]!.AsObject().Remove("reply_to_message");
        Bot.Push(edit);
        await Eventually.HoldsAsync(async () => (await TicketAsync(first)).GetProperty("messages").GetArrayLength() == 3);
        var recorded = (await TicketAsync(first)).GetProperty("messages")[2];
        Assert.That(recorded.GetProperty("text").GetString(), Is.EqualTo("[edited] Ошибка 502 на сайте"));
        Assert.That(recorded.GetProperty("technicalDetails").GetProperty("telegram.kind").GetString(), Is.EqualTo("edit"));
    }

    [Test]
    public async Task A_user_who_blocked_the_bot_is_marked_unreachable_and_the_agents_are_told_on_the_ticket()
    {
        Bot.Push(FakeBotApi.Update("message.json", 1, userId: 7005, text: "Верните деньги за заказ 4411", messageId: 60));
        var (_, number) = await AckAsync(60);
        Bot.Blocked[7005] = true;
        var reply = await Agent.PostAsJsonAsync($"/api/v1/tickets/{number}/replies", new { text = "Возврат оформлен." });
        Assert.That(reply.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        await Eventually.HoldsAsync(async () => (await TicketAsync(number)).GetProperty("audit").EnumerateArray().Any(a => a.GetProperty("action").GetString() == "contact_unreachable"));
        var note = (await TicketAsync(number)).GetProperty("messages").EnumerateArray().Last();
        Assert.That(note.GetProperty("internal").GetBoolean(), Is.True);
        Assert.That(note.GetProperty("text").GetString(), Does.Contain("blocked by the user").And.Contain("unreachable"));
        Assert.That(await DbProbe.ScalarAsync<string>(Gateway.Directory,
            "SELECT unreachable_reason FROM contact_identities WHERE channel = 'telegram' AND identity = '7005'"), Does.Contain("blocked"));
        Assert.That(Bot.Sent("sendMessage").Count(m => m["text"]!.GetValue<string>() == "Возврат оформлен."), Is.EqualTo(1), "no retry after a 403");

        // A second answer while still blocked fails too, but the agents were told already.
        await Agent.PostAsJsonAsync($"/api/v1/tickets/{number}/replies", new { text = "Деньги поступят за 3 дня." });
        await SentAsync(m => m["text"]!.GetValue<string>() == "Деньги поступят за 3 дня.");
        await Task.Delay(500);
        Assert.That((await TicketAsync(number)).GetProperty("audit").EnumerateArray().Count(a => a.GetProperty("action").GetString() == "contact_unreachable"), Is.EqualTo(1));

        // They unblock and write again: reachable again.
        Bot.Blocked.TryRemove(7005, out _);
        Bot.Push(FakeBotApi.Update("message.json", 2, userId: 7005, text: "Разблокировал", messageId: 61));
        await Eventually.HoldsAsync(async () => await DbProbe.ScalarAsync<string?>(Gateway.Directory,
            "SELECT unreachable_reason FROM contact_identities WHERE channel = 'telegram' AND identity = '7005'") is null);
    }

    /// <summary>An agent resolves the ticket; returns the notice the customer got (the <paramref name="skip"/>+1-th for it).</summary>
    private async Task<JsonObject> ResolveAsync(string number, int skip = 0)
    {
        var patch = await Agent.PatchAsJsonAsync($"/api/v1/tickets/{number}", new { status = "resolved", resolution = "solved" });
        Assert.That(patch.StatusCode, Is.EqualTo(HttpStatusCode.OK), await patch.Content.ReadAsStringAsync());
        JsonObject? found = null;
        await Eventually.HoldsAsync(() => Task.FromResult((found = Bot.Sent("sendMessage").Where(m => m["reply_markup"] is not null
            && m["text"]!.GetValue<string>().Contains(number, StringComparison.Ordinal)).Skip(skip).FirstOrDefault()) is not null));
        return found!;
    }
}
