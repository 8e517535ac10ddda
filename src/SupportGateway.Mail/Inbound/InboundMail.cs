using System.Text;
using System.Text.Unicode;
using MimeKit;
using MimeKit.Utils;
using Charsets = SupportGateway.Mail.Mime.Charsets;
using MailAddress = SupportGateway.Mail.Mime.MailAddress;
using MailDate = SupportGateway.Mail.Mime.MailDate;

namespace SupportGateway.Mail.Inbound;

/// <summary>Limits that keep one hostile or broken message from costing much; a message over one is still read.</summary>
public sealed record MailLimits
{
    /// <summary>Larger messages are read for their header fields only (the raw bytes stay stored).</summary>
    public long MaxMessageBytes { get; init; } = 128L * 1024 * 1024;

    /// <summary>MIME nesting deeper than this is kept as opaque leaves (MimeKit's <see cref="ParserOptions.MaxMimeDepth"/>).</summary>
    public int MaxDepth { get; init; } = 64;

    /// <summary>
    /// Bytes of one header field that are decoded. MimeKit spends about 90 ms on a Subject of 3,300 encoded-words;
    /// a field is cut at a word boundary before this many bytes, so decoding stays in the microseconds.
    /// </summary>
    public int MaxHeaderBytes { get; init; } = 8 * 1024;

    /// <summary>Outlook items attached inside winmail.dat nest TNEF in TNEF; deeper than this they stay files.</summary>
    public int MaxTnefDepth { get; init; } = 8;

    /// <summary>
    /// Bytes of TNEF, in all, that one message may have converted; past them winmail.dat stays a file. MimeKit converts in
    /// memory: each level copies its files, and the compressed RTF body inflates up to about 8× (MS-OXRTFCP §2.2.1), so
    /// nested or padded TNEF could otherwise cost many times the message's size.
    /// </summary>
    public long MaxTnefBytes { get; init; } = 32L * 1024 * 1024;

    public static readonly MailLimits Default = new();
}

/// <summary>
/// A received message as the gateway reads it: parsed by MimeKit, with what MimeKit lacks on top — charset recovery
/// from the raw bytes of every text, header decoding bounded by <see cref="MailLimits"/>, HTML to text, TNEF files,
/// and auto-reply and bounce classification. A message MimeKit refuses is read leniently: nothing is lost.
/// </summary>
public sealed partial class InboundMail
{
    private readonly MailLimits _limits;
    private readonly ParserOptions _options;
    private MailBody? _body;
    private string? _subject;
    // The classifier, the normaliser and the threading each ask for the same fields: they are read once.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<HeaderId, IReadOnlyList<MailAddress>> _addresses = new();

    // MimeKit's TNEF reader and the legacy charsets need the code-page encodings, which .NET Core leaves out.
    static InboundMail() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    private InboundMail(MimeMessage message, MailLimits limits, string? lenientReason)
    {
        Message = message;
        _limits = limits;
        _options = Options(limits);
        LenientReason = lenientReason;
    }

    /// <summary>The MimeKit message (for a lenient reading, the one built from what could be read).</summary>
    public MimeMessage Message { get; }

    /// <summary>Why MimeKit's parse was not used as it is, or null when it was.</summary>
    public string? LenientReason { get; }

    public bool IsLenient => LenientReason is not null;

    /// <summary>How <see cref="LenientReason"/> ends when no header block could be read: the text is then every byte.</summary>
    public const string ReadAsText = "the whole message is read as its text";

    public HeaderList Headers => Message.Headers;

    /// <summary>The decoded Subject, bounded by <see cref="MailLimits.MaxHeaderBytes"/>.</summary>
    public string Subject => _subject ??= HeaderText("Subject") ?? "";

    public IReadOnlyList<MailAddress> From => Addresses(HeaderId.From);

    public IReadOnlyList<MailAddress> To => Addresses(HeaderId.To);

    public IReadOnlyList<MailAddress> Cc => Addresses(HeaderId.Cc);

    public IReadOnlyList<MailAddress> Bcc => Addresses(HeaderId.Bcc);

    public IReadOnlyList<MailAddress> ReplyTo => Addresses(HeaderId.ReplyTo);

    public IReadOnlyList<MailAddress> Sender => Addresses(HeaderId.Sender);

    /// <summary>Read by <see cref="MailDate"/>: it knows the named zones Russian mail uses (MSK), which MimeKit reads as UTC.</summary>
    public DateTimeOffset? Date => MailDate.TryParse(HeaderText("Date"), out var date) ? date : null;

    /// <summary>The Message-ID without angle brackets.</summary>
    public string? MessageId => Message.MessageId is { Length: > 0 } id ? id : NullIfBlank(HeaderText("Message-ID"));

    public IReadOnlyList<string> InReplyTo => Ids(HeaderId.InReplyTo);

    public IReadOnlyList<string> References => Ids(HeaderId.References);

    /// <summary>
    /// The unfolded, decoded value of the first field with this name, or null. Only the first
    /// <see cref="MailLimits.MaxHeaderBytes"/> bytes are decoded, cut between words. Raw 8-bit text goes through
    /// <see cref="Charsets"/>, which detects the legacy Cyrillic charsets MimeKit would read as Latin-1.
    /// </summary>
    public string? HeaderText(string field)
    {
        var index = Message.Headers.IndexOf(field);
        return index < 0 ? null : DecodeText(Message.Headers[index].RawValue, _limits.MaxHeaderBytes);
    }

    internal static string DecodeText(byte[] raw, int maxBytes)
    {
        var value = Capped(raw, maxBytes);
        var text = !Ascii.IsValid(value) && value.AsSpan().IndexOf("=?"u8) < 0
            ? Charsets.DecodeUnlabelled(value)
            : Rfc2047.DecodeText(Padded(value));
        return Unfold(text);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"(=\?[^?\s]+\?[Bb]\?)([A-Za-z0-9+/]+)=*(\?=)")]
    private static partial System.Text.RegularExpressions.Regex Base64Word();

    /// <summary>
    /// Base64 encoded-words with wrong padding ("VEVTVA=", seen from webmail forms): MimeKit drops the last quantum,
    /// so the padding is set right before it decodes (RFC 4648 §4: the length is a multiple of four).
    /// </summary>
    private static byte[] Padded(byte[] value)
    {
        if (value.AsSpan().IndexOf("?="u8) < 0)
            return value;
        var text = Encoding.Latin1.GetString(value);
        var fixedText = Base64Word().Replace(text, m => m.Groups[2].Length % 4 == 0 && m.Value.Length == m.Groups[1].Length + m.Groups[2].Length + 2
            ? m.Value
            : m.Groups[1].Value + m.Groups[2].Value + new string('=', (4 - m.Groups[2].Length % 4) % 4) + m.Groups[3].Value);
        return ReferenceEquals(fixedText, text) || fixedText == text ? value : Encoding.Latin1.GetBytes(fixedText);
    }

    private static byte[] Capped(byte[] raw, int maxBytes)
    {
        if (raw.Length <= maxBytes)
            return raw;
        var cut = raw.AsSpan(0, maxBytes).LastIndexOfAny((byte)' ', (byte)'\t');
        return raw[..(cut > 0 ? cut : maxBytes)];
    }

    private static string Unfold(string text) => text.Replace("\r", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal).Trim();

    private IReadOnlyList<MailAddress> Addresses(HeaderId id) => _addresses.GetOrAdd(id, ReadAddresses);

    private IReadOnlyList<MailAddress> ReadAddresses(HeaderId id)
    {
        var all = new List<MailAddress>();
        foreach (var header in Message.Headers.Where(h => h.Id == id))
        {
            var raw = Capped(header.RawValue, _limits.MaxHeaderBytes);
            var eightBit = !Ascii.IsValid(raw);
            foreach (var (name, address) in MailboxList.Read(_options, raw))
                all.Add(new MailAddress(eightBit ? Recovered(name) : name, address));
        }
        return all;
    }

    private IReadOnlyList<string> Ids(HeaderId id)
    {
        var ids = new List<string>();
        foreach (var header in Message.Headers.Where(h => h.Id == id))
            ids.AddRange(MimeUtils.EnumerateReferences(header.RawValue, 0, header.RawValue.Length));
        return [.. ids.Distinct()];
    }

    /// <summary>
    /// Text MimeKit decoded from raw 8-bit bytes: UTF-8 when valid, else Latin-1, so the bytes can be had back and
    /// read by <see cref="Charsets"/> (a windows-1251 or KOI8-R name is not Latin-1).
    /// </summary>
    internal static string Recovered(string text)
    {
        if (Ascii.IsValid(text) || text.Any(c => c > '\u00FF'))
            return text;
        var bytes = Encoding.Latin1.GetBytes(text);
        return Utf8Valid(bytes) ? text : Charsets.DecodeUnlabelled(bytes);
    }

    /// <summary>The bytes MimeKit decoded to <paramref name="text"/> (UTF-8 when valid, else Latin-1).</summary>
    internal static byte[] OriginalBytes(string text)
    {
        if (text.All(c => c <= '\u00FF'))
        {
            var latin1 = Encoding.Latin1.GetBytes(text);
            if (!Utf8Valid(latin1))
                return latin1;
        }
        return Encoding.UTF8.GetBytes(text);
    }

    private static bool Utf8Valid(byte[] bytes) => Utf8.IsValid(bytes);

    private static string? NullIfBlank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private MailBody Body => _body ??= new MailBody(Message, _limits);

    /// <summary>The best plain text: the first non-empty text/plain body part, else the HTML body as text, else a TNEF body.</summary>
    public string Text => Body.Text;

    /// <summary>The first text/html body part, decoded, if any.</summary>
    public string? HtmlBody => Body.Html;

    /// <summary>Whether the message has a text/plain body part of its own.</summary>
    public bool HasPlainText => Body.HasPlainText;

    /// <summary>Files and attached messages, in order; winmail.dat replaced by the files inside it.</summary>
    public IReadOnlyList<MailAttachment> Attachments => Body.Attachments;

    /// <summary>Auto-replies and other automatic mail (RFC 3834 and the headers vendors use instead).</summary>
    public bool IsAutoReply => MessageClassifier.IsAutoSubmitted(this);

    /// <summary>A delivery status report or a recognisable bounce (RFC 3464).</summary>
    public bool IsBounce => MessageClassifier.IsBounce(this);
}
