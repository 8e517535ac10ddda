using PhoneNumbers;

namespace SupportGateway.Host.Channels.WhatsApp;

/// <summary>
/// WhatsApp numbers in E.164 (<c>+79161234567</c>), whatever the provider wrote (<c>whatsapp:+7 916…</c>, Cloud's
/// <c>79161234567</c>): the customer's identity on the channel, so Twilio and the Cloud API see the same person.
/// </summary>
internal static class WhatsAppNumbers
{
    private static readonly PhoneNumberUtil Util = PhoneNumberUtil.GetInstance();

    /// <summary>The number in E.164, or null when it is not a phone number.</summary>
    public static string? ToE164(string? raw)
    {
        if (string.IsNullOrWhiteSpace(raw) || GroupOf(raw) is not null)
            return null;
        var text = raw.Trim();
        if (text.StartsWith("whatsapp:", StringComparison.OrdinalIgnoreCase))
            text = text["whatsapp:".Length..];
        if (!text.StartsWith('+'))
            text = "+" + text;
        try
        {
            var number = Util.Parse(text, null);
            return Util.IsPossibleNumber(number) ? Util.Format(number, PhoneNumberFormat.E164) : null;
        }
        catch (NumberParseException)
        {
            return null;
        }
    }

    /// <summary>The conversation of a private chat with this number.</summary>
    public static string Conversation(string e164) => "wa:" + e164;

    private const string GroupPrefix = "group:";

    /// <summary>Where answers to a Cloud API group go (a ticket's reply address): <c>group:</c> and the group id, never taken for a number.</summary>
    public static string GroupAddress(string groupId) => GroupPrefix + groupId;

    /// <summary>The group id of a reply address, or null for a number.</summary>
    public static string? GroupOf(string? address) =>
        address is not null && address.StartsWith(GroupPrefix, StringComparison.Ordinal) ? address[GroupPrefix.Length..] : null;

    /// <summary>One member's conversation in a group: each member's problem is their own ticket, as in a Telegram group.</summary>
    public static string GroupConversation(string groupId, string member) => $"{GroupPrefix}{groupId}:u{member}";
}
