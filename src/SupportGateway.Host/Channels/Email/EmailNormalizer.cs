using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using SupportGateway.Core.Pipeline;
using SupportGateway.Core.Tickets;
using SupportGateway.Mail.Mime;
using SupportGateway.Mail.Replies;

namespace SupportGateway.Host.Channels.Email;

/// <summary>
/// Turns a stored e-mail (the message exactly as the IMAP server gave it, behind one trace field naming the mailbox)
/// into an <see cref="InboundMessage"/>: sender, subject, the new text of a reply, attachments, threading references
/// (for a bounce, those of the original inside it) and the auto-reply and bounce flags.
/// </summary>
internal sealed partial class EmailNormalizer(IOptionsMonitor<EmailOptions> options) : IInboundNormalizer
{
    public const string Channel = "email";

    /// <summary>The trace field the reader puts before a stored message, as an MTA adds Delivered-To.</summary>
    public const string MailboxField = "X-SG-Mailbox";

    public string Format => Channel;

    /// <summary>The payload to store for a message read from <paramref name="mailbox"/>, and its deduplication key.</summary>
    public static RawInbound ToRaw(string mailbox, byte[] message)
    {
        var parsed = MimeParser.Parse(message);
        // Without a Message-ID, the same bytes are the same message: fetched twice, they dedupe.
        var externalId = parsed.MessageId is { Length: > 0 } id ? id : "sha256:" + Convert.ToHexStringLower(SHA256.HashData(message));
        return new RawInbound(Channel, externalId, Channel, [.. Encoding.ASCII.GetBytes($"{MailboxField}: {mailbox}\r\n"), .. message]);
    }

    public InboundMessage Normalize(RawInbound raw)
    {
        var message = MimeParser.Parse(raw.Payload);
        var mailboxName = message.Headers.Get(MailboxField)?.Trim();
        var mailbox = options.CurrentValue.Find(mailboxName);
        var from = message.From.FirstOrDefault(a => a.Address.Contains('@'))
            ?? MailAddress.ParseList(Encoding.UTF8.GetBytes(message.Headers.Get("Sender") ?? message.Headers.Get("Return-Path") ?? "")).FirstOrDefault(a => a.Address.Contains('@'))
            ?? throw new InvalidDataException("the message has no sender address (From, Sender and Return-Path are empty)");
        var replyTo = message.ReplyTo.FirstOrDefault(a => a.Address.Contains('@'))?.Address ?? from.Address;

        var references = message.InReplyTo.Concat(message.References).ToList();
        if (message.IsBounce)
            references.AddRange(OriginalMessageIds(message));
        // A reply keeps only what its author wrote; a new message (a forward included) keeps everything. Either way
        // the signature under the author's text is kept apart from it.
        var text = message.Text;
        string? signature = null;
        var split = message.IsBounce ? null : ReplyExtractor.FromMessage(message);
        if (split is { Reply.Length: > 0 } && (references.Count > 0 || split.Quote.Length == 0))
            (text, signature) = (split.Reply, split.Signature.Length > 0 ? split.Signature : null);

        return new InboundMessage
        {
            Channel = Channel,
            Account = mailbox?.Name ?? mailboxName,
            ExternalId = raw.ExternalId,
            Sender = new SenderIdentity
            {
                Identity = from.Address.ToLowerInvariant(),
                Name = from.Name.Length > 0 ? from.Name : null,
                Email = from.Address,
                AccountNumber = mailbox?.Organisation,
            },
            Hints = new ThreadHints { ReplyTo = [.. references.Distinct()], ReplyAddress = replyTo },
            Recipients = [.. message.To.Concat(message.Cc).Select(a => a.Address).Where(a => a.Contains('@'))],
            CopiedTo = [.. message.To.Concat(message.Cc).Select(a => a.Address.ToLowerInvariant()).Where(a => a.Contains('@') && !IsOurs(a))],
            Subject = message.Subject,
            Text = text.Trim(),
            Html = HtmlSanitizing.Sanitize(message.HtmlBody),
            Signature = signature,
            Attachments = [.. message.Attachments.Select(Attachment)],
            RequestedType = mailbox?.DefaultType,
            RequestedPriority = mailbox?.DefaultPriority,
            IsAutoSubmitted = message.IsAutoReply,
            IsBounce = message.IsBounce,
            SentAt = message.Date,
            Verdict = ClosesRequest(text) ? CustomerVerdict.Closes : CustomerVerdict.None,
        };
    }

    /// <summary>One of our mailboxes, plus-addresses included: support+anything@domain is support@domain.</summary>
    private bool IsOurs(string address)
    {
        var at = address.IndexOf('@');
        var local = address[..at];
        var plus = local.IndexOf('+');
        var bare = (plus < 0 ? local : local[..plus]) + address[at..];
        return options.CurrentValue.Mailboxes.Any(m => string.Equals(m.Address, bare, StringComparison.OrdinalIgnoreCase)
            || string.Equals(m.Address, address, StringComparison.OrdinalIgnoreCase));
    }

    private static InboundAttachment Attachment(MimeEntity entity) => new()
    {
        FileName = entity.FileName ?? (entity.EmbeddedMessage is not null ? "message.eml" : "attachment"),
        ContentType = entity.ContentType.MimeType,
        Content = entity.DecodedContent(),
        ContentId = entity.ContentId,
        Inline = entity.Disposition?.IsInline == true,
    };

    /// <summary>The Message-IDs of the mail a bounce is about: the returned message or its headers, or a quoted Message-ID line.</summary>
    private static IEnumerable<string> OriginalMessageIds(MimeMessage bounce)
    {
        foreach (var entity in bounce.Root.Walk())
        {
            if (entity.EmbeddedMessage?.Headers.Get("Message-ID") is { } embedded)
                yield return embedded.Trim().Trim('<', '>');
            else if (entity.ContentType.Is("text", "rfc822-headers") && MimeParser.Parse(entity.DecodedContent()).MessageId is { } returned)
                yield return returned;
        }
        foreach (Match match in QuotedMessageId().Matches(bounce.Text))
            yield return match.Groups[1].Value;
    }

    [GeneratedRegex(@"^\s*Message-ID:\s*<([^<>\s]+)>", RegexOptions.IgnoreCase | RegexOptions.Multiline)]
    private static partial Regex QuotedMessageId();

    /// <summary>A customer closes their request with a reply whose first line is <c>#close</c> or <c>#закрыть</c>.</summary>
    internal static bool ClosesRequest(string text)
    {
        var first = text.AsSpan().TrimStart();
        var end = first.IndexOfAny('\r', '\n');
        var line = (end < 0 ? first : first[..end]).Trim();
        return line.Equals("#close", StringComparison.OrdinalIgnoreCase) || line.Equals("#закрыть", StringComparison.OrdinalIgnoreCase);
    }
}
