using Ganss.Xss;

namespace SupportGateway.Mail.Mime;

/// <summary>
/// A customer's HTML as agents may see it: an allow-list of tags, attributes, CSS properties and URL schemes
/// (HtmlSanitizer's defaults, plus <c>cid:</c> for inline images and <c>mailto:</c>), everything else removed —
/// scripts, event handlers, <c>javascript:</c> links, forms, frames.
/// </summary>
public static class HtmlSanitizing
{
    /// <summary>Larger HTML is not kept (its text is): cleaning it would hold the single writer too long.</summary>
    public const int MaxChars = 512 * 1024;

    private static readonly HtmlSanitizer Sanitizer = Create();

    /// <summary>The cleaned HTML, or null when there is none or it is over <see cref="MaxChars"/>.</summary>
    public static string? Sanitize(string? html) =>
        string.IsNullOrWhiteSpace(html) || html.Length > MaxChars ? null : Sanitizer.Sanitize(html);

    private static HtmlSanitizer Create()
    {
        var sanitizer = new HtmlSanitizer();
        sanitizer.AllowedSchemes.Add("cid");
        sanitizer.AllowedSchemes.Add("mailto");
        return sanitizer;
    }
}
