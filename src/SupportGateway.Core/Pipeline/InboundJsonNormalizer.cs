using System.Text.Json;

namespace SupportGateway.Core.Pipeline;

/// <summary>
/// Channels whose payload we build ourselves (web chat, intake API) store the typed message as
/// JSON; this reads it back, the same way on first processing and on replay.
/// </summary>
public sealed class InboundJsonNormalizer : IInboundNormalizer
{
    public const string FormatName = "inbound+json";

    public string Format => FormatName;

    public InboundMessage Normalize(RawInbound raw) =>
        JsonSerializer.Deserialize(raw.Payload, CoreJson.Options.GetTypeInfo(typeof(InboundMessage))) as InboundMessage
        ?? throw new InvalidDataException("The stored payload is empty.");

    public static RawInbound ToRaw(InboundMessage message) =>
        new(message.Channel, message.ExternalId, FormatName, JsonSerializer.SerializeToUtf8Bytes(message, CoreJson.Options));
}
