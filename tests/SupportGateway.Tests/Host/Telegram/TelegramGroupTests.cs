using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Telegram;

/// <summary>Customer groups: bound to an organisation, only messages for the bot count, each member's problem is its own ticket, topics are tickets.</summary>
[NonParallelizable]
public sealed class TelegramGroupTests : TelegramScenario
{
    private const long Group = -1001234567489;
    private const long Unbound = -1009999999999;
    private const long AgentUser = 9000;

    private protected override Dictionary<string, string?> Settings => new()
    {
        ["SupportGateway:Channels:Telegram:Groups:0:ChatId"] = Group.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["SupportGateway:Channels:Telegram:Groups:0:Organisation"] = "ROMASHKA-01",
        ["SupportGateway:Channels:Telegram:AgentUserIds:0"] = AgentUser.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    [Test]
    public async Task Two_members_with_two_problems_get_two_tickets_and_answers_go_back_into_the_group_as_replies()
    {
        Bot.Push(FakeBotApi.Update("text.json", 1, userId: 8001, chatId: Group, text: "@sg_test_bot Не работает касса №2", messageId: 100, language: "ru"));
        var (ackA, first) = await AckAsync(100);
        Assert.That(ackA["chat_id"]!.GetValue<long>(), Is.EqualTo(Group));

        // Colleagues talking among themselves are not tickets.
        Bot.Push(FakeBotApi.Update("text.json", 2, userId: 8002, chatId: Group, text: "Коллеги, кто брал ключ от серверной?", messageId: 101, language: "ru"));
        Bot.Push(FakeBotApi.Update("text.json", 20, userId: 8002, chatId: Group, text: "/status@other_helper_bot", messageId: 120, language: "ru"));
        Bot.Push(FakeBotApi.Update("text.json", 21, userId: 8002, chatId: Group, text: "@sg_test_bot Принтер в бухгалтерии не печатает", messageId: 102, language: "ru"));
        var (_, second) = await AckAsync(102);
        Assert.That(second, Is.Not.EqualTo(first), "another member's problem is another ticket");

        // A reply to the bot's message continues that message's ticket.
        Assert.That(Bot.Sent("sendMessage").Any(m => m["text"]!.GetValue<string>().Contains("обращени", StringComparison.Ordinal)
            && m["reply_parameters"]?["message_id"]?.GetValue<long>() == 120), Is.False, "a command for another bot is not ours");
        Bot.Push(FakeBotApi.Update("text.json", 22, userId: 8001, chatId: Group, text: "Касса пишет «ошибка 3»", messageId: 103,
            replyTo: ackA["_sent_message_id"]!.GetValue<long>(), language: "ru"));
        await Eventually.HoldsAsync(async () => (await TicketAsync(first)).GetProperty("messages").EnumerateArray().Count(m => m.GetProperty("direction").GetString() == "in") == 2);

        var ticketA = await TicketAsync(first);
        var texts = ticketA.GetProperty("messages").EnumerateArray().Where(m => m.GetProperty("direction").GetString() == "in")
            .Select(m => m.GetProperty("text").GetString()).ToList();
        Assert.That(texts, Is.EqualTo(new[] { "Не работает касса №2", "Касса пишет «ошибка 3»" }), "the mention is taken out");
        Assert.That(await NumbersAsync(), Has.Count.EqualTo(2));
        Assert.That(await DbProbe.ScalarAsync<long>(Gateway.Directory,
            "SELECT COUNT(*) FROM tickets t JOIN organisations o ON o.id = t.organisation_id WHERE o.account_number = 'ROMASHKA-01'"), Is.EqualTo(2));

        var reply = await Agent.PostAsJsonAsync($"/api/v1/tickets/{second}/replies", new { text = "Замените картридж, пожалуйста." });
        Assert.That(reply.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        var answer = await SentAsync(m => m["text"]!.GetValue<string>() == "Замените картридж, пожалуйста.");
        Assert.That((answer["chat_id"]!.GetValue<long>(), answer["reply_parameters"]!["message_id"]!.GetValue<long>()), Is.EqualTo((Group, 102L)));
    }

    [Test]
    public async Task A_forum_topic_is_a_ticket_and_answers_go_into_the_topic()
    {
        var opening = FakeBotApi.Update("message_topic.json", 1, userId: 8003, chatId: Group, text: "@sg_test_bot Не грузится отчёт по остаткам", messageId: 200, language: "ru");
        Bot.Push(opening);
        var (ack, number) = await AckAsync(200);
        Assert.That(ack["message_thread_id"]!.GetValue<long>(), Is.EqualTo(33));

        // In a topic with a ticket, everything said there belongs to it.
        Bot.Push(FakeBotApi.Update("message_topic.json", 2, userId: 8004, chatId: Group, text: "Скриншот ошибки ниже", messageId: 201, language: "ru"));
        await Eventually.HoldsAsync(async () => (await TicketAsync(number)).GetProperty("messages").EnumerateArray().Count(m => m.GetProperty("direction").GetString() == "in") == 2);
        await Agent.PostAsJsonAsync($"/api/v1/tickets/{number}/replies", new { text = "Смотрим." });
        var answer = await SentAsync(m => m["text"]!.GetValue<string>() == "Смотрим.");
        Assert.That((answer["chat_id"]!.GetValue<long>(), answer["message_thread_id"]!.GetValue<long>(), answer["reply_parameters"]!["message_id"]!.GetValue<long>()),
            Is.EqualTo((Group, 33L, 201L)));
        Assert.That(await NumbersAsync(), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task An_unbound_group_is_told_and_only_support_staff_can_bind_it()
    {
        Bot.Push(FakeBotApi.Update("text.json", 1, userId: 8005, chatId: Unbound, text: "@sg_test_bot Помогите", messageId: 300, language: "ru"));
        await SentAsync(m => m["chat_id"]!.GetValue<long>() == Unbound && m["text"]!.GetValue<string>().Contains("не подключена", StringComparison.Ordinal));
        Bot.Push(FakeBotApi.Update("text.json", 2, userId: 8005, chatId: Unbound, text: "/bind VASILEK-7", messageId: 301, language: "ru"));
        await SentAsync(m => m["text"]!.GetValue<string>().StartsWith("Подключать группы может только", StringComparison.Ordinal));
        Bot.Push(FakeBotApi.Update("text.json", 3, userId: AgentUser, chatId: Unbound, text: "/bind VASILEK-7", messageId: 302, language: "ru"));
        await SentAsync(m => m["text"]!.GetValue<string>().StartsWith("Группа подключена к поддержке (VASILEK-7)", StringComparison.Ordinal));

        Bot.Push(FakeBotApi.Update("text.json", 4, userId: 8005, chatId: Unbound, text: "@sg_test_bot Помогите, не работает VPN", messageId: 303, language: "ru"));
        var (_, number) = await AckAsync(303);
        Assert.That(await NumbersAsync(), Is.EqualTo(new[] { number }), "nothing was opened before the binding");
        Assert.That(await DbProbe.ScalarAsync<string>(Gateway.Directory,
            "SELECT o.account_number FROM tickets t JOIN organisations o ON o.id = t.organisation_id"), Is.EqualTo("VASILEK-7"));
        Assert.That(Regex.IsMatch(number, @"^SG-\d+$"));
    }
}
