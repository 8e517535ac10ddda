using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using SupportGateway.Mail.Inbound;
using SupportGateway.Mail.Mime;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Email;

/// <summary>
/// The e-mail channel end to end with the real Postfix and Dovecot: the customer writes to the support mailbox
/// (its own folder per test, by plus-addressing), the gateway reads it over IMAP and answers over SMTP.
/// </summary>
[NonParallelizable]
public sealed class EmailChannelTests
{
    private const string AgentAddress = "agent@sg.test";
    private string _user = "";
    private string _support = "";
    private GatewayFactory _gateway = null!;
    private HttpClient _agent = null!;

    [OneTimeSetUp]
    public Task Servers() => MailServers.EnsureStartedAsync();

    [SetUp]
    public async Task StartGateway()
    {
        // A mailbox of its own per test: support<id>@sg.test.
        _user = "support" + Guid.NewGuid().ToString("N")[..10];
        _support = $"{_user}@sg.test";
        using (var imap = await MailServers.ImapAsync(_support))
            await MailServers.FolderAsync(imap, "Processed");
        var settings = MailServers.MailboxSettings(_support, processedFolder: "Processed");
        settings["SupportGateway:Channels:Email:Mailboxes:0:DisplayName"] = "Служба поддержки";
        settings["SupportGateway:Agents:1:Name"] = "Олег Агентов";
        settings["SupportGateway:Agents:1:Email"] = AgentAddress;
        settings["SupportGateway:Agents:1:ApiKey"] = "test-agent-key-0002";
        settings["SupportGateway:Channels:Email:AgentNotifications:To"] = AgentAddress;
        settings["SupportGateway:Channels:Email:AgentNotifications:Secret"] = "test-secret-that-signs-reply-tokens-0001";
        _gateway = new GatewayFactory(settings);
        _agent = _gateway.Agent();
    }

    [TearDown]
    public void StopGateway()
    {
        _agent.Dispose();
        _gateway.Dispose();
    }

    [Test]
    public async Task A_new_mail_opens_a_ticket_the_ack_is_threaded_under_it_and_a_reply_continues_it()
    {
        var marker = Guid.NewGuid().ToString("N");
        var pdf = Enumerable.Range(0, 3000).Select(i => (byte)i).ToArray();
        await MailServers.SubmitAsync("customer@sg.test", ClientMail.Create("Иван Петров", "customer@sg.test", _support, "Принтер не печатает",
            "Здравствуйте! Принтер в бухгалтерии не печатает, ошибка 0x1F.",
            messageId: $"{marker}@client.sg.test", files: [("отчёт.pdf", "application/pdf", pdf)]));

        var ack = InboundMail.Read(await MailServers.WaitForDeliveryAsync("customer@sg.test", marker));
        var number = System.Text.RegularExpressions.Regex.Match(ack.Subject, @"\[(SG-\d+)\]").Groups[1].Value;
        Assert.That(ack.Subject, Is.EqualTo($"[{number}] Принтер не печатает"));
        Assert.That(ack.From.Single(), Is.EqualTo(new MailAddress("Служба поддержки", _support)));
        Assert.That(ack.InReplyTo, Is.EqualTo(new[] { $"{marker}@client.sg.test" }));
        Assert.That(ack.MessageId, Does.StartWith(number).And.EndWith("@sg.test"));
        Assert.That(ack.HeaderText("Auto-Submitted"), Is.EqualTo("auto-replied"));
        Assert.That(ack.Text, Does.Contain(number).And.Contain("Спасибо"), "Russian text gets the Russian template");

        var ticket = await TicketAsync(number);
        Assert.That(ticket.GetProperty("ticket").GetProperty("channel").GetString(), Is.EqualTo("email"));
        var first = ticket.GetProperty("messages")[0];
        Assert.That(first.GetProperty("text").GetString(), Does.Contain("ошибка 0x1F"));
        Assert.That(first.GetProperty("attachments")[0].GetProperty("fileName").GetString(), Is.EqualTo("отчёт.pdf"));
        Assert.That(first.GetProperty("attachments")[0].GetProperty("size").GetInt64(), Is.EqualTo(pdf.Length));

        // The customer answers the acknowledgement from a mail client: quote below, threading headers set.
        await MailServers.SubmitAsync("customer@sg.test", ClientMail.Create("Иван Петров", "customer@sg.test", _support, "Re: " + ack.Subject,
            "Картридж уже заменили, не помогло.\r\n\r\n22.11.2026, 10:00, Служба поддержки пишет:\r\n> " + ack.Text.Trim().Replace("\n", "\n> "),
            inReplyTo: ack.MessageId, references: [$"{marker}@client.sg.test", ack.MessageId!]));
        var messages = await WaitAsync(number, t => t.GetProperty("messages").EnumerateArray().Count(m => m.GetProperty("authorKind").GetString() == "customer") == 2);
        var reply = messages.GetProperty("messages").EnumerateArray().Last(m => m.GetProperty("authorKind").GetString() == "customer");
        Assert.That(reply.GetProperty("text").GetString(), Is.EqualTo("Картридж уже заменили, не помогло."), "the quote is cut off");

        // Handled mail left the folder for the processed one.
        using var imap = await MailServers.ImapAsync(_support);
        Assert.That(await MailServers.CountAsync(imap, "INBOX"), Is.Zero);
        Assert.That(await MailServers.CountAsync(imap, "Processed"), Is.EqualTo(2));
    }

    [Test]
    public async Task The_signature_is_kept_beside_the_text_and_shown_to_the_agents_at_the_end()
    {
        var marker = Guid.NewGuid().ToString("N");
        await MailServers.SubmitAsync("customer@sg.test", ClientMail.Create("Ольга Смирнова", "customer@sg.test", _support, $"Не выгружается отчёт {marker}",
            "Отчёт за ноябрь не выгружается, ошибка 500.\r\n\r\nС уважением,\r\nОльга Смирнова\r\nглавный бухгалтер\r\nООО «Ромашка»\r\n",
            messageId: $"{marker}@client.sg.test"));

        var notification = InboundMail.Read(await MailServers.WaitForDeliveryAsync("agent@sg.test", marker));
        var number = System.Text.RegularExpressions.Regex.Match(notification.Subject, @"\[(SG-\d+)\]").Groups[1].Value;
        var first = (await TicketAsync(number)).GetProperty("messages")[0];
        Assert.That(first.GetProperty("text").GetString(), Is.EqualTo("Отчёт за ноябрь не выгружается, ошибка 500."));
        Assert.That(first.GetProperty("signature").GetString(), Is.EqualTo("С уважением,\nОльга Смирнова\nглавный бухгалтер\nООО «Ромашка»"));
        var text = notification.Text.ReplaceLineEndings("\n");
        Assert.That(text.IndexOf("ошибка 500.", StringComparison.Ordinal), Is.LessThan(text.IndexOf("главный бухгалтер", StringComparison.Ordinal)),
            "the agents see the signature under the text");
        Assert.That(text.IndexOf("главный бухгалтер", StringComparison.Ordinal), Is.LessThan(text.IndexOf(number + " ·", StringComparison.Ordinal)));
    }

    [Test]
    public async Task A_mails_html_is_stored_cleaned_and_returned_to_agents()
    {
        var marker = Guid.NewGuid().ToString("N");
        await MailServers.SubmitAsync("customer@sg.test", System.Text.Encoding.UTF8.GetBytes(
            $"From: customer@sg.test\r\nTo: {_support}\r\nSubject: HTML {marker}\r\nMessage-ID: <{marker}@client.sg.test>\r\nMIME-Version: 1.0\r\n" +
            "Content-Type: text/html; charset=utf-8\r\n\r\n<p><b>Report</b> fails</p><script>alert(1)</script><img src=x onerror=alert(2)>\r\n"));
        var notification = InboundMail.Read(await MailServers.WaitForDeliveryAsync("agent@sg.test", marker));
        var number = System.Text.RegularExpressions.Regex.Match(notification.Subject, @"\[(SG-\d+)\]").Groups[1].Value;
        var html = (await TicketAsync(number)).GetProperty("messages")[0].GetProperty("html").GetString();
        Assert.That(html, Does.Contain("<b>Report</b>"));
        Assert.That(html, Does.Not.Contain("script").And.Not.Contain("onerror"));
    }

    [Test]
    public async Task Auto_replies_and_bounces_open_no_ticket_and_get_no_ack()
    {
        var marker = Guid.NewGuid().ToString("N");
        await MailServers.SubmitAsync("robot@sg.test", AutoReply(marker));
        await MailServers.SubmitAsync("robot@sg.test", Encoding.UTF8.GetBytes(
            $"From: MAILER-DAEMON@sg.test\r\nTo: {_support}\r\nSubject: Undelivered Mail Returned to Sender\r\nMessage-ID: <{marker}.dsn@sg.test>\r\n" +
            "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nCould not deliver.\r\n" +
            "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; sg.test\r\n\r\nFinal-Recipient: rfc822; nobody@sg.test\r\nAction: failed\r\nStatus: 5.1.1\r\n" +
            "--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <unknown-to-us@sg.test>\r\nSubject: x\r\n--b--\r\n"));

        using var imap = await MailServers.ImapAsync(_support);
        await Eventually.HoldsAsync(async () => await MailServers.CountAsync(imap, "Processed") == 2, 20, () => "both handled");
        var tickets = await _agent.GetFromJsonAsync<JsonElement>("/api/v1/tickets");
        Assert.That(tickets.GetArrayLength(), Is.Zero);
        // Acknowledgements come only from tickets; the outbox holds nothing for the auto-responder either.
        var health = await _agent.GetStringAsync("/healthz");
        Assert.That(health, Does.Contain("outbox: 0 pending, 0 in flight, 0 failed").And.Contain("email:support: up"));
    }

    [Test]
    public async Task The_agent_answers_from_mutt_and_the_customer_gets_only_the_new_text_threaded_under_the_ack()
    {
        var marker = Guid.NewGuid().ToString("N");
        await MailServers.SubmitAsync("customer@sg.test", ClientMail.Create("Иван Петров", "customer@sg.test", _support, "Не открывается отчёт", $"Отчёт за октябрь не открывается. {marker}",
            messageId: $"{marker}@client.sg.test"));
        var ack = InboundMail.Read(await MailServers.WaitForDeliveryAsync("customer@sg.test", $"{marker}@client.sg.test"));
        var number = ack.HeaderText("X-SupportGateway-Ticket")!;

        var notification = InboundMail.Read(await MailServers.WaitForDeliveryAsync(AgentAddress, marker));
        Assert.That(notification.Subject, Is.EqualTo($"[{number}] Не открывается отчёт"));
        Assert.That(notification.Text, Does.StartWith($"Отчёт за октябрь не открывается. {marker}"));
        Assert.That(notification.ReplyTo.Single().Address, Does.StartWith($"{_user}+{number}."));
        Assert.That(notification.HeaderText("Auto-Submitted"), Is.EqualTo("auto-generated"));

        // The marker keeps an earlier run's answer in the shared customer@sg.test mailbox from being taken for this one.
        await Mutt.ReplyAsync(AgentAddress, notification.MessageId!, $"#статус уточнение\nУточните, пожалуйста, в каком браузере открываете отчёт {marker}.\n\n-- \nОлег, поддержка");

        var answer = InboundMail.Read(await MailServers.WaitForDeliveryAsync("customer@sg.test", $"открываете отчёт {marker}"));
        Assert.That(answer.Text.Trim(), Is.EqualTo($"Уточните, пожалуйста, в каком браузере открываете отчёт {marker}."), "no command, quote or signature reaches the customer");
        Assert.That(answer.Subject, Is.EqualTo($"[{number}] Не открывается отчёт"));
        Assert.That(answer.InReplyTo, Is.EqualTo(new[] { ack.MessageId }), "threaded under the acknowledgement");
        Assert.That(answer.References, Is.EqualTo(new[] { $"{marker}@client.sg.test", ack.MessageId }));
        Assert.That(answer.HeaderText("Auto-Submitted"), Is.Null);

        var ticket = await TicketAsync(number);
        Assert.That(ticket.GetProperty("ticket").GetProperty("status").GetString(), Is.EqualTo("clarification"));
        var audit = ticket.GetProperty("audit").EnumerateArray().Select(a => (a.GetProperty("actor").GetString(), a.GetProperty("action").GetString(), a.GetProperty("newValue").GetString())).ToList();
        Assert.That(audit, Does.Contain(($"agent:{AgentAddress}", "mail_command", "#статус уточнение")));
        Assert.That(audit, Does.Contain(($"agent:{AgentAddress}", "status_changed", "clarification")));
    }

    [Test]
    public async Task An_answer_by_mail_reaches_a_web_chat_customer_live()
    {
        using var visitor = _gateway.CreateClient();
        var marker = Guid.NewGuid().ToString("N");
        var form = new MultipartFormDataContent { { new StringContent("Мария"), "name" }, { new StringContent($"Не приходит код подтверждения. {marker}"), "description" } };
        var created = await (await visitor.PostAsync("/webchat/api/requests", form)).Content.ReadFromJsonAsync<JsonElement>();
        var token = created.GetProperty("token").GetString()!;
        var number = created.GetProperty("conversation").GetProperty("ticket").GetProperty("number").GetString()!;
        visitor.DefaultRequestHeaders.Add("X-Visitor-Token", token);
        using var events = await visitor.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/webchat/api/events"), HttpCompletionOption.ResponseHeadersRead);
        using var stream = new StreamReader(await events.Content.ReadAsStreamAsync());
        Assert.That(await stream.ReadLineAsync(), Is.EqualTo("event: ready"));

        var notification = InboundMail.Read(await MailServers.WaitForDeliveryAsync(AgentAddress, marker));
        Assert.That(notification.Text, Does.Contain("Не приходит код подтверждения").And.Contain("webchat"));
        await Mutt.ReplyAsync(AgentAddress, notification.MessageId!, "Код отправлен повторно, проверьте папку «Спам».");

        var reading = Task.Run(async () =>
        {
            while (await stream.ReadLineAsync() is { } line)
            {
                if (line.StartsWith("data:", StringComparison.Ordinal) && JsonDocument.Parse(line[5..]).RootElement is var data
                    && data.TryGetProperty("message", out var pushed) && pushed.GetProperty("authorKind").GetString() == "agent")
                    return data;
            }
            throw new EndOfStreamException();
        });
        var pushed = await reading.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.That(pushed.GetProperty("message").GetProperty("text").GetString(), Is.EqualTo("Код отправлен повторно, проверьте папку «Спам»."));
        Assert.That(pushed.GetProperty("message").GetProperty("author").GetString(), Is.EqualTo("Олег Агентов"));
    }

    [Test]
    public async Task Agent_mail_without_a_token_or_with_an_unknown_command_is_not_relayed_and_the_agent_is_told_why()
    {
        var marker = Guid.NewGuid().ToString("N");
        await MailServers.SubmitAsync("customer@sg.test", ClientMail.Create("", "customer@sg.test", _support, "Ошибка входа", $"Не могу войти. {marker}"));
        var notification = InboundMail.Read(await MailServers.WaitForDeliveryAsync(AgentAddress, marker));
        var number = notification.HeaderText("X-SupportGateway-Ticket")!;

        // A new mail that only names the ticket: it could come from anyone who knows the number.
        await MailServers.SubmitAsync(AgentAddress, ClientMail.Create("", AgentAddress, _support, $"[{number}] Ошибка входа", $"Попробуйте сбросить пароль. {marker}-forged"));
        var refused = InboundMail.Read(await MailServers.WaitForDeliveryAsync(AgentAddress, $"{marker}-forged"));
        Assert.That(refused.Subject, Does.StartWith($"[{number}] Not sent"));
        Assert.That(refused.Text, Does.Contain("no valid reply token").And.Contain("не отправлено клиенту"));

        await Mutt.ReplyAsync(AgentAddress, notification.MessageId!, $"#срочно да\nСейчас посмотрим. {marker}-command");
        var unknown = InboundMail.Read(await MailServers.WaitForDeliveryAsync(AgentAddress, $"{marker}-command"));
        Assert.That(unknown.Text, Does.Contain("unknown command #срочно"));

        // A new mail that names no ticket at all: nothing to note it on, but the agent still hears why.
        await MailServers.SubmitAsync(AgentAddress, ClientMail.Create("", AgentAddress, _support, $"Вопрос по клиенту {marker}-loose", "Кто-нибудь знает?"));
        var loose = InboundMail.Read(await MailServers.WaitForDeliveryAsync(AgentAddress, $"Not sent / не отправлено: Вопрос по клиенту {marker}-loose"));
        Assert.That(loose.Text, Does.Contain("no valid reply token"));

        var ticket = await TicketAsync(number);
        Assert.That(ticket.GetProperty("messages").EnumerateArray().Where(m => m.GetProperty("authorKind").GetString() == "agent"), Is.Empty,
            "nothing was answered to the customer");
        Assert.That(ticket.GetProperty("audit").EnumerateArray().Count(a => a.GetProperty("action").GetString() == "agent_mail_refused"), Is.EqualTo(2));
        var customerMail = Directory.EnumerateFiles(Path.Combine(MailServers.Maildir("customer@sg.test"), "new")).Select(File.ReadAllText);
        Assert.That(customerMail, Has.None.Contains("Попробуйте сбросить пароль").And.None.Contains("Сейчас посмотрим"));
    }

    private MimeKit.MimeMessage AutoReply(string marker)
    {
        var mail = ClientMail.Create("", "robot@sg.test", _support, "Автоответ: в отпуске до понедельника", "Я в отпуске.", messageId: $"{marker}@sg.test");
        mail.Headers.Add("Auto-Submitted", "auto-replied");
        return mail;
    }

    private async Task<JsonElement> TicketAsync(string number) => await _agent.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{number}");

    private async Task<JsonElement> WaitAsync(string number, Func<JsonElement, bool> done)
    {
        JsonElement ticket = default;
        await Eventually.HoldsAsync(async () => done(ticket = await TicketAsync(number)), 20, () => $"{number} reached the expected state");
        return ticket;
    }

}
