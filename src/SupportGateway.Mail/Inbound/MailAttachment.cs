namespace SupportGateway.Mail.Inbound;

/// <summary>A file received with a message, or an attached message (<see cref="IsMessage"/>).</summary>
/// <param name="FileName">The name the sender gave it, without a path; null when it has none.</param>
/// <param name="ContentType">The media type, lower case ("application/pdf").</param>
/// <param name="Content">The bytes, transfer encoding removed.</param>
/// <param name="ContentId">The Content-ID without angle brackets, which HTML refers to as <c>cid:</c>.</param>
/// <param name="Inline">Disposition inline: shown in the body rather than listed.</param>
public sealed record MailAttachment(string? FileName, string ContentType, byte[] Content, string? ContentId, bool Inline)
{
    /// <summary>A message/rfc822 attachment.</summary>
    public bool IsMessage => ContentType == "message/rfc822";
}
