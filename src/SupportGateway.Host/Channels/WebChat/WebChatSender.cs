using System.Text.Json;
using SupportGateway.Core;
using SupportGateway.Core.Outbox;
using SupportGateway.Host.Agents;

namespace SupportGateway.Host.Channels.WebChat;

/// <summary>Pushes answers to the visitor's open widgets. The message is already in the history, so a closed widget loses nothing.</summary>
internal sealed class WebChatSender(WebChatHub hub) : IOutboundSender
{
    public string Channel => WebChatNormalizer.Channel;

    public Task<DeliveryReceipt> SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        var payload = new WebChatEvent(message.Ticket.Number, message.Ticket.Status, MessageDto.From(message.Message, message.Attachments, WebChatEndpoints.Download));
        hub.Publish(message.Recipient, JsonSerializer.Serialize(payload, CoreJson.Options));
        return Task.FromResult(new DeliveryReceipt(null));
    }
}

public sealed record WebChatEvent(string TicketNumber, string Status, MessageDto Message);
