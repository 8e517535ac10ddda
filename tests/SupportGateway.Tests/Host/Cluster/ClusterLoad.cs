using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MimeKit;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Cluster;

/// <summary>
/// Requests through the balancer as a product sends them (intake with an Idempotency-Key each) and mail to the support
/// mailbox from customers of their own, with what each got back; then what the database holds of them.
/// </summary>
internal sealed class ClusterLoad(GatewayCluster cluster, string marker)
{
    private readonly ConcurrentDictionary<string, Outcome> _requests = new();
    private readonly ConcurrentBag<string> _mails = [];
    private int _next;

    /// <summary>What the first attempt of a request got: its number on a 201, otherwise what went wrong.</summary>
    public sealed record Outcome(string? Number, string? Failure);

    public sealed record TicketRow(string Number, string Subject, string Channel, long Acknowledgements, long Sent, int Attempts);

    public IReadOnlyDictionary<string, Outcome> Requests => _requests;

    public IReadOnlyCollection<string> Mails => _mails;

    public string Marker => marker;

    /// <summary>One intake request; its first answer is recorded under its key.</summary>
    public async Task<Outcome> IntakeAsync(HttpClient intake)
    {
        var i = Interlocked.Increment(ref _next);
        var key = $"{marker}-{i}";
        var outcome = await PostAsync(intake, key);
        _requests[key] = outcome;
        return outcome;
    }

    /// <summary>Requests from <paramref name="workers"/> senders one after another until <paramref name="stop"/>.</summary>
    public Task SteadyIntakeAsync(HttpClient intake, int workers, CancellationToken stop) =>
        Task.WhenAll(Enumerable.Range(0, workers).Select(async _ =>
        {
            while (!stop.IsCancellationRequested)
                await IntakeAsync(intake);
        }));

    /// <summary>A mail to the support mailbox from a customer of its own (acknowledgements are capped per address).</summary>
    public async Task MailAsync()
    {
        var i = Interlocked.Increment(ref _next);
        var customer = $"support{marker}c{i}@sg.test"; // an address the test Postfix delivers (tests/mail-servers.sh)
        var subject = $"{marker} mail {i}";
        await MailServers.SubmitAsync(customer, MimeMessage.Load(new MemoryStream(Encoding.UTF8.GetBytes(
            $"From: {customer}\r\nTo: {cluster.Mailbox}\r\nSubject: {subject}\r\nMessage-ID: <{marker}-{i}@client.sg.test>\r\n" +
            $"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe VPN drops every hour ({subject}).\r\n"))));
        _mails.Add(customer);
    }

    /// <summary>
    /// Each request whose first attempt failed (an instance gone mid-request) sent again with its key until it is
    /// answered, as a product retries; the key makes the repeat return the ticket the first attempt may have made.
    /// Returns the final number of every request.
    /// </summary>
    public async Task<Dictionary<string, string>> SettleAsync(HttpClient intake)
    {
        var numbers = new Dictionary<string, string>();
        foreach (var (key, outcome) in _requests)
        {
            var number = outcome.Number;
            for (var attempt = 0; number is null && attempt < 20; attempt++)
            {
                number = (await PostAsync(intake, key)).Number;
                if (number is null)
                    await Task.Delay(500);
            }
            numbers[key] = number ?? throw new AssertionException($"request {key} was never answered");
        }
        return numbers;
    }

    /// <summary>The tickets of this load, each with its acknowledgements (system messages), how many were sent and their attempts.</summary>
    public Task<IReadOnlyList<TicketRow>> TicketsAsync() => cluster.QueryAsync<TicketRow>("""
        SELECT t.number AS Number, t.subject AS Subject, t.channel AS Channel,
               (SELECT COUNT(*) FROM messages m WHERE m.ticket_id = t.id AND m.author_kind = 'system' AND m.direction = 'out') AS Acknowledgements,
               (SELECT COUNT(*) FROM outbox o JOIN messages m ON m.id = o.message_id
                 WHERE o.ticket_id = t.id AND m.author_kind = 'system' AND o.state = 'sent') AS Sent,
               (SELECT COALESCE(MAX(o.attempts), 0) FROM outbox o JOIN messages m ON m.id = o.message_id
                 WHERE o.ticket_id = t.id AND m.author_kind = 'system') AS Attempts
        FROM tickets t WHERE t.subject LIKE @prefix
        """, new { prefix = marker + " %" });

    /// <summary>How many acknowledgements of <paramref name="number"/> reached <paramref name="customer"/>'s Maildir on the real Dovecot.</summary>
    public static int DeliveredAcknowledgements(string customer, string number) =>
        new[] { "new", "cur" }.Select(d => Path.Combine(MailServers.Maildir(customer), d)).Where(Directory.Exists)
            .SelectMany(Directory.EnumerateFiles)
            .Select(f => SupportGateway.Mail.Inbound.InboundMail.Read(File.ReadAllBytes(f)))
            .Count(m => (m.Subject + "\n" + m.Text).Contains(number, StringComparison.Ordinal));

    private async Task<Outcome> PostAsync(HttpClient intake, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/requests")
        {
            Content = JsonContent.Create(new
            {
                subject = $"{marker} {key}",
                description = "The export to Excel hangs at 99%",
                contact = new { email = $"{key}@example.ru" },
            }),
        };
        request.Headers.Add("Idempotency-Key", key);
        try
        {
            using var response = await intake.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK)
                return new Outcome(JsonDocument.Parse(body).RootElement.GetProperty("ticketNumber").GetString(), null);
            return new Outcome(null, $"{(int)response.StatusCode} {body[..Math.Min(200, body.Length)]}");
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return new Outcome(null, ex.GetType().Name + ": " + ex.Message);
        }
    }
}
