using System.Globalization;
using System.Net;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.WhatsApp;

/// <summary>
/// Twilio's webhook through a SIGKILL, with the real gateway process: this test is Twilio, delivering 1,000 messages
/// and retrying each until it is answered 200, as Twilio does. The gateway dies in the middle and comes back on the
/// same database. Each message is processed exactly once: a 200 goes back only after the commit, and MessageSid
/// dedupes what is delivered again.
/// </summary>
[NonParallelizable]
public sealed class TwilioWebhookFaultTests
{
    private const int Deliveries = 1000;
    private const int Customers = 100;
    private const int Connections = 8;
    private const string WebhookUrl = "https://support.example/webhooks/whatsapp/twilio";

    [Test]
    public async Task Every_delivery_is_processed_once_through_a_SIGKILL_mid_stream_and_the_providers_retries()
    {
        await using var twilio = new FakeTwilioApi();
        var directory = TempDirectory.Create();
        var port = GatewayProcess.FreePort();
        var env = GatewayProcess.Environment(directory, port);
        env["SupportGateway__Channels__WhatsApp__Twilio__AccountSid"] = FakeTwilioApi.AccountSid;
        env["SupportGateway__Channels__WhatsApp__Twilio__AuthToken"] = FakeTwilioApi.AuthToken;
        env["SupportGateway__Channels__WhatsApp__Twilio__From"] = "whatsapp:+14155238886";
        env["SupportGateway__Channels__WhatsApp__Twilio__WebhookUrl"] = WebhookUrl;
        env["SupportGateway__Channels__WhatsApp__PublicBaseUrl"] = "https://support.example.com";
        env["SupportGateway__Channels__WhatsApp__Twilio__ApiBaseUrl"] = twilio.BaseUrl;
        var baseAddress = new Uri($"http://127.0.0.1:{port}");
        using var client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var provider = new Provider(client);

        Task delivering;
        long answeredAtKill, processedAtKill;
        int released;
        using (var gateway = GatewayProcess.Start(directory, env))
        {
            await gateway.WaitHealthyAsync(baseAddress, TimeSpan.FromSeconds(60));
            delivering = provider.DeliverAsync();
            await Eventually.HoldsAsync(async () => Interlocked.Read(ref provider.Answered) >= Deliveries * 3 / 10, 30, () => gateway.OutputTail);
            gateway.Kill();
            answeredAtKill = Interlocked.Read(ref provider.Answered);
            processedAtKill = await ProcessedAsync(directory);
        }
        TestContext.Out.WriteLine($"SIGKILL after {answeredAtKill} of {Deliveries} deliveries were answered 200 and {processedAtKill} processed");
        Assert.That(answeredAtKill, Is.LessThan(Deliveries), "the kill came in the middle of the deliveries");

        // The deliveries go on failing while the gateway is down; the restarted one answers the retries.
        using (var restarted = GatewayProcess.Start(directory, env))
        {
            await restarted.WaitHealthyAsync(baseAddress, TimeSpan.FromSeconds(60));
            await delivering.WaitAsync(TimeSpan.FromSeconds(30));
            await Eventually.HoldsAsync(async () => await ProcessedAsync(directory) == Deliveries && await UnsentAsync(directory) == 0, 30, () => restarted.OutputTail);
            released = Released(restarted.Output);
        }

        var inbound = await DbProbe.ScalarAsync<long>(directory, "SELECT COUNT(*) FROM inbound WHERE channel = 'whatsapp'");
        var distinct = await DbProbe.ScalarAsync<long>(directory, "SELECT COUNT(DISTINCT external_id) FROM inbound WHERE channel = 'whatsapp'");
        var dead = await DbProbe.ScalarAsync<long>(directory, "SELECT COUNT(*) FROM inbound WHERE state <> 'processed'");
        var messages = await DbProbe.ScalarAsync<long>(directory, "SELECT COUNT(*) FROM messages WHERE direction = 'in'");
        var texts = await DbProbe.ScalarAsync<long>(directory, "SELECT COUNT(DISTINCT text) FROM messages WHERE direction = 'in'");
        var tickets = await DbProbe.ScalarAsync<long>(directory, "SELECT COUNT(*) FROM tickets");
        var acks = await DbProbe.ScalarAsync<long>(directory, "SELECT COUNT(*) FROM messages WHERE author_kind = 'system' AND direction = 'out'");
        var sentToTwilio = twilio.Messages.Count;
        var recipients = twilio.Messages.Select(m => m["To"]).Distinct().Count();
        TestContext.Out.WriteLine($"{Interlocked.Read(ref provider.Attempts)} attempts for {Deliveries} deliveries; {inbound} stored, {messages} messages, " +
            $"{tickets} tickets, {acks} acknowledgements, {sentToTwilio} messages created at the Twilio double for {recipients} recipients");
        Assert.That((inbound, distinct, dead), Is.EqualTo(((long)Deliveries, (long)Deliveries, 0L)), "each delivery stored once, none parked");
        Assert.That((messages, texts), Is.EqualTo(((long)Deliveries, (long)Deliveries)), "each message on a ticket exactly once");
        Assert.That((tickets, acks), Is.EqualTo(((long)Customers, (long)Customers)), "one ticket per customer: nothing was opened twice");
        // The outbox is at least once: a send Twilio accepted just before the kill, not yet committed as sent, goes
        // again after the restart (Twilio's Messages API has no idempotency key). Only those may reach Twilio twice.
        TestContext.Out.WriteLine($"{released} acknowledgements were in flight at the kill and sent again");
        Assert.That(recipients, Is.EqualTo(Customers), "every customer was acknowledged at Twilio");
        Assert.That(sentToTwilio - Customers, Is.InRange(0, released), "no acknowledgement doubled except one in flight at the kill");
    }

    /// <summary>Twilio's side: a few connections, each delivery posted again (after a pause) until it gets 200.</summary>
    private sealed class Provider(HttpClient client)
    {
        public long Answered;
        public long Attempts;
        private int _next;

        public Task DeliverAsync() => Task.WhenAll(Enumerable.Range(0, Connections).Select(_ => Task.Run(async () =>
        {
            int id;
            while ((id = Interlocked.Increment(ref _next)) <= Deliveries)
            {
                await DeliverAsync(id);
                // Paced, so that the stream lasts long enough for the kill to land inside it.
                await Task.Delay(5);
            }
        })));

        private async Task DeliverAsync(int id)
        {
            var sid = $"SM{id:x32}";
            var from = "+7916" + (id % Customers).ToString("D7", CultureInfo.InvariantCulture);
            var fields = FakeTwilioApi.Inbound(sid, from, $"Сообщение {id.ToString(CultureInfo.InvariantCulture)} от {from}", "Иван Петров");
            while (true)
            {
                Interlocked.Increment(ref Attempts);
                try
                {
                    using var response = await client.SendAsync(FakeTwilioApi.WebhookRequest(WebhookUrl, fields));
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        Interlocked.Increment(ref Answered);
                        return;
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                }
                await Task.Delay(50);
            }
        }
    }

    /// <summary>What the restarted dispatcher says it found in flight ("N deliveries were in flight when the gateway last stopped").</summary>
    private static int Released(string output) =>
        System.Text.RegularExpressions.Regex.Match(output, @"(\d+) deliveries were in flight") is { Success: true } m
            ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;

    private static Task<long> ProcessedAsync(string directory) =>
        DbProbe.ScalarAsync<long>(directory, "SELECT COUNT(*) FROM inbound WHERE channel = 'whatsapp' AND state = 'processed'");

    private static Task<long> UnsentAsync(string directory) =>
        DbProbe.ScalarAsync<long>(directory, "SELECT COUNT(*) FROM outbox WHERE state <> 'sent'");

}
