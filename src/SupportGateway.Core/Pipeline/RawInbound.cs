namespace SupportGateway.Core.Pipeline;

/// <summary>
/// A payload exactly as it reached us, stored before any processing so that nothing accepted is
/// lost. <see cref="Format"/> names the <see cref="IInboundNormalizer"/> that turns it into an
/// <see cref="InboundMessage"/>, now or on replay.
/// </summary>
public sealed record RawInbound(string Channel, string ExternalId, string Format, byte[] Payload);

/// <summary>Turns one raw payload format into a typed message. Throwing parks the payload as a dead letter.</summary>
public interface IInboundNormalizer
{
    string Format { get; }

    InboundMessage Normalize(RawInbound raw);
}
