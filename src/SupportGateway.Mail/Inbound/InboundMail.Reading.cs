using System.Text;
using MimeKit;
using MimeKit.Utils;

namespace SupportGateway.Mail.Inbound;

/// <summary>
/// Reading: MimeKit's parse, and the lenient readings for what it refuses or misreads, so that nothing a customer
/// wrote is lost.
/// </summary>
public sealed partial class InboundMail
{
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
}
