using System.Globalization;
using System.Text.Json;
using SupportGateway.Core.Pipeline;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Host.Channels.WhatsApp;

/// <summary>
/// A stored Twilio webhook (its form body as received) into an <see cref="InboundMessage"/>. Messages are known by
/// "tw:" + MessageSid, as our own sent messages are, so a reply to either finds its ticket. The customer is their
/// number in E.164, the conversation is the private chat with it. Parameters we do not know are ignored: Twilio adds
/// new ones without notice.
/// </summary>
internal sealed class TwilioNormalizer(TwilioMedia? media = null) : IInboundNormalizer
{
    public const string FormatName = "whatsapp.twilio";
    public const string Account = "twilio";
    public const string Prefix = "tw:";

    public const string MessageType = "twilio.message_type";
    public const string Media = "twilio.media";
    public const string Button = "twilio.button_payload";

    public string Format => FormatName;

    /// <summary>The payload to store: deduplicated by MessageSid, which Twilio repeats when a delivery is retried.</summary>
    public static RawInbound ToRaw(byte[] form, string messageSid) => new(WhatsAppChannel.Name, Prefix + messageSid, FormatName, form);

    /// <summary>Payload of the resolution buttons (a content template's quick replies): "sg:c:SG-10009" confirms, "sg:r:SG-10009" objects.</summary>
    public static string VerdictPayload(CustomerVerdict verdict, string number) => $"sg:{(verdict == CustomerVerdict.Confirms ? 'c' : 'r')}:{number}";

    /// <summary>Before the transaction: the message's files are fetched (see <see cref="TwilioMedia"/>).</summary>
    public async ValueTask PrepareAsync(RawInbound raw, CancellationToken cancellationToken)
    {
        if (media is not null && TwilioMedia.Describe(TwilioForm.Parse(raw.Payload)) is { Count: > 0 } files)
            await media.PrefetchAsync(files, cancellationToken);
    }

    public InboundMessage Normalize(RawInbound raw)
    {
        var form = TwilioForm.Parse(raw.Payload);
        var sid = TwilioProvider.Value(form, "MessageSid") ?? throw new InvalidDataException("A Twilio webhook without MessageSid.");
        var e164 = WhatsAppNumbers.ToE164(TwilioProvider.Value(form, "From"))
            ?? throw new InvalidDataException($"From '{TwilioProvider.Value(form, "From")}' is not a phone number.");
        var payload = TwilioProvider.Value(form, "ButtonPayload");
        var verdict = payload switch
        {
            ['s', 'g', ':', 'c', ':', ..] => CustomerVerdict.Confirms,
            ['s', 'g', ':', 'r', ':', ..] => CustomerVerdict.Rejects,
            _ => CustomerVerdict.None,
        };
        var details = new Dictionary<string, string> { [MessageType] = TwilioProvider.Value(form, "MessageType") ?? "text" };
        if (payload is not null)
            details[Button] = payload;
        if (TwilioMedia.Describe(form) is { Count: > 0 } files)
            details[Media] = JsonSerializer.Serialize(files);
        var replied = TwilioProvider.Value(form, "OriginalRepliedMessageSid");
        return new InboundMessage
        {
            Channel = WhatsAppChannel.Name,
            Account = Account,
            ExternalId = Prefix + sid,
            Sender = new SenderIdentity { Identity = e164, Phone = e164, Name = TwilioProvider.Value(form, "ProfileName") },
            Hints = new ThreadHints
            {
                ConversationKey = WhatsAppNumbers.Conversation(e164),
                ReplyAddress = e164,
                ReplyTo = replied is null ? [] : [Prefix + replied],
                TicketNumber = verdict == CustomerVerdict.None ? null : payload![5..],
            },
            Text = Text(form, verdict),
            Verdict = verdict,
            TechnicalDetails = details,
        };
    }

    /// <summary>The text an agent reads: the body (a caption, for media), a button's label, a shared location in words.</summary>
    private static string Text(IReadOnlyDictionary<string, string> form, CustomerVerdict verdict)
    {
        var text = TwilioProvider.Value(form, "Body") ?? TwilioProvider.Value(form, "ButtonText") ?? verdict switch
        {
            CustomerVerdict.Confirms => "Solved ✅",
            CustomerVerdict.Rejects => "Not solved ❌",
            _ => "",
        };
        if (TwilioProvider.Value(form, "Latitude") is { } latitude && TwilioProvider.Value(form, "Longitude") is { } longitude)
        {
            var place = string.Join(", ", new[] { TwilioProvider.Value(form, "Label"), TwilioProvider.Value(form, "Address") }.OfType<string>());
            var location = string.Create(CultureInfo.InvariantCulture, $"[location {latitude}, {longitude}{(place.Length > 0 ? ": " + place : "")}]");
            text = text.Length > 0 ? $"{text}\n{location}" : location;
        }
        return text.Trim();
    }
}
