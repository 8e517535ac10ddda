using SupportGateway.Core.Outbox;

namespace SupportGateway.Host.Channels.Api;

/// <summary>
/// The intake API has no push channel: the product reads answers with
/// <c>GET /api/v1/requests/{number}</c>. Delivery marks the message as available there.
/// </summary>
internal sealed class ApiSender : IOutboundSender
{
    public string Channel => IntakeNormalizer.Channel;

    public Task<DeliveryReceipt> SendAsync(OutboundMessage message, CancellationToken cancellationToken) =>
        Task.FromResult(new DeliveryReceipt(null));
}
