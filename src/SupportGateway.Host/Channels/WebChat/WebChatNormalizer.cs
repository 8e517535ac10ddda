using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using SupportGateway.Core.Attachments;
using SupportGateway.Core.Pipeline;
using SupportGateway.Core.Tickets;
using SupportGateway.Host.Http;

namespace SupportGateway.Host.Channels.WebChat;

/// <summary>Turns widget form posts into <see cref="InboundMessage"/>s.</summary>
internal sealed class WebChatNormalizer(WebChatOptions options, AttachmentPolicy policy)
{
    public const string Channel = "webchat";

    /// <summary>The visitor's identity: a hash of the unguessable token, so the token itself is never stored.</summary>
    public static string VisitorOf(string token) =>
        "v:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)))[..40];

    // Checked on every web-chat request by the abuse limits too, so without allocating.
    private static readonly SearchValues<char> TokenCharacters =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    public static bool IsWellFormedToken(string? token) =>
        token is { Length: >= 32 and <= 128 } && !token.AsSpan().ContainsAnyExcept(TokenCharacters);

    public async Task<InboundMessage> NewRequestAsync(IFormCollection form, string visitor, CancellationToken cancellationToken)
    {
        var description = Text(form, "description");
        var email = form["email"].ToString().Trim();
        if (email.Length > 0 && !email.Contains('@', StringComparison.Ordinal))
            throw new ProblemException(Problems.BadRequest($"'{email}' is not an email address.", "email"));
        var type = form["type"].ToString();
        TicketType? requestedType = null;
        if (type.Length > 0)
            requestedType = WireName.TryParse<TicketType>(type, out var parsed)
                ? parsed
                : throw new ProblemException(Problems.BadRequest($"'{type}' is not a request type.", "type"));
        return new InboundMessage
        {
            Channel = Channel,
            ExternalId = ExternalId(form, visitor),
            Sender = new SenderIdentity { Identity = visitor, Name = NullIfEmpty(form["name"]), Email = NullIfEmpty(email) },
            Hints = new ThreadHints { StartNew = true, ReplyAddress = visitor },
            Text = description,
            Language = NullIfEmpty(form["lang"]),
            RequestedType = requestedType,
            Attachments = await AttachmentsAsync(form, cancellationToken),
        };
    }

    public async Task<InboundMessage> FollowUpAsync(IFormCollection form, string visitor, string ticketNumber, CancellationToken cancellationToken) => new()
    {
        Channel = Channel,
        ExternalId = ExternalId(form, visitor),
        Sender = new SenderIdentity { Identity = visitor },
        Hints = new ThreadHints { TicketNumber = ticketNumber, ReplyAddress = visitor },
        Text = Text(form, "text"),
        Language = NullIfEmpty(form["lang"]),
        Attachments = await AttachmentsAsync(form, cancellationToken),
        // The resolution notice's buttons: the customer's answer to it, whatever the button's label says.
        Verdict = form["verdict"].ToString() switch
        {
            "confirms" => CustomerVerdict.Confirms,
            "rejects" => CustomerVerdict.Rejects,
            "" => CustomerVerdict.None,
            var other => throw new ProblemException(Problems.BadRequest($"'{other}' is not a verdict; use confirms or rejects.", "verdict")),
        },
    };

    private string Text(IFormCollection form, string field)
    {
        var text = form[field].ToString().Trim();
        if (text.Length == 0)
            throw new ProblemException(Problems.BadRequest($"'{field}' is required.", field));
        if (text.Length > options.MaxTextLength)
            throw new ProblemException(Problems.TooLarge($"'{field}' is {text.Length} characters; the limit is {options.MaxTextLength}.", field));
        return text;
    }

    private async Task<IReadOnlyList<InboundAttachment>> AttachmentsAsync(IFormCollection form, CancellationToken cancellationToken)
    {
        if (form.Files.Count > options.MaxAttachments)
            throw new ProblemException(Problems.TooLarge($"{form.Files.Count} files; the limit is {options.MaxAttachments}.", "files"));
        var result = new List<InboundAttachment>();
        foreach (var file in form.Files)
        {
            if (file.Length > options.MaxAttachmentBytes)
                throw new ProblemException(Problems.TooLarge($"'{file.FileName}' is {file.Length} bytes; the limit is {options.MaxAttachmentBytes}.", "files"));
            using var buffer = new MemoryStream((int)file.Length);
            await file.CopyToAsync(buffer, cancellationToken);
            var content = buffer.ToArray();
            var vetted = policy.Vet(file.FileName, file.ContentType, content);
            if (vetted.Refusal is { } refusal)
                throw new ProblemException(Problems.FileRefused(refusal, "files"));
            result.Add(new InboundAttachment { FileName = vetted.FileName, ContentType = vetted.ContentType, Content = content });
        }
        return result;
    }

    /// <summary>The widget sends a fresh id per submit, so a retried post is recognised as the same message.</summary>
    /// Scoped to the visitor: one visitor's id can never reveal another visitor's ticket.
    private static string ExternalId(IFormCollection form, string visitor) =>
        form["clientId"].ToString() is { Length: >= 8 and <= 64 } id && id.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')
            ? $"{visitor}:{id}"
            : $"auto:{Guid.CreateVersion7():N}";

    private static string? NullIfEmpty(Microsoft.Extensions.Primitives.StringValues value) =>
        value.ToString().Trim() is { Length: > 0 } text ? text : null;
}
