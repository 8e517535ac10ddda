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

    /// <summary>
    /// Slow work a payload needs before it is processed (fetching the files a chat message names), done before the
    /// ingest transaction so that the one writer never waits on the network. Best effort: a failure here is logged,
    /// and the filters must cope when it did not happen.
    /// </summary>
    ValueTask PrepareAsync(RawInbound raw, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

/// <summary>A stored payload its normaliser cannot read: parked for replay with the reason, logged as a warning.</summary>
public sealed class UnreadablePayloadException(string message, Exception inner) : Exception(message, inner);
