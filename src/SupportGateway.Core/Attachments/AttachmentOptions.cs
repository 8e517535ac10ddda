using Microsoft.Extensions.Options;

namespace SupportGateway.Core.Attachments;

public sealed class AttachmentOptions
{
    public const string Section = "SupportGateway:Attachments";

    /// <summary>
    /// Media types a file may have, as its bytes prove it (<c>image/png</c>, <c>image/*</c>, or a prefix ending in <c>*</c>).
    /// A file of another type is refused where the channel can tell the sender, and kept as <c>application/octet-stream</c>
    /// where it cannot (mail, Telegram, WhatsApp), so nothing received is lost.
    /// </summary>
    public List<string> AllowedTypes { get; set; } = [];

    /// <summary>An image declaring more pixels than this (width × height) is kept as a plain file, never shown.</summary>
    public long MaxImagePixels { get; set; } = 50_000_000;

    /// <summary>The built-in list, used when <see cref="AllowedTypes"/> is empty: documents, pictures, sound and video, archives.</summary>
    public static readonly IReadOnlyList<string> DefaultAllowedTypes =
    [
        "image/png", "image/jpeg", "image/gif", "image/webp", "image/heic", "image/heif", "image/avif", "image/bmp", "image/tiff",
        "application/pdf", "text/plain", "text/csv", "text/calendar", "text/rtf", "application/rtf", "application/json", "application/xml", "text/xml",
        "application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint", "application/vnd.ms-outlook",
        "application/vnd.openxmlformats-officedocument.*", "application/vnd.oasis.opendocument.*",
        "application/zip", "application/x-zip-compressed", "application/gzip", "application/x-7z-compressed", "application/vnd.rar", "application/x-rar-compressed",
        "message/rfc822", "application/ms-tnef", "application/vnd.ms-tnef", "audio/*", "video/*", "application/octet-stream",
    ];

    public IReadOnlyList<string> EffectiveAllowedTypes => AllowedTypes.Count > 0 ? AllowedTypes : DefaultAllowedTypes;
}

public sealed class AttachmentOptionsValidator : IValidateOptions<AttachmentOptions>
{
    public ValidateOptionsResult Validate(string? name, AttachmentOptions options) => CoreOptionsValidator.Collect(
        options.AllowedTypes.FirstOrDefault(t => !TypePattern.IsValid(t)) is { } bad
            ? $"{AttachmentOptions.Section}:AllowedTypes: '{bad}' is not a media type (type/subtype, type/*, or a prefix ending in *)" : null,
        options.MaxImagePixels < 1 ? $"{AttachmentOptions.Section}:MaxImagePixels: must be positive" : null);
}
