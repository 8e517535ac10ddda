using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using MailKit;
using MimeKit;
using SupportGateway.Tests.Host.Outbox;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Reliability;

/// <summary>
/// One gateway with every channel on takes a fixed mixed load (new requests and follow-ups on each channel, repeated
/// deliveries, agents' answers by mail) while the providers fail on a script over simulated hours: Postfix and Dovecot
/// unreachable, the Bot API, Twilio and the Graph API down, then answering 429 and 5xx while they recover. At the end
/// the database and the doubles must agree: every input accepted is one message on its ticket, every acknowledgement,
/// answer and agents' notice was delivered once and in order, nothing is pending. The table goes to the test output
/// and to stdout, for the CI log.
/// </summary>
[NonParallelizable]
public sealed class MixedLoadUnderFaultsTests
{
    private const int Customers = 3;
    private static readonly string[] Channels = ["email", "telegram", "twilio", "cloud", "webchat", "api"];

    private readonly List<string> _faults = [];
    private readonly Dictionary<string, ChannelTally> _tally = Channels.Append(ReliabilityTable.AgentMail).ToDictionary(c => c, c => new ChannelTally(c));
    private readonly List<Customer> _customers = [];
    private readonly List<string> _markers = [];
    private AllChannelsGateway _g = null!;
    private string _marker = "";
    private int _updateId = 500;

    private sealed class Customer(string channel, int index, string marker)
    {
        public string Channel { get; } = channel;
        public int Index { get; } = index;
        public string Opening { get; } = $"{marker}-{channel}-{index}-new";
        public string FollowUp { get; } = $"{marker}-{channel}-{index}-more";
        public string Answer { get; } = $"{marker}-{channel}-{index}-answer";
        public string? Number { get; set; }
        public string? VisitorToken { get; set; }
        public MimeMessage? LastMail { get; set; }
        public long TelegramUser => 8100 + Index;
        public string Phone => $"+7916777{Index:0000}";
        public string CloudNumber => $"7926777{Index:0000}";
        public string IntakeEmail => $"reliability{Index}@example.ru";
    }

    [Test]
    public async Task Every_accepted_input_is_on_its_ticket_and_every_acknowledgement_and_answer_is_delivered_once_in_order()
    {
        var clock = Stopwatch.StartNew();
        void Mark(string phase) => TestContext.Progress.WriteLine($"reliability: {phase} after {clock.Elapsed.TotalSeconds:0.0} s");
        await using var gateway = await AllChannelsGateway.StartAsync();
        _g = gateway;
        var start = _g.Time.GetUtcNow();
        _marker = $"rl{_g.Id[..6]}";
        foreach (var channel in Channels)
            for (var i = 0; i < Customers; i++)
                _customers.Add(new Customer(channel, i, _marker));
        string? table = null;
        try
        {
            // Everything up: the first customer of each channel writes.
            foreach (var c in _customers.Where(c => c.Index == 0))
                await OpenAsync(c, duplicate: false);
            foreach (var c in _customers.Where(c => c.Index == 0 && c.Number is null))
                c.Number = await TicketOfAsync(c.Opening);
            await _g.InboundSettledAsync();

            // Every provider down for an hour: the others write, the first ones follow up, some webhooks come twice.
            Mark("up: first customers written");
            await _g.SmtpReachableAsync(false);
            await _g.ImapReachableAsync(false);
            _g.Bot.Unreachable = _g.Twilio.Unreachable = _g.Graph.Unreachable = true;
            _faults.Add("0:00-1:00 SMTP (Postfix) unreachable: relay closed, connections refused");
            _faults.Add("0:00-1:00 IMAP (Dovecot) unreachable: sessions cut, connections refused; mail arrives meanwhile");
            _faults.Add("0:00-1:00 Bot API, Twilio and Graph (Cloud API) unreachable: every connection dropped");
            foreach (var c in _customers.Where(c => c.Index > 0))
                await OpenAsync(c, duplicate: c.Index == 1 && c.Channel is "telegram" or "twilio" or "cloud" or "webchat" or "api");
            foreach (var c in _customers.Where(c => c.Index == 0))
                await FollowUpAsync(c);
            _faults.Add("0:00 one new request on each webhook channel, the widget and the intake API delivered twice");
            await _g.InboundSettledAsync();
            Mark("outage: load written");
            var stops = await OutboxClock.PassAsync(_g.Time, _g.Directory, null, TimeSpan.FromHours(1));
            Mark($"outage: hour passed, the outbox retried at {stops} instants");
            // Back, but throttling while they recover.
            _g.Bot.RetryAfter = 120;
            _g.Bot.TooManyRequestsLeft = 3;
            foreach (var fault in new[] { (503, 20503), (500, 20500), (429, 20429), (429, 20429) })
                _g.Twilio.Faults.Enqueue(fault);
            _g.Graph.ThroughputErrorsLeft = 3;
            _g.Bot.Unreachable = _g.Twilio.Unreachable = _g.Graph.Unreachable = false;
            await _g.ImapReachableAsync(true);
            await _g.SmtpReachableAsync(true);
            _faults.Add("1:00 Bot API back answering 3 × 429 (retry_after 120 s); Twilio 503, 500, 429, 429; Graph 3 × 130429");
            Mark("recovery: providers back");
            foreach (var c in _customers.Where(c => c.Number is null))
                c.Number = await TicketOfAsync(c.Opening);
            foreach (var c in _customers.Where(c => c.Index > 0))
                await FollowUpAsync(c);
            await RefetchAsync(_customers.First(c => c.Channel == "email" && c.Index == 1));
            _faults.Add("1:00 one customer's mail put in the support mailbox a second time (the same mail fetched twice)");
            await _g.InboundSettledAsync();
            Mark("recovery: follow-ups written");
            await OutboxClock.UntilDeliveredAsync(_g.Time, _g.Directory, null);

            // The agent answers every ticket from the notification in their mailbox; Dovecot's connections are cut meanwhile.
            foreach (var c in _customers)
            {
                await AnswerByMailAsync(c);
                if (c.Index == 1)
                    _g.CutImap();
            }
            Mark("answers: sent by mail");
            _faults.Add("answers: every IMAP session cut after each second answer");
            await Eventually.HoldsAsync(async () => await AnsweredAsync() == _customers.Count, 60, () => "every answer by mail reached its ticket");
            await OutboxClock.UntilDeliveredAsync(_g.Time, _g.Directory, null);

            Mark("answers: delivered");
            await MaildirsSettledAsync();
            await CheckInputsAsync();
            await CheckDeliveriesAsync();
            await CheckNoticesAsync();
            await CheckPendingAsync();
        }
        finally
        {
            table = ReliabilityTable.Render([.. _tally.Values], _faults, _g.Time.GetUtcNow() - start, clock.Elapsed);
            TestContext.Out.WriteLine(table);
            // The test's output (shown for passing tests too at normal verbosity) and, at once, the console.
            TestContext.Progress.WriteLine(table);
        }
        // The findings first: a CI summary keeps only the first lines of a failure's message.
        var findings = string.Join("\n", _tally.Values.SelectMany(t => t.Findings.Select(f => $"{t.Channel}: {f}")));
        Assert.That(_tally.Values.Sum(t => t.Lost + t.Doubled + t.OutOfOrder + t.Pending), Is.Zero, $"{findings}\n{table}");
    }

    private async Task OpenAsync(Customer c, bool duplicate)
    {
        var tally = _tally[c.Channel];
        tally.New++;
        _markers.Add(c.Opening);
        var text = $"Касса не печатает чеки {c.Opening}";
        // Built once, so that a repeated delivery is the same request again: the same update, sid, wamid, clientId or Idempotency-Key.
        var update = FakeBotApi.Update("message.json", ++_updateId, userId: c.TelegramUser, text: text, messageId: _updateId, language: "ru");
        var (sid, wamid) = ($"SM{Guid.NewGuid():N}", $"wamid.RL{Guid.NewGuid():N}");
        Func<Task<bool>> send = c.Channel switch
        {
            "email" => () => MailAsync(c, $"Не печатает касса {c.Opening}", text),
            "telegram" => Post(() => _g.TelegramAsync(update)),
            "twilio" => Post(() => _g.TwilioAsync(FakeTwilioApi.Inbound(sid, c.Phone, text))),
            "cloud" => Post(() => _g.CloudAsync(wamid, c.CloudNumber, text)),
            "webchat" => WebChatOpen(c, text),
            _ => IntakeOpen(c, text),
        };
        await TryAsync(tally, send);
        if (duplicate)
        {
            tally.Duplicates++;
            await TryAsync(tally, send);
        }
        if (c.Channel != "email")
            c.Number ??= await TicketOfAsync(c.Opening);
    }

    private async Task FollowUpAsync(Customer c)
    {
        var tally = _tally[c.Channel];
        tally.FollowUps++;
        _markers.Add(c.FollowUp);
        var text = $"Перезагрузка не помогла {c.FollowUp}";
        await TryAsync(tally, c.Channel switch
        {
            "email" => () => MailAsync(c, $"Re: [{c.Number}] Не печатает касса", text),
            "telegram" => Post(() => _g.TelegramAsync(FakeBotApi.Update("message.json", ++_updateId, userId: c.TelegramUser, text: text, messageId: _updateId, language: "ru"))),
            "twilio" => Post(() => _g.TwilioAsync(FakeTwilioApi.Inbound($"SM{Guid.NewGuid():N}", c.Phone, text))),
            "cloud" => Post(() => _g.CloudAsync($"wamid.RL{Guid.NewGuid():N}", c.CloudNumber, text)),
            "webchat" => Post(() => _g.WebChatAsync(text, c.VisitorToken, c.Number)),
            _ => Post(() => _g.Intake.PostAsJsonAsync($"/api/v1/requests/{c.Number}/messages", new { text, contact = new { email = c.IntakeEmail } })),
        });
    }

    private static async Task TryAsync(ChannelTally tally, Func<Task<bool>> send)
    {
        tally.Tried++;
        if (await send())
            tally.Accepted++;
    }

    private static Func<Task<bool>> Post(Func<Task<HttpResponseMessage>> send) => async () =>
    {
        using var response = await send();
        return response.IsSuccessStatusCode;
    };

    private async Task<bool> MailAsync(Customer c, string subject, string text)
    {
        var mail = ClientMail.Create("Клиент", _g.CustomerMail(c.Index), _g.Support, subject, text, messageId: $"{Guid.NewGuid():N}@client.sg.test");
        await MailServers.SubmitAsync(_g.CustomerMail(c.Index), mail);
        c.LastMail = mail;
        return true;
    }

    private Func<Task<bool>> WebChatOpen(Customer c, string text)
    {
        var clientId = $"rl-{Guid.NewGuid():N}";
        return async () =>
        {
            using var response = await _g.WebChatAsync(text, c.VisitorToken, clientId: clientId);
            if (!response.IsSuccessStatusCode)
                return false;
            c.VisitorToken = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
            return true;
        };
    }

    private Func<Task<bool>> IntakeOpen(Customer c, string text)
    {
        var key = Guid.NewGuid().ToString("N");
        return Post(() =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/requests")
            {
                Content = JsonContent.Create(new { description = text, contact = new { email = c.IntakeEmail } }),
            };
            request.Headers.Add("Idempotency-Key", key);
            return _g.Intake.SendAsync(request);
        });
    }

    /// <summary>The very mail again, Message-ID and all, as a second copy in the support mailbox.</summary>
    private async Task RefetchAsync(Customer c)
    {
        var tally = _tally[c.Channel];
        tally.Duplicates++;
        tally.Tried++;
        using var imap = await MailServers.ImapAsync(_g.Support);
        await imap.Inbox.AppendAsync(c.LastMail!);
        tally.Accepted++;
    }

    private async Task<string> TicketOfAsync(string marker)
    {
        string? number = null;
        await Eventually.HoldsAsync(async () => (number = (await DbProbe.ListAsync<string>(_g.Directory,
            "SELECT t.number FROM messages m JOIN tickets t ON t.id = m.ticket_id WHERE m.direction = 'in' AND m.text LIKE '%' || @marker || '%'",
            new { marker })).FirstOrDefault()) is not null, 60, () => $"a ticket holds {marker}");
        return number!;
    }

    /// <summary>Replies to the notification of the customer's first message, from the agent's mail client, to its Reply-To.</summary>
    private async Task AnswerByMailAsync(Customer c)
    {
        var tally = _tally[ReliabilityTable.AgentMail];
        var notice = MimeMessage.Load(new MemoryStream(await MailServers.WaitForDeliveryAsync(_g.AgentMail, c.Opening)));
        tally.New++;
        tally.Tried++;
        var reply = ClientMail.Create("Олег Агентов", _g.AgentMail, notice.ReplyTo.Mailboxes, "Re: " + notice.Subject, $"Проверьте бумагу {c.Answer}",
            inReplyTo: notice.MessageId, references: [notice.MessageId!]);
        await MailServers.SubmitAsync(_g.AgentMail, reply);
        tally.Accepted++;
    }

    private Task<long> AnsweredAsync() => DbProbe.ScalarAsync<long>(_g.Directory,
        "SELECT COUNT(DISTINCT ticket_id) FROM messages WHERE direction = 'out' AND author_kind = 'agent' AND text LIKE '%' || @marker || '%'",
        new { marker = _marker });

    private async Task CheckInputsAsync()
    {
        foreach (var c in _customers)
        {
            var tally = _tally[c.Channel];
            foreach (var marker in new[] { c.Opening, c.FollowUp })
            {
                var on = await DbProbe.ListAsync<string>(_g.Directory,
                    "SELECT t.number FROM messages m JOIN tickets t ON t.id = m.ticket_id WHERE m.direction = 'in' AND m.text LIKE '%' || @marker || '%'", new { marker });
                if (on.Count == 0)
                    Find(tally, t => t.Lost++, $"{marker} is on no ticket");
                if (on.Count > 1)
                    Find(tally, t => t.Doubled += on.Count - 1, $"{marker} is stored {on.Count} times: {string.Join(", ", on)}");
                if (on.Any(n => n != c.Number))
                    Find(tally, t => t.Lost++, $"{marker} is on {string.Join(", ", on)}, not on {c.Number}");
            }
        }
    }

    /// <summary>Each customer gets their acknowledgement, then the agent's answer: once each, in that order.</summary>
    private async Task CheckDeliveriesAsync()
    {
        foreach (var c in _customers)
        {
            var tally = _tally[c.Channel];
            tally.Deliveries += 2;
            var got = await DeliveredAsync(c);
            var acks = got.Count(t => t.Contains(c.Number!, StringComparison.Ordinal) && !t.Contains(c.Answer, StringComparison.Ordinal));
            var answers = got.Count(t => t.Contains(c.Answer, StringComparison.Ordinal));
            var seen = $"{c.Number} on {c.Channel} to customer {c.Index} got: {string.Join(" | ", got.Select(t => t.ReplaceLineEndings(" ")[..Math.Min(t.Length, 60)]))}";
            if (acks == 0 || answers == 0)
                Find(tally, t => t.Lost += (acks == 0 ? 1 : 0) + (answers == 0 ? 1 : 0), seen);
            if (acks > 1 || answers > 1 || got.Count > acks + answers)
                Find(tally, t => t.Doubled += got.Count - Math.Min(acks, 1) - Math.Min(answers, 1), seen);
            if (acks > 0 && answers > 0 && got.FindIndex(t => t.Contains(c.Answer, StringComparison.Ordinal)) < got.FindIndex(t => !t.Contains(c.Answer, StringComparison.Ordinal)))
                Find(tally, t => t.OutOfOrder++, seen);
        }
    }

    /// <summary>What reached the customer, oldest first, from the channel's double (from the outbox for the widget and the API, which have none).</summary>
    private async Task<List<string>> DeliveredAsync(Customer c)
    {
        switch (c.Channel)
        {
            case "telegram":
                return [.. _g.Bot.Sent("sendMessage").Where(m => m["_sent_message_id"] is not null && m["chat_id"]!.GetValue<long>() == c.TelegramUser)
                    .Select(m => m["text"]!.GetValue<string>())];
            case "twilio":
                return [.. _g.Twilio.Messages.Where(m => m["To"] == "whatsapp:" + c.Phone).Select(m => m["Body"])];
            case "cloud":
                return [.. _g.Graph.Messages.Where(m => m["to"]!.GetValue<string>() == c.CloudNumber)
                    .Select(m => (m["text"]?["body"] ?? m["interactive"]?["body"]?["text"])?.GetValue<string>() ?? m.ToJsonString())];
            case "email":
                return await MailDeliveredAsync(c);
            default:
                return [.. await DbProbe.ListAsync<string>(_g.Directory, """
                    SELECT m.text FROM outbox o JOIN messages m ON m.id = o.message_id JOIN tickets t ON t.id = o.ticket_id
                    WHERE t.number = @number AND o.channel = @channel AND o.state = 'sent' ORDER BY o.sent_at, o.id
                    """, new { number = c.Number, channel = c.Channel })];
        }
    }

    /// <summary>The customer's mailbox on the real Dovecot, each mail once per copy; a later mail references the earlier ones.</summary>
    private async Task<List<string>> MailDeliveredAsync(Customer c)
    {
        var mails = new List<MimeMessage>();
        foreach (var dir in new[] { "new", "cur" }.Select(d => Path.Combine(MailServers.Maildir(_g.CustomerMail(c.Index)), d)).Where(Directory.Exists))
            foreach (var file in Directory.EnumerateFiles(dir))
                mails.Add(await MimeMessage.LoadAsync(file));
        mails.Sort((a, b) => a.References.Contains(b.MessageId ?? "") ? 1 : b.References.Contains(a.MessageId ?? "") ? -1 : 0);
        return [.. mails.Select(m => $"{m.Subject}\n{m.TextBody}")];
    }

    /// <summary>
    /// An outbox row is sent once Postfix took the mail; Postfix puts it in the maildir a moment later. Waits (at most
    /// 30 s) until every mail expected is there, so that the checks see what was delivered, not what is under way.
    /// </summary>
    private async Task MaildirsSettledAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            var notices = await NoticesAsync();
            var missing = _markers.Count(m => !notices.Any(n => n.Contains(m, StringComparison.Ordinal)));
            foreach (var c in _customers.Where(c => c.Channel == "email"))
            {
                var got = await MailDeliveredAsync(c);
                missing += got.Any(t => t.Contains(c.Answer, StringComparison.Ordinal)) ? 0 : 1;
                missing += got.Any(t => t.Contains(c.Number!, StringComparison.Ordinal) && !t.Contains(c.Answer, StringComparison.Ordinal)) ? 0 : 1;
            }
            if (missing == 0)
                return;
            await Task.Delay(100);
        }
    }

    /// <summary>The bodies of the mails in the agent's mailbox; every notice's subject is the ticket's, which holds the first message's words.</summary>
    private async Task<List<string>> NoticesAsync()
    {
        var notices = new List<string>();
        foreach (var dir in new[] { "new", "cur" }.Select(d => Path.Combine(MailServers.Maildir(_g.AgentMail), d)).Where(Directory.Exists))
            foreach (var file in Directory.EnumerateFiles(dir))
                notices.Add((await MimeMessage.LoadAsync(file)).TextBody ?? "");
        return notices;
    }

    /// <summary>The agents heard of every customer message once: a notice in the agent's mailbox for each.</summary>
    private async Task CheckNoticesAsync()
    {
        var tally = _tally[ReliabilityTable.AgentMail];
        var notices = await NoticesAsync();
        foreach (var marker in _markers)
        {
            tally.Deliveries++;
            var count = notices.Count(n => n.Contains(marker, StringComparison.Ordinal));
            if (count != 1)
                Find(tally, t =>
                {
                    if (count == 0)
                        t.Lost++;
                    else
                        t.Doubled += count - 1;
                }, $"{count} notices of {marker}");
        }
    }

    private async Task CheckPendingAsync()
    {
        var outbox = await DbProbe.ListAsync<(string Channel, string? Account, string State, long Count)>(_g.Directory,
            "SELECT channel, account, state, COUNT(*) FROM outbox WHERE state <> 'sent' GROUP BY channel, account, state");
        var inbound = await DbProbe.ListAsync<(string Channel, string ExternalId, string State)>(_g.Directory,
            "SELECT channel, external_id, state FROM inbound WHERE state <> 'processed'");
        foreach (var (channel, account, state, count) in outbox)
            Find(Tally(Row(channel, account)), t => t.Pending += (int)count, $"{count} outbox rows {state}");
        foreach (var (channel, id, state) in inbound)
            Find(Tally(Row(channel, channel == "whatsapp" && id.StartsWith("tw:", StringComparison.Ordinal) ? "twilio" : "cloud")), t => t.Pending++,
                $"inbound {id} {state}");
    }

    private ChannelTally Tally(string row) => _tally.TryGetValue(row, out var found) ? found : _tally[row] = new ChannelTally(row);

    private static string Row(string channel, string? account) => channel switch
    {
        "whatsapp" => account == "twilio" ? "twilio" : "cloud",
        "agentmail" => ReliabilityTable.AgentMail,
        _ => channel,
    };

    private static void Find(ChannelTally tally, Action<ChannelTally> count, string finding)
    {
        count(tally);
        tally.Findings.Add(finding);
    }
}
