using SupportGateway.Core.Tickets;

namespace SupportGateway.Host.Channels.WhatsApp;

/// <summary>
/// What Twilio's WhatsApp takes as media (its "Guidance on WhatsApp Media Messages"): images JPEG, PNG and WEBP up to
/// 5 MB; audio, video, PDF and Office documents and vCards up to 16 MB a message. A file outside these is not sent,
/// and the agents are told which and why, so it never shows as sent without arriving.
/// </summary>
internal static class WhatsAppMediaLimits
{
    public const long MaxMessage = 16L * 1024 * 1024;
    public const long MaxImage = 5L * 1024 * 1024;

    private static readonly HashSet<string> Images = ["image/jpeg", "image/png", "image/webp"];

    private static readonly HashSet<string> Others =
    [
        "audio/ogg", "audio/amr", "audio/3gpp", "audio/aac", "audio/mpeg", "video/mp4", "application/pdf", "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "text/vcard", "text/x-vcard",
    ];

    /// <summary>The files Twilio takes, and the others with the reason.</summary>
    public static (List<AttachmentRow> Sent, List<string> Refused) SortForTwilio(IReadOnlyList<AttachmentRow> files)
    {
        var (sent, refused) = (new List<AttachmentRow>(), new List<string>());
        foreach (var file in files)
        {
            var type = file.ContentType.Split(';')[0].Trim().ToLowerInvariant();
            var limit = Images.Contains(type) ? MaxImage : Others.Contains(type) ? MaxMessage : 0;
            if (limit == 0)
                refused.Add($"{file.FileName} ({type}: WhatsApp does not take this type)");
            else if (file.Size > limit)
                refused.Add($"{file.FileName} ({file.Size / 1024} KB: over WhatsApp's {limit / 1024 / 1024} MB for this type)");
            else
                sent.Add(file);
        }
        return (sent, refused);
    }

    public static string? AgentsNote(string recipient, List<string> refused) => refused.Count == 0 ? null
        : $"Not sent on WhatsApp to {recipient}: {string.Join("; ", refused)}. Send these another way (a link, or by e-mail).\n" +
          $"Не отправлено в WhatsApp ({recipient}): {string.Join("; ", refused)}. Отправьте их иначе (ссылкой или по электронной почте).";
}
