using System.ComponentModel.DataAnnotations;
using SupportGateway.Core.Attachments;
using SupportGateway.Core.Pipeline;
using SupportGateway.Core.Tickets;
using SupportGateway.Host.Http;

namespace SupportGateway.Host.Channels.Api;

public sealed record IntakeContact(string? Name, string? Email, string? Phone, string? AccountNumber, string? ExternalId);

public sealed record IntakeAttachment([property: Required] string? FileName, string? ContentType, [property: Required] string? ContentBase64);

// [Required]: the normaliser refuses a body without it (400 naming the field); it is read as nullable to say so precisely.
public sealed record IntakeRequest(string? Subject, [property: Required] string? Description, string? Type, string? Priority, [property: Required] IntakeContact? Contact,
    Dictionary<string, string>? TechnicalDetails, List<IntakeAttachment>? Attachments, string? Language);

public sealed record IntakeFollowUp([property: Required] string? Text, [property: Required] IntakeContact? Contact, List<IntakeAttachment>? Attachments);

/// <summary>The body of <c>POST /api/v1/requests/{number}/close</c>: who closes it.</summary>
public sealed record IntakeClose([property: Required] IntakeContact? Contact);

/// <summary>What the intake API answers for a request or a follow-up it took.</summary>
public sealed record IntakeAcceptedDto(string? TicketNumber, string? Status, long? MessageId, bool Duplicate);

/// <summary>A ticket as the product that filed it sees it: no internal notes, no audit trail.</summary>
public sealed record IntakeTicketDto(string TicketNumber, string Status, string? Resolution, IReadOnlyList<SupportGateway.Host.Agents.MessageDto> Messages);

/// <summary>Turns intake API bodies into <see cref="InboundMessage"/>s, naming the field of every problem.</summary>
internal sealed class IntakeNormalizer(IntakeOptions options, AttachmentPolicy policy)
{
    public const string Channel = "api";

    public InboundMessage NewRequest(IntakeRequest body, string externalId)
    {
        if (string.IsNullOrWhiteSpace(body.Description))
            throw Invalid("'description' is required.", "description");
        return new InboundMessage
        {
            Channel = Channel,
            ExternalId = externalId,
            Sender = Sender(body.Contact),
            Hints = new ThreadHints { StartNew = true },
            Subject = body.Subject?.Trim() is { Length: > 0 } subject ? subject : null,
            Text = body.Description.Trim(),
            Attachments = Attachments(body.Attachments),
            Language = body.Language,
            RequestedType = Enum<TicketType>(body.Type, "type"),
            RequestedPriority = Enum<TicketPriority>(body.Priority, "priority"),
            TechnicalDetails = body.TechnicalDetails,
        };
    }

    public InboundMessage FollowUp(string ticketNumber, IntakeFollowUp body, string externalId)
    {
        if (string.IsNullOrWhiteSpace(body.Text))
            throw Invalid("'text' is required.", "text");
        return new InboundMessage
        {
            Channel = Channel,
            ExternalId = externalId,
            Sender = Sender(body.Contact),
            Hints = new ThreadHints { TicketNumber = ticketNumber },
            Text = body.Text.Trim(),
            Attachments = Attachments(body.Attachments),
        };
    }

    /// <summary>The contact's identity on this channel: the product's user id, else the email, else the phone.</summary>
    public static string Identity(IntakeContact? contact)
    {
        if (contact?.ExternalId?.Trim() is { Length: > 0 } id)
            return $"ext:{id}";
        if (contact?.Email?.Trim() is { Length: > 0 } email)
            return email.Contains('@', StringComparison.Ordinal) ? $"email:{email.ToLowerInvariant()}" : throw Invalid($"'{email}' is not an email address.", "contact.email");
        if (contact?.Phone is { } phone && new string([.. phone.Where(c => char.IsAsciiDigit(c) || c == '+')]) is { Length: >= 5 } digits)
            return $"phone:{digits}";
        throw Invalid("'contact' needs at least one of externalId, email or phone, so that answers can reach the person.", "contact");
    }

    private static SenderIdentity Sender(IntakeContact? contact) => new()
    {
        Identity = Identity(contact),
        Name = contact?.Name?.Trim(),
        Email = contact?.Email?.Trim(),
        Phone = contact?.Phone?.Trim(),
        AccountNumber = contact?.AccountNumber?.Trim(),
    };

    /// <summary>Files as the API takes them (base64, within the intake limits); also an agent's reply through the agent API.</summary>
    internal List<InboundAttachment> Attachments(List<IntakeAttachment>? attachments)
    {
        if (attachments is null or [])
            return [];
        if (attachments.Count > options.MaxAttachments)
            throw new ProblemException(Problems.TooLarge($"{attachments.Count} attachments; the limit is {options.MaxAttachments}.", "attachments"));
        var result = new List<InboundAttachment>(attachments.Count);
        for (var i = 0; i < attachments.Count; i++)
        {
            var field = $"attachments[{i}]";
            // JSON lets an array hold null where an object belongs: a missing file, said as such.
            var a = attachments[i] ?? throw Invalid($"{field} is null; a file is an object with fileName and contentBase64.", field);
            if (string.IsNullOrWhiteSpace(a.FileName))
                throw Invalid($"{field}.fileName is required.", $"{field}.fileName");
            if (string.IsNullOrEmpty(a.ContentBase64))
                throw Invalid($"{field}.contentBase64 is required.", $"{field}.contentBase64");
            // Base64 is 4 characters per 3 bytes: refuse an oversized file before decoding it.
            if ((long)a.ContentBase64.Length / 4 * 3 > options.MaxAttachmentBytes + 3)
                throw new ProblemException(Problems.TooLarge($"{field} is over the limit of {options.MaxAttachmentBytes} bytes.", field));
            byte[] content;
            try
            {
                content = Convert.FromBase64String(a.ContentBase64);
            }
            catch (FormatException)
            {
                throw Invalid($"{field}.contentBase64 is not valid base64.", $"{field}.contentBase64");
            }
            if (content.Length > options.MaxAttachmentBytes)
                throw new ProblemException(Problems.TooLarge($"{field} is {content.Length} bytes; the limit is {options.MaxAttachmentBytes}.", field));
            var vetted = policy.Vet(a.FileName, a.ContentType, content);
            if (vetted.Refusal is { } refusal)
                throw new ProblemException(Problems.FileRefused(refusal, field));
            result.Add(new InboundAttachment { FileName = vetted.FileName, ContentType = vetted.ContentType, Content = content });
        }
        return result;
    }

    private static T? Enum<T>(string? value, string field) where T : struct, System.Enum =>
        value is null ? null
        : WireName.TryParse<T>(value, out var parsed) ? parsed
        : throw Invalid($"'{value}' is not a valid {field}; use one of {string.Join(", ", WireName.AllOf<T>())}.", field);

    private static ProblemException Invalid(string detail, string field) => new(Problems.BadRequest(detail, field));
}
