namespace SupportGateway.Host.Channels;

/// <summary>Long answers in parts, for chat channels with a length limit per message (Telegram, WhatsApp).</summary>
internal static class TextParts
{
    /// <summary>
    /// Cuts a text into parts of at most <paramref name="max"/> UTF-16 units: at a paragraph, else a line, else a
    /// space, never inside a character. A blank text has no parts.
    /// </summary>
    public static List<string> Split(string text, int max)
    {
        var parts = new List<string>();
        var rest = text.AsSpan().Trim();
        while (rest.Length > max)
        {
            var window = rest[..max];
            var cut = window.LastIndexOf("\n\n") is var paragraph and > 0 ? paragraph
                : window.LastIndexOf('\n') is var line and > 0 ? line
                : window.LastIndexOf(' ') is var space and > 0 ? space
                : char.IsHighSurrogate(window[^1]) ? max - 1 : max;
            parts.Add(rest[..cut].TrimEnd().ToString());
            rest = rest[cut..].TrimStart();
        }
        if (rest.Length > 0)
            parts.Add(rest.ToString());
        return parts;
    }
}
