using SupportGateway.Mail.Inbound;
using SupportGateway.Mail.Mime;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Telegram;

/// <summary>
/// An agent answers a Telegram customer from their mail client: the notification reaches the agent through the real
/// Postfix and Dovecot, the agent replies with real mutt (or with files attached), and the answer reaches the chat.
/// </summary>
[NonParallelizable]
public sealed class TelegramAgentMailTests : TelegramScenario
{
    private const string AgentAddress = "agent@sg.test";
    private string _support = "";

    [OneTimeSetUp]
    public Task Servers() => MailServers.EnsureStartedAsync();

    private protected override Dictionary<string, string?> Settings
    {
        get
        {
            _support = $"support{Guid.NewGuid():N}"[..17] + "@sg.test";
            var settings = MailServers.MailboxSettings(_support);
            settings["SupportGateway:Agents:1:Name"] = "Олег Агентов";
            settings["SupportGateway:Agents:1:Email"] = AgentAddress;
            settings["SupportGateway:Agents:1:ApiKey"] = "test-agent-key-0002";
            settings["SupportGateway:Channels:Email:AgentNotifications:To"] = AgentAddress;
            settings["SupportGateway:Channels:Email:AgentNotifications:Secret"] = "test-secret-that-signs-reply-tokens-0001";
            return settings;
        }
    }

    [Test]
    public async Task A_reply_from_mutt_goes_to_the_customers_chat_as_a_reply_to_their_last_message_and_files_follow()
    {
        var marker = Guid.NewGuid().ToString("N")[..12];
        Bot.Push(FakeBotApi.Update("message.json", 1, userId: 7100, text: $"Не работает интернет в офисе {marker}", messageId: 70, language: "ru"));
        var (_, number) = await AckAsync(70);
        Bot.Push(FakeBotApi.Update("message.json", 2, userId: 7100, text: $"Роутер мигает красным {marker}", messageId: 71, language: "ru"));

        var notification = InboundMail.Read(await MailServers.WaitForDeliveryAsync(AgentAddress, $"Роутер мигает красным {marker}"));
        Assert.That(notification.Subject, Does.StartWith($"[{number}]"));
        await Mutt.ReplyAsync(AgentAddress, notification.MessageId!, "Перезагрузите роутер, пожалуйста.");
        var answer = await SentAsync(m => m["text"]!.GetValue<string>().StartsWith("Перезагрузите роутер", StringComparison.Ordinal), seconds: 30);
        Assert.That(answer["text"]!.GetValue<string>(), Is.EqualTo("Перезагрузите роутер, пожалуйста."), "only the new text, not the quote");
        Assert.That((answer["chat_id"]!.GetValue<long>(), answer["reply_parameters"]!["message_id"]!.GetValue<long>()), Is.EqualTo((7100L, 71L)));

        // The agent's mail with a screenshot and a PDF: the picture goes as a photo, the PDF as a document, after the text.
        var png = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==");
        var pdf = "%PDF-1.4\n% инструкция\n"u8.ToArray();
        await ReplyByMailAsync(notification, "Вот схема подключения и инструкция.",
            ("схема.png", "image/png", png), ("инструкция.pdf", "application/pdf", pdf));
        var text = await SentAsync(m => m["text"]!.GetValue<string>() == "Вот схема подключения и инструкция.", seconds: 30);
        var photo = await SentAsync(m => true, method: "sendPhoto");
        var document = await SentAsync(m => true, method: "sendDocument");
        Assert.That((photo["file_name"]!.GetValue<string>(), photo["file_size"]!.GetValue<long>(), photo["chat_id"]!.GetValue<long>()), Is.EqualTo(("схема.png", (long)png.Length, 7100L)));
        Assert.That((document["file_name"]!.GetValue<string>(), document["file_size"]!.GetValue<long>()), Is.EqualTo(("инструкция.pdf", (long)pdf.Length)));
        Assert.That(document["reply_parameters"]!["message_id"]!.GetValue<long>(), Is.EqualTo(text["_sent_message_id"]!.GetValue<long>()), "files follow the text");

        // A mail with only a file and no words: the file itself answers the customer's last message.
        await ReplyByMailAsync(notification, "", ("акт.pdf", "application/pdf", pdf));
        var alone = await SentAsync(m => m["file_name"]?.GetValue<string>() == "акт.pdf", seconds: 30, method: "sendDocument");
        Assert.That(alone["reply_parameters"]!["message_id"]!.GetValue<long>(), Is.EqualTo(71));
        Assert.That(Bot.Sent("sendMessage").Count(m => m["text"]!.GetValue<string>().Length == 0), Is.Zero, "no empty message");
    }

    [Test]
    public async Task When_the_customer_blocked_the_bot_the_agent_who_answered_by_mail_is_told_by_mail()
    {
        var marker = Guid.NewGuid().ToString("N")[..12];
        // A user id of its own, so the mail about it cannot be one left by an earlier run.
        var user = Random.Shared.NextInt64(1_000_000_000, 9_000_000_000);
        Bot.Push(FakeBotApi.Update("message.json", 1, userId: user, text: $"Не проходит оплата {marker}", messageId: 80, language: "ru"));
        var (_, number) = await AckAsync(80);
        var notification = InboundMail.Read(await MailServers.WaitForDeliveryAsync(AgentAddress, $"Не проходит оплата {marker}"));
        Bot.Blocked[user] = true;

        await Mutt.ReplyAsync(AgentAddress, notification.MessageId!, "Оплата прошла, проверьте выписку.");
        var told = InboundMail.Read(await MailServers.WaitForDeliveryAsync(AgentAddress, $"on telegram to {user}:"));
        Assert.That(told.Subject, Does.StartWith($"[{number}] Not sent / не отправлено"));
        Assert.That(told.Text, Does.Contain("blocked by the user").And.Contain("свяжитесь с ним иначе"));
        Assert.That(told.InReplyTo.Single(), Does.StartWith(number), "threaded with the ticket's notifications");
    }

    /// <summary>The agent's answer to a notification as a mail client writes it: to its Reply-To, threaded under it.</summary>
    private static Task ReplyByMailAsync(InboundMail notification, string text, params (string FileName, string ContentType, byte[] Content)[] files) =>
        MailServers.SubmitAsync(AgentAddress, ClientMail.Create("Олег Агентов", AgentAddress,
            notification.ReplyTo.Select(a => new MimeKit.MailboxAddress(a.Name, a.Address)), "Re: " + notification.Subject, text,
            inReplyTo: notification.MessageId, references: [notification.MessageId!], files: files));
}
