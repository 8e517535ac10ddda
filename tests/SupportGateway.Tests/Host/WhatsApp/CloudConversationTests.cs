using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.WhatsApp;

/// <summary>A customer's WhatsApp conversation through the Cloud API: ticket, acknowledgement, answers, buttons, files, statuses.</summary>
[NonParallelizable]
public sealed class CloudConversationTests : CloudScenario
{
    [Test]
    public async Task A_message_opens_a_ticket_a_follow_up_continues_it_and_an_agents_reply_answers_the_last_message()
    {
        Assert.That((await PostAsync(Delivery("message__text.json", "wamid.LOOP1", text: "Не работает касса"))).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var (ack, number) = await AckAsync("wamid.LOOP1");
        Assert.That((ack["to"]!.GetValue<string>(), ack["messaging_product"]!.GetValue<string>(), ack["type"]!.GetValue<string>()),
            Is.EqualTo((Customer, "whatsapp", "text")));
        var ticket = await TicketAsync(number);
        Assert.That(ticket.GetProperty("ticket").GetProperty("channel").GetString(), Is.EqualTo("whatsapp"));
        Assert.That(await DbProbe.ScalarAsync<string>(Gateway.Directory, "SELECT account FROM tickets"), Is.EqualTo("cloud"));
        Assert.That(ticket.GetProperty("messages")[0].GetProperty("text").GetString(), Is.EqualTo("Не работает касса"));

        await PostAsync(Delivery("message__text.json", "wamid.LOOP2", text: "Ошибка ФН-12"));
        await Eventually.HoldsAsync(async () => (await InboundOfAsync(number)).Count == 2);

        var reply = await Agent.PostAsJsonAsync($"/api/v1/tickets/{number}/replies", new { text = "Перезагрузите кассу, пожалуйста." });
        Assert.That(reply.StatusCode, Is.EqualTo(HttpStatusCode.Created), await reply.Content.ReadAsStringAsync());
        var answer = await SentAsync(m => Body(m) == "Перезагрузите кассу, пожалуйста.");
        Assert.That((answer["to"]!.GetValue<string>(), answer["context"]!["message_id"]!.GetValue<string>()), Is.EqualTo((Customer, "wamid.LOOP2")),
            "a reply to the customer's last message");

        // Meta reports what became of it; the ticket records it, and the customer's reply to the answer continues the ticket.
        var sentId = answer["_id"]!.GetValue<string>();
        await Eventually.HoldsAsync(async () => await DbProbe.ScalarAsync<long>(Gateway.Directory, "SELECT COUNT(*) FROM outbox WHERE external_id = @id", new { id = "wa:" + sentId }) == 1);
        await PostAsync(Status(sentId, "delivered"));
        await PostAsync(Status(sentId, "read"));
        await Eventually.HoldsAsync(async () => (await TicketAsync(number)).GetProperty("audit").EnumerateArray().Count(a => a.GetProperty("action").GetString() == "delivery_status") == 2);
        await PostAsync(Delivery("message__reply.json", "wamid.LOOP3", text: "Перезагрузил, не помогло", replyTo: sentId));
        await Eventually.HoldsAsync(async () => (await InboundOfAsync(number)).Count == 3);
        Assert.That(await DbProbe.ScalarAsync<long>(Gateway.Directory, "SELECT COUNT(*) FROM tickets"), Is.EqualTo(1));
        Assert.That(Graph.Unauthorized, Is.Zero);
    }

    [Test]
    public async Task The_resolution_notice_has_two_buttons_and_the_solved_button_closes_the_ticket_as_confirmed()
    {
        await PostAsync(Delivery("message__text.json", "wamid.RES1", text: "Не открывается отчёт"));
        var (_, number) = await AckAsync("wamid.RES1");
        var patch = await Agent.PatchAsJsonAsync($"/api/v1/tickets/{number}", new { status = "resolved", resolution = "solved" });
        Assert.That(patch.StatusCode, Is.EqualTo(HttpStatusCode.OK), await patch.Content.ReadAsStringAsync());
        var notice = await SentAsync(m => m["type"]?.GetValue<string>() == "interactive" && Body(m).Contains(number, StringComparison.Ordinal));
        var buttons = notice["interactive"]!["action"]!["buttons"]!.AsArray();
        Assert.That(buttons.Select(b => b!["reply"]!["title"]!.GetValue<string>()), Is.EqualTo(new[] { "Решено ✅", "Не решено ❌" }));
        Assert.That(notice["interactive"]!["type"]!.GetValue<string>(), Is.EqualTo("button"));

        // The customer taps "Решено": Meta sends an interactive button_reply with the button's id, in reply to the notice.
        var tap = Delivery("callback_button__button.json", "wamid.RES2", replyTo: notice["_id"]!.GetValue<string>());
        var choice = tap["entry"]![0]!["changes"]![0]!["value"]!["messages"]![0]!["interactive"]!["button_reply"]!;
        choice["id"] = buttons[0]!["reply"]!["id"]!.GetValue<string>();
        choice["title"] = "Решено ✅";
        await PostAsync(tap);
        await Eventually.HoldsAsync(async () => await StatusOfAsync(number) == "closed");
        var audit = (await TicketAsync(number)).GetProperty("audit").EnumerateArray().Select(a => a.GetProperty("action").GetString()).ToList();
        Assert.That(audit, Does.Contain("customer_confirmed"));
        Assert.That(await DbProbe.ScalarAsync<long>(Gateway.Directory, "SELECT COUNT(*) FROM tickets"), Is.EqualTo(1));
    }

    [Test]
    public async Task A_file_download_that_fails_first_succeeds_on_retry_and_a_lost_one_is_named_in_the_message()
    {
        var photo = new byte[40_000];
        Random.Shared.NextBytes(photo);
        Graph.Files["65463453"] = ("image/jpeg", photo);
        Graph.DownloadFailuresLeft = 1;
        await PostAsync(Delivery("message__image.json", "wamid.IMG1"));
        var (_, number) = await AckAsync("wamid.IMG1");
        var first = (await InboundOfAsync(number))[0];
        Assert.That(first.GetProperty("text").GetString(), Is.EqualTo("[image]"));
        var attachment = first.GetProperty("attachments").EnumerateArray().Single();
        Assert.That((attachment.GetProperty("fileName").GetString(), attachment.GetProperty("size").GetInt64()), Is.EqualTo(("image-65463453.jpg", 40_000L)));

        // A media id Meta no longer knows: the message still counts, and says which file is missing.
        await PostAsync(Delivery("message__document.json", "wamid.DOC1"));
        await Eventually.HoldsAsync(async () => (await InboundOfAsync(number)).Count == 2);
        var lost = (await InboundOfAsync(number))[1];
        Assert.That(lost.GetProperty("text").GetString(), Is.EqualTo("caption\n[filename.pdf: could not be downloaded from WhatsApp yet; it is fetched again later]"));
        // Tried again once: Meta says the id does not exist, so it is given up at once and the ticket's history says so.
        await Eventually.HoldsAsync(async () => (await TicketAsync(number)).GetProperty("audit").EnumerateArray()
            .Any(a => a.GetProperty("action").GetString() == "attachment_lost" && a.GetProperty("newValue").GetString()!.StartsWith("filename.pdf", StringComparison.Ordinal)));
    }

    [Test]
    public async Task A_file_whose_downloads_fail_while_the_message_is_stored_arrives_later_on_the_same_message()
    {
        var photo = new byte[30_000];
        Random.Shared.NextBytes(photo);
        Graph.Files["65463453"] = ("image/jpeg", photo);
        // All of the prefetch's attempts (the client waits out 5xx up to four times) fail; the first retry succeeds.
        Graph.DownloadFailuresLeft = SupportGateway.Host.Channels.WhatsApp.CloudApiClient.MaxAttempts;
        await PostAsync(Delivery("message__image.json", "wamid.LATE1"));
        var (_, number) = await AckAsync("wamid.LATE1", seconds: 30);
        var stored = (await InboundOfAsync(number)).Single();
        Assert.That(stored.GetProperty("text").GetString(), Does.Contain("image-65463453.jpg: could not be downloaded from WhatsApp yet"));
        Assert.That(stored.GetProperty("attachments").GetArrayLength(), Is.Zero);

        JsonElement attachment = default;
        await Eventually.HoldsAsync(async () => (await InboundOfAsync(number)).Single().GetProperty("attachments") is { } list
            && list.GetArrayLength() == 1 && (attachment = list[0]).ValueKind == JsonValueKind.Object);
        Assert.That((attachment.GetProperty("fileName").GetString(), attachment.GetProperty("size").GetInt64()), Is.EqualTo(("image-65463453.jpg", 30_000L)));
        var content = await DbProbe.ScalarAsync<byte[]>(Gateway.Directory, "SELECT content FROM attachments WHERE id = @id", new { id = attachment.GetProperty("id").GetInt64() });
        Assert.That(content, Is.EqualTo(photo));
        var audit = (await TicketAsync(number)).GetProperty("audit").EnumerateArray().Select(a => a.GetProperty("action").GetString()).ToList();
        Assert.That(audit, Does.Contain("attachment_added"));
    }

    [Test]
    public async Task An_agents_files_are_uploaded_as_meta_documents_and_sent_by_the_id_each_upload_returned()
    {
        await PostAsync(Delivery("message__text.json", "wamid.UP1", text: "Пришлите акт"));
        var (_, number) = await AckAsync("wamid.UP1");
        var png = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==");
        var pdf = "%PDF-1.4\n% акт\n"u8.ToArray();
        var reply = await Agent.PostAsJsonAsync($"/api/v1/tickets/{number}/replies", new
        {
            text = "Акт и схема во вложении.",
            attachments = new[]
            {
                new { fileName = "акт.pdf", contentType = "application/pdf", contentBase64 = Convert.ToBase64String(pdf) },
                new { fileName = "схема.png", contentType = "image/png", contentBase64 = Convert.ToBase64String(png) },
            },
        });
        Assert.That(reply.StatusCode, Is.EqualTo(HttpStatusCode.Created), await reply.Content.ReadAsStringAsync());
        var document = await SentAsync(m => m["type"]?.GetValue<string>() == "document");
        var image = await SentAsync(m => m["type"]?.GetValue<string>() == "image");
        var (docId, imageId) = (document["document"]!["id"]!.GetValue<string>(), image["image"]!["id"]!.GetValue<string>());
        Assert.That((Graph.Uploaded[docId].FileName, Graph.Uploaded[docId].Type, Graph.Uploaded[docId].Content), Is.EqualTo(("акт.pdf", "application/pdf", pdf)));
        Assert.That((Graph.Uploaded[imageId].FileName, Graph.Uploaded[imageId].Type, Graph.Uploaded[imageId].Content), Is.EqualTo(("схема.png", "image/png", png)));
        Assert.That(document["document"]!["filename"]!.GetValue<string>(), Is.EqualTo("акт.pdf"));
        Assert.That((document["to"]!.GetValue<string>(), image["to"]!.GetValue<string>()), Is.EqualTo((Customer, Customer)));
        Assert.That(Graph.Messages.Select(m => m["type"]!.GetValue<string>()).Skip(1), Is.EqualTo(new[] { "text", "document", "image" }), "text first, then the files in order");
    }

    [Test]
    public async Task New_request_words_alone_ask_for_the_problem_and_the_next_message_opens_a_new_ticket()
    {
        await PostAsync(Delivery("message__text.json", "wamid.NEW1", text: "Не работает касса"));
        var (_, first) = await AckAsync("wamid.NEW1");
        await PostAsync(Delivery("message__text.json", "wamid.NEW2", text: "Новая заявка"));
        await SentAsync(m => Body(m) == "Опишите новую проблему одним сообщением.");
        await PostAsync(Delivery("message__text.json", "wamid.NEW3", text: "Не печатает принтер"));
        var (_, second) = await AckAsync("wamid.NEW3");
        Assert.That(second, Is.Not.EqualTo(first));
        Assert.That((await InboundOfAsync(first)).Count, Is.EqualTo(1), "the words themselves open nothing");
    }

    [Test]
    public async Task Outside_the_24_hour_window_without_a_template_the_answer_is_held_and_nothing_is_sent()
    {
        await PostAsync(Delivery("message__text.json", "wamid.WIN1", text: "Касса не печатает"));
        var (_, number) = await AckAsync("wamid.WIN1");
        Graph.WindowClosed[Customer] = true;
        var reply = await Agent.PostAsJsonAsync($"/api/v1/tickets/{number}/replies", new { text = "Проверьте бумагу." });
        Assert.That(reply.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        string? error = null;
        await Eventually.HoldsAsync(async () => (error = await DbProbe.ScalarAsync<string?>(Gateway.Directory,
            "SELECT last_error FROM outbox WHERE channel = 'whatsapp' AND state = 'held'")) is not null);
        Assert.That(error, Does.Contain("131047").And.Contain("no window template"));
        Assert.That(Graph.Messages.Count(m => m["type"]?.GetValue<string>() == "template" || Body(m) == "Проверьте бумагу."), Is.Zero);
        Assert.That(await DbProbe.ScalarAsync<string>(Gateway.Directory, "SELECT text FROM messages WHERE internal = 1 ORDER BY id DESC LIMIT 1"),
            Does.Contain("none is configured"));
    }

    [Test]
    public async Task A_failed_status_is_recorded_on_the_ticket_and_told_to_the_agents_in_a_note()
    {
        await PostAsync(Delivery("message__text.json", "wamid.FAIL1", text: "Не работает касса"));
        var (ack, number) = await AckAsync("wamid.FAIL1");
        var sentId = ack["_id"]!.GetValue<string>();
        await Eventually.HoldsAsync(async () => await DbProbe.ScalarAsync<long>(Gateway.Directory, "SELECT COUNT(*) FROM outbox WHERE external_id = @id", new { id = "wa:" + sentId }) == 1);
        await PostAsync(Status(sentId, "failed"));
        await Eventually.HoldsAsync(async () => await DbProbe.ScalarAsync<long>(Gateway.Directory, "SELECT COUNT(*) FROM audit WHERE action = 'delivery_status'") == 1);
        Assert.That(await DbProbe.ScalarAsync<string>(Gateway.Directory, "SELECT new_value FROM audit WHERE action = 'delivery_status'"),
            Does.StartWith("failed: 130472 User's number is part of an experiment"));
        var note = await DbProbe.ScalarAsync<string>(Gateway.Directory, "SELECT text FROM messages WHERE internal = 1 AND author_kind = 'system'");
        Assert.That(note, Does.StartWith("WhatsApp did not deliver message").And.Contain("+" + Customer));
        Assert.That(await DbProbe.ScalarAsync<long>(Gateway.Directory, "SELECT COUNT(*) FROM tickets"), Is.EqualTo(1), "a status opens nothing");
        Assert.That(number, Does.StartWith("SG-"));
    }

    [Test]
    public async Task A_failed_status_with_a_permanent_code_marks_the_customer_unreachable_and_queues_the_agents_mail()
    {
        await PostAsync(Delivery("message__text.json", "wamid.GONE1", text: "Не работает касса"));
        var (ack, number) = await AckAsync("wamid.GONE1");
        var sentId = ack["_id"]!.GetValue<string>();
        await Eventually.HoldsAsync(async () => await DbProbe.ScalarAsync<long>(Gateway.Directory, "SELECT COUNT(*) FROM outbox WHERE external_id = @id", new { id = "wa:" + sentId }) == 1);
        var failed = Status(sentId, "failed");
        var error = failed["entry"]![0]!["changes"]![0]!["value"]!["statuses"]![0]!["errors"]![0]!;
        error["code"] = 131026;
        error["title"] = "Message undeliverable";
        await PostAsync(failed);
        await Eventually.HoldsAsync(async () => await DbProbe.ScalarAsync<long>(Gateway.Directory,
            "SELECT COUNT(*) FROM contact_identities WHERE channel = 'whatsapp' AND identity = @id AND unreachable_at IS NOT NULL", new { id = "+" + Customer }) == 1);
        var audit = (await TicketAsync(number)).GetProperty("audit").EnumerateArray().Select(a => a.GetProperty("action").GetString()).ToList();
        Assert.That(audit, Does.Contain("contact_unreachable").And.Contain("delivery_status"));
        var notices = (await TeamNoticesAsync()).Where(n => n.Contains("unreachable", StringComparison.Ordinal)).ToList();
        Assert.That(notices, Has.Count.EqualTo(1));
        Assert.That(notices[0], Does.Contain("131026"));

        // The same report again tells nobody twice.
        await PostAsync(failed);
        await Task.Delay(300);
        Assert.That((await TeamNoticesAsync()).Count(n => n.Contains("unreachable", StringComparison.Ordinal)), Is.EqualTo(1));
    }

    [Test]
    public async Task A_throughput_error_is_waited_out_and_the_message_still_goes()
    {
        Graph.ThroughputErrorsLeft = 1;
        await PostAsync(Delivery("message__text.json", "wamid.RATE1", text: "Не работает сканер"));
        var (_, number) = await AckAsync("wamid.RATE1");
        Assert.That(number, Does.StartWith("SG-"));
    }
}
