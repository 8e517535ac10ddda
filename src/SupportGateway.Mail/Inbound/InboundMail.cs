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

    /// <summary>Reads a message; never throws on its content.</summary>
    public static InboundMail Read(ReadOnlyMemory<byte> raw, MailLimits? limits = null)
    {
        limits ??= MailLimits.Default;
        var options = Options(limits);
        if (raw.Length > limits.MaxMessageBytes)
            return HeadersOnly(raw, options, limits);
        var original = raw;
        raw = WithLineFeeds(raw);
        if (TryParse(raw, options, out var message, out var error))
        {
            // A header block that runs into its body without the blank line (RFC 5322 §2.1): MimeKit keeps the first
            // body lines as broken fields. Read again with the blank line where the fields end, so no text is lost.
            if (BodyLinesAmongFields(message) is { Count: > 0 } starts && TryParse(WithBlankLines(raw, starts), options, out var repaired, out _))
                return new InboundMail(Repaired(repaired, options), limits, $"{starts.Count} header block(s) without the blank line before the body");
            return new InboundMail(Repaired(message, options), limits, null);
        }
        // Mailers and scripts put blank or space-only lines before the header block; MimeKit refuses them (RFC 5322
        // §2.1 has the header first). Without them the rest may be a well-formed message.
        var start = AfterBlankLines(raw.Span);
        if (start > 0 && start < raw.Length && TryParse(raw[start..], options, out message, out _))
            return new InboundMail(Repaired(message, options), limits, $"{error}; read after {start} bytes of blank lines");
        return new InboundMail(TextOnly(original), limits, $"{error}; {ReadAsText}");
    }

    /// <summary>The Message-ID of a message, reading only its header block (for deduplication before it is stored).</summary>
    public static string? ReadMessageId(ReadOnlyMemory<byte> raw)
    {
        var start = AfterBlankLines(raw.Span);
        try
        {
            using var stream = ReadOnlyStream(raw[start..]);
            var headers = new MimeParser(Options(MailLimits.Default), stream).ParseHeaders();
            return headers[HeaderId.MessageId] is { } value ? MimeUtils.EnumerateReferences(value).FirstOrDefault() ?? NullIfBlank(value) : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static ParserOptions Options(MailLimits limits) => new()
    {
        // Loose modes are MimeKit's defaults; they are named here because the gateway depends on them.
        AddressParserComplianceMode = RfcComplianceMode.Loose,
        ParameterComplianceMode = RfcComplianceMode.Loose,
        Rfc2047ComplianceMode = RfcComplianceMode.Loose,
        // RFC 5322 §3.4.1: an address has a domain; "Bcc: Array" names nobody.
        AllowAddressesWithoutDomain = false,
        // Content-Length lies as often as not (RFC 2045 does not define it for Internet mail).
        RespectContentLength = false,
        MaxMimeDepth = limits.MaxDepth,
    };

    private static bool TryParse(ReadOnlyMemory<byte> raw, ParserOptions options, out MimeMessage message, out string error)
    {
        try
        {
            // Persistent: parts are slices of this buffer, decoded only when read.
            var stream = ReadOnlyStream(raw);
            message = new MimeParser(options, stream, persistent: true).ParseMessage();
            error = "";
            return true;
        }
        catch (FormatException ex)
        {
            message = null!;
            error = $"MimeKit: {ex.Message}";
            return false;
        }
    }

    private static MimeMessage Repaired(MimeMessage message, ParserOptions options)
    {
        var body = MimeRepair.Repair(message.Body, options, 0);
        if (!ReferenceEquals(body, message.Body))
            message.Body = body;
        return message;
    }

    /// <summary>
    /// Where each header block's trailing run of lines that are not fields begins. MimeKit keeps such a line as a
    /// header whose text is the whole line (its ToString has no ": "); one followed by real fields is a bogus field
    /// and stays where it is.
    /// </summary>
    private static List<long> BodyLinesAmongFields(MimeMessage message)
    {
        var starts = new List<long>();
        foreach (var headers in new[] { message.Headers }.Concat(MailParts.Walk(message.Body).Select(e => e is MessagePart { Message: { } m } ? m.Headers : e.Headers).Prepend(message.Body?.Headers)))
        {
            if (headers is null || headers.Count == 0)
                continue;
            var first = headers.Count;
            while (first > 0 && IsNotAField(headers[first - 1]))
                first--;
            if (first < headers.Count && headers[first].Offset is { } offset)
                starts.Add(offset);
        }
        return [.. starts.Distinct().Order()];
    }

    /// <summary>ToString decodes a real field's value: a long one (thousands of encoded-words) is a field anyway.</summary>
    private static bool IsNotAField(Header header) =>
        header.RawValue.Length <= 256 && header.ToString() == header.Field;

    private static byte[] WithBlankLines(ReadOnlyMemory<byte> raw, List<long> starts)
    {
        var span = raw.Span;
        using var output = new MemoryStream(raw.Length + starts.Count * 2);
        var from = 0;
        foreach (var start in starts.Where(s => s > 0 && s <= raw.Length).Select(s => (int)s))
        {
            output.Write(span[from..start]);
            output.Write(start >= 2 && span[start - 2] == '\r' ? "\r\n"u8 : "\n"u8);
            from = start;
        }
        output.Write(span[from..]);
        return output.ToArray();
    }

    /// <summary>A read-only stream over the bytes, without copying them when they are a whole or part of an array.</summary>
    private static MemoryStream ReadOnlyStream(ReadOnlyMemory<byte> raw) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(raw, out var segment) && segment.Array is { } array
            ? new MemoryStream(array, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(raw.ToArray(), writable: false);

    private static InboundMail HeadersOnly(ReadOnlyMemory<byte> raw, ParserOptions options, MailLimits limits)
    {
        var message = new MimeMessage();
        message.Headers.Clear();
        try
        {
            using var stream = ReadOnlyStream(raw[AfterBlankLines(raw.Span)..]);
            foreach (var header in new MimeParser(options, stream).ParseHeaders())
                message.Headers.Add(header);
        }
        catch (FormatException)
        {
            // No readable header block: the ticket still gets the stored message, by its size.
        }
        return new InboundMail(message, limits, $"the message is larger than {limits.MaxMessageBytes} bytes; only its header fields are read");
    }

    /// <summary>A message of one text part holding every byte: for input with no header block at all.</summary>
    private static MimeMessage TextOnly(ReadOnlyMemory<byte> raw)
    {
        var message = new MimeMessage();
        message.Headers.Clear();
        message.Body = new TextPart("plain") { Content = new MimeContent(new MemoryStream(raw.ToArray(), writable: false)) };
        return message;
    }

    /// <summary>
    /// A message without a single LF ends its lines in bare CR (classic Mac OS mail); MimeKit ends lines only at LF,
    /// so those CRs become CRLF. Any other message is left as it is.
    /// </summary>
    private static ReadOnlyMemory<byte> WithLineFeeds(ReadOnlyMemory<byte> raw)
    {
        var span = raw.Span;
        if (span.IndexOf((byte)'\n') >= 0 || span.IndexOf((byte)'\r') < 0)
            return raw;
        var output = new byte[raw.Length + span.Count((byte)'\r')];
        var length = 0;
        foreach (var b in span)
        {
            output[length++] = b;
            if (b == '\r')
                output[length++] = (byte)'\n';
        }
        return output;
    }

    /// <summary>The offset after leading lines that hold only white space.</summary>
    private static int AfterBlankLines(ReadOnlySpan<byte> span)
    {
        var start = 0;
        while (true)
        {
            var end = span[start..].IndexOf((byte)'\n');
            if (end < 0 || !span.Slice(start, end).Trim(" \t\r"u8).IsEmpty)
                return start;
            start += end + 1;
        }
    }

    public HeaderList Headers => Message.Headers;

    /// <summary>The decoded Subject, bounded by <see cref="MailLimits.MaxHeaderBytes"/>.</summary>
    public string Subject => HeaderText("Subject") ?? "";

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

    private IReadOnlyList<MailAddress> Addresses(HeaderId id)
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
