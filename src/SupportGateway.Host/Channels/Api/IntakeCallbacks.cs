using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using SupportGateway.Core;
using SupportGateway.Core.Outbox;
using SupportGateway.Core.Storage;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Host.Channels.Api;

/// <summary>A product's address for news of its tickets, and the secret that signs them.</summary>
public sealed class IntakeCallback
{
    public string Url { get; set; } = "";
    public string Secret { get; set; } = "";
}

/// <summary>What a callback says: the event and where the ticket stands; the product reads the rest with GET.</summary>
public sealed record IntakeCallbackBody(string Event, string TicketNumber, string Status, string? Resolution, long? MessageId, DateTimeOffset At);

/// <summary>
/// Queues a callback to every configured product URL when an agent answers an API ticket or its status changes, in
/// the transaction that makes the change: the outbox delivers it and retries it like any answer.
/// </summary>
internal sealed class IntakeCallbackQueue(IOptions<IntakeOptions> options, OutboxStore outbox, MessageStore messages) : ITicketEventSubscriber
{
    public async Task OnEventAsync(DbSession session, TicketRow ticket, TicketEvent kind, long? messageId, long now, CancellationToken cancellationToken)
    {
        if (ticket.Channel != IntakeNormalizer.Channel || kind is not (TicketEvent.AnswerSent or TicketEvent.StatusChanged) || options.Value.Callbacks.Count == 0)
            return;
        var body = JsonSerializer.Serialize(new IntakeCallbackBody(WireName.Of(kind), ticket.Number, ticket.Status, ticket.Resolution, messageId,
            DateTimeOffset.FromUnixTimeMilliseconds(now)), CoreJson.Options);
        // An outbox row belongs to a message: the answer, or for a status change the ticket's latest one.
        var anchor = messageId ?? await messages.LatestIdAsync(session, ticket.Id, cancellationToken);
        foreach (var callback in options.Value.Callbacks)
            await outbox.EnqueueAsync(session, anchor, ticket.Id, IntakeCallbackSender.Channel, null, callback.Url, now, cancellationToken, body);
    }
}

/// <summary>
/// POSTs a queued callback. The receiver checks <c>X-SupportGateway-Signature: sha256=HEX</c>, the HMAC-SHA256 with
/// its secret of <c>TIMESTAMP.BODY</c>, where TIMESTAMP (Unix seconds, in <c>X-SupportGateway-Timestamp</c>) is signed
/// too so that an old request replayed later is refused; <c>X-SupportGateway-Delivery</c> is the same on every retry.
/// </summary>
internal sealed class IntakeCallbackSender(IHttpClientFactory clients, IOptionsMonitor<IntakeOptions> options, TimeProvider time) : IOutboundSender
{
    public const string Channel = "callback";
    public const string HttpClientName = "intake-callbacks";

    string IOutboundSender.Channel => Channel;

    public async Task<DeliveryReceipt> SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        var callback = options.CurrentValue.Callbacks.Find(c => c.Url == message.Recipient)
            ?? throw new PermanentDeliveryException($"{message.Recipient} is no longer in {IntakeOptions.Section}:Callbacks.");
        var body = message.Payload ?? throw new PermanentDeliveryException("The callback has no body.");
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, callback.Url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-SupportGateway-Timestamp", timestamp);
        request.Headers.Add("X-SupportGateway-Signature", "sha256=" + Sign(callback.Secret, timestamp, body));
        request.Headers.Add("X-SupportGateway-Delivery", message.IdempotencyKey);
        using var response = await clients.CreateClient(HttpClientName).SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"the callback receiver answered {(int)response.StatusCode}", null, response.StatusCode);
        return new DeliveryReceipt(null);
    }

    public static string Sign(string secret, string timestamp, string body) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{body}")));
}
