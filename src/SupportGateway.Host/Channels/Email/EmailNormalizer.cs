using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using MimeKit;
using SupportGateway.Core.Pipeline;
using SupportGateway.Core.Tickets;
using SupportGateway.Mail.Inbound;
using SupportGateway.Mail.Replies;
using HtmlSanitizing = SupportGateway.Mail.Mime.HtmlSanitizing;

namespace SupportGateway.Host.Channels.Email;

/// <summary>
/// Turns a stored e-mail (the message exactly as the IMAP server gave it, behind one trace field naming the mailbox)
/// into an <see cref="InboundMessage"/>: sender, subject, the new text of a reply, attachments, threading references
/// (for a bounce, those of the original inside it) and the auto-reply and bounce flags. The work is done in
/// <see cref="PrepareAsync"/>, before the ingest transaction, so that decoding one heavy message never holds the
/// single writer; <see cref="Normalize"/> only does it itself for a payload that was not prepared (a replay).
/// </summary>
internal sealed partial class EmailNormalizer(IOptionsMonitor<EmailOptions> options) : IInboundNormalizer
{
    public const string Channel = "email";

    /// <summary>The trace field the reader puts before a stored message, as an MTA adds Delivered-To.</summary>
    public const string MailboxField = "X-SG-Mailbox";

    private readonly ConditionalWeakTable<RawInbound, InboundMessage> _prepared = [];

    public string Format => Channel;

    /// <summary>The payload to store for a message read from <paramref name="mailbox"/>, and its deduplication key.</summary>
    public static RawInbound ToRaw(string mailbox, byte[] message)
    {
        // Without a Message-ID, the same bytes are the same message: fetched twice, they dedupe.
        var externalId = InboundMail.ReadMessageId(message) is { Length: > 0 } id ? id : "sha256:" + Convert.ToHexStringLower(SHA256.HashData(message));
        return new RawInbound(Channel, externalId, Channel, [.. Encoding.ASCII.GetBytes($"{MailboxField}: {mailbox}\r\n"), .. message]);
    }

    public ValueTask PrepareAsync(RawInbound raw, CancellationToken cancellationToken)
    {
        _prepared.AddOrUpdate(raw, Read(raw));
        return ValueTask.CompletedTask;
    }

    public InboundMessage Normalize(RawInbound raw) => _prepared.TryGetValue(raw, out var prepared) && _prepared.Remove(raw) ? prepared : Read(raw);

    private InboundMessage Read(RawInbound raw)
    {
        var (mailboxName, stored) = SplitTrace(raw.Payload);
        var message = InboundMail.Read(stored);
        var mailbox = options.CurrentValue.Find(mailboxName);
        var from = message.From.FirstOrDefault(a => a.Address.Contains('@'))
            ?? message.Sender.FirstOrDefault(a => a.Address.Contains('@'))
            ?? ReturnPath(message)
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

    /// <summary>
    /// The mailbox named by the trace field <see cref="ToRaw"/> put first, and the message as the server gave it: read
    /// apart, so a message MimeKit refuses as it is (blank lines before its header) is read the same with or without it.
    /// </summary>
    private static (string? Mailbox, ReadOnlyMemory<byte> Message) SplitTrace(byte[] payload)
    {
        var prefix = Encoding.ASCII.GetBytes(MailboxField + ":");
        var end = payload.AsSpan().IndexOf("\r\n"u8);
        if (end < 0 || !payload.AsSpan().StartsWith(prefix))
            return (null, payload);
        return (Encoding.UTF8.GetString(payload.AsSpan(prefix.Length, end - prefix.Length)).Trim(), payload.AsMemory(end + 2));
    }

    /// <summary>Return-Path (RFC 5321 §4.4) when From and Sender name no address.</summary>
    private static SupportGateway.Mail.Mime.MailAddress? ReturnPath(InboundMail message) =>
        message.HeaderText("Return-Path") is { } path && MailboxAddress.TryParse(path, out var mailbox) && mailbox.Address.Contains('@')
            ? new SupportGateway.Mail.Mime.MailAddress(mailbox.Name ?? "", mailbox.Address)
            : null;

    private static InboundAttachment Attachment(MailAttachment attachment) => new()
    {
        FileName = attachment.FileName ?? (attachment.IsMessage ? "message.eml" : "attachment"),
        ContentType = attachment.ContentType,
        Content = attachment.Content,
        ContentId = attachment.ContentId,
        Inline = attachment.Inline,
    };

    /// <summary>
    /// The Message-IDs of the mail a bounce is about: the returned message or its headers (MimeKit reads
    /// text/rfc822-headers as a message part too), or a quoted Message-ID line.
    /// </summary>
    private static IEnumerable<string> OriginalMessageIds(InboundMail bounce)
    {
        foreach (var entity in MailParts.Walk(bounce.Message.Body))
        {
            if (entity is MessagePart { Message.MessageId: { Length: > 0 } returned })
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
