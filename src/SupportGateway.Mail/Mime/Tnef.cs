using System.Buffers.Binary;
using System.Text;

namespace SupportGateway.Mail.Mime;

/// <summary>A file carried inside a TNEF stream (winmail.dat).</summary>
public sealed record TnefAttachment(string FileName, string ContentType, byte[] Content, string? ContentId, bool Inline);

/// <summary>What a TNEF stream carries: the message's bodies and its attachments.</summary>
public sealed class TnefMessage
{
    public string? Subject { get; internal set; }

    /// <summary>PR_BODY, the plain text body.</summary>
    public string? Body { get; internal set; }

    /// <summary>PR_BODY_HTML.</summary>
    public string? HtmlBody { get; internal set; }

    /// <summary>PR_RTF_COMPRESSED, decompressed (MS-OXRTFCP).</summary>
    public byte[]? RtfBody { get; internal set; }

    public List<TnefAttachment> Attachments { get; } = [];

    /// <summary>False when the stream ended early or held garbage; what came before is still here.</summary>
    public bool Complete { get; internal set; } = true;
}

/// <summary>
/// Reads Outlook's Transport Neutral Encapsulation Format (MS-OXTNEF), which Outlook and Exchange send as
/// application/ms-tnef "winmail.dat" and which hides the real attachments from every other mail client. Lenient: a
/// damaged stream yields what was read before the damage.
/// </summary>
public static class TnefReader
{
    private const uint Signature = 0x223E9F78;

    // Attribute ids (MS-OXTNEF §2.1.3.2): the low word is the id, the high word the attribute's type.
    private const ushort AttSubject = 0x8004;
    private const ushort AttBody = 0x800C;
    private const ushort AttAttachData = 0x800F;
    private const ushort AttAttachTitle = 0x8010;
    private const ushort AttAttachRenderData = 0x9002;
    private const ushort AttMsgProps = 0x9003;
    private const ushort AttAttachment = 0x9005;
    private const ushort AttOemCodepage = 0x9007;

    // MAPI property ids (MS-OXPROPS).
    private const ushort PrSubject = 0x0037;
    private const ushort PrBody = 0x1000;
    private const ushort PrRtfCompressed = 0x1009;
    private const ushort PrBodyHtml = 0x1013;
    private const ushort PrDisplayName = 0x3001;
    private const ushort PrAttachData = 0x3701;
    private const ushort PrAttachFilename = 0x3704;
    private const ushort PrAttachMethod = 0x3705;
    private const ushort PrAttachLongFilename = 0x3707;
    private const ushort PrAttachMimeTag = 0x370E;
    private const ushort PrAttachContentId = 0x3712;
    private const ushort PrAttachFlags = 0x3714;
    private const ushort PrInternetCodepage = 0x3FDE;

    private const int AttachEmbeddedMessage = 5;
    private const int AttachRenderedInBody = 4;

    public static bool IsTnef(ReadOnlySpan<byte> data) => data.Length >= 6 && BinaryPrimitives.ReadUInt32LittleEndian(data) == Signature;

    /// <summary>Reads a TNEF stream; null when it does not start with the TNEF signature.</summary>
    public static TnefMessage? Read(ReadOnlySpan<byte> data) => Read(data, depth: 0);

    /// <summary>Attached Outlook items nest TNEF in TNEF; deeper than this they stay opaque files.</summary>
    private const int MaxDepth = 8;

    private static TnefMessage? Read(ReadOnlySpan<byte> data, int depth)
    {
        if (!IsTnef(data))
            return null;
        var message = new TnefMessage();
        var encoding = Charsets.Find("windows-1252")!;
        Pending? attachment = null;
        var position = 6;
        while (position < data.Length)
        {
            // Level (1), id (4), length (4), data, checksum (2).
            if (data.Length - position < 9)
            {
                message.Complete = false;
                break;
            }
            var level = data[position];
            var id = (ushort)BinaryPrimitives.ReadUInt32LittleEndian(data[(position + 1)..]);
            var length = BinaryPrimitives.ReadUInt32LittleEndian(data[(position + 5)..]);
            if (level is not (1 or 2) || length > data.Length - position - 11)
            {
                message.Complete = false;
                break;
            }
            var value = data.Slice(position + 9, (int)length);
            position += 9 + (int)length + 2;

            switch (id)
            {
                case AttOemCodepage when value.Length >= 4:
                    encoding = Codepage(BinaryPrimitives.ReadInt32LittleEndian(value)) ?? encoding;
                    break;
                case AttSubject when level == 1:
                    message.Subject ??= CString(value, encoding);
                    break;
                case AttBody when level == 1:
                    message.Body ??= CString(value, encoding);
                    break;
                case AttMsgProps:
                    ReadProperties(value, ref encoding, (tag, v) => MessageProperty(message, tag, v));
                    break;
                case AttAttachRenderData:
                    Finish(message, attachment, depth);
                    attachment = new Pending();
                    break;
                case AttAttachTitle when attachment is not null:
                    attachment.Title = CString(value, encoding);
                    break;
                case AttAttachData when attachment is not null:
                    attachment.Data = value.ToArray();
                    break;
                case AttAttachment when attachment is not null:
                    ReadProperties(value, ref encoding, (tag, v) => AttachmentProperty(attachment, tag, v));
                    break;
            }
        }
        Finish(message, attachment, depth);
        return message;
    }

    private static void MessageProperty(TnefMessage message, ushort id, PropertyValue value)
    {
        switch (id)
        {
            case PrSubject:
                message.Subject ??= value.Text;
                break;
            case PrBody:
                message.Body ??= value.Text;
                break;
            case PrBodyHtml:
                // Outlook stores the HTML body as binary in the message's own charset.
                message.HtmlBody ??= value.Text ?? (value.Bytes is { } html ? Charsets.Decode(html, null) : null);
                break;
            case PrRtfCompressed when value.Bytes is { } rtf:
                message.RtfBody ??= CompressedRtf.Decompress(rtf);
                break;
        }
    }

    private static void AttachmentProperty(Pending attachment, ushort id, PropertyValue value)
    {
        switch (id)
        {
            case PrAttachLongFilename:
                attachment.LongName = value.Text;
                break;
            case PrAttachFilename:
                attachment.ShortName = value.Text;
                break;
            case PrDisplayName:
                attachment.DisplayName = value.Text;
                break;
            case PrAttachMimeTag:
                attachment.MimeType = value.Text;
                break;
            case PrAttachContentId:
                attachment.ContentId = value.Text;
                break;
            case PrAttachMethod:
                attachment.Method = value.Number;
                break;
            case PrAttachFlags:
                attachment.Flags = value.Number;
                break;
            case PrAttachData when value.Bytes is { } bytes:
                // An object (an embedded message) starts with its interface's 16-byte GUID.
                attachment.Data = value.IsObject && bytes.Length >= 16 ? bytes[16..] : bytes;
                break;
        }
    }

    private static void Finish(TnefMessage message, Pending? attachment, int depth)
    {
        if (attachment?.Data is not { } data)
            return;
        var embedded = attachment.Method == AttachEmbeddedMessage;
        var name = new[] { attachment.LongName, attachment.ShortName, attachment.Title, attachment.DisplayName }
            .FirstOrDefault(n => !string.IsNullOrWhiteSpace(n))?.Trim() ?? (embedded ? "message.tnef" : "attachment");
        if (embedded && depth < MaxDepth && Read(data, depth + 1) is { } inner)
        {
            // An attached Outlook item is itself TNEF: its text becomes a .txt file and its files join ours.
            var text = inner.Body is { Length: > 0 } body ? body : inner.HtmlBody is { Length: > 0 } html ? HtmlText.ToText(html) : null;
            if (text is not null)
                message.Attachments.Add(new TnefAttachment((inner.Subject is { Length: > 0 } subject ? Safe(subject) : name) + ".txt", "text/plain; charset=utf-8", Encoding.UTF8.GetBytes(text), null, false));
            message.Attachments.AddRange(inner.Attachments);
            if (text is not null || inner.Attachments.Count > 0)
                return;
        }
        var type = attachment.MimeType is { } mime && mime.Contains('/') ? mime.Trim().ToLowerInvariant()
            : embedded ? "application/ms-tnef" : "application/octet-stream";
        message.Attachments.Add(new TnefAttachment(name, type, data, attachment.ContentId?.Trim('<', '>', ' '), (attachment.Flags & AttachRenderedInBody) != 0));
    }

    private delegate void PropertySink(ushort id, PropertyValue value);

    /// <summary>One property's value: text for string types, bytes for binary and object, a number for integers.</summary>
    private readonly record struct PropertyValue(string? Text, byte[]? Bytes, int Number, bool IsObject);

    /// <summary>A MAPI property list (MS-OXTNEF §2.1.3.4): a count, then tag, optional name, and value(s) per property.</summary>
    private static void ReadProperties(ReadOnlySpan<byte> data, ref Encoding encoding, PropertySink sink)
    {
        if (data.Length < 4)
            return;
        var count = BinaryPrimitives.ReadUInt32LittleEndian(data);
        var position = 4;
        for (var i = 0; i < count && position + 4 <= data.Length; i++)
        {
            var type = BinaryPrimitives.ReadUInt16LittleEndian(data[position..]);
            var id = BinaryPrimitives.ReadUInt16LittleEndian(data[(position + 2)..]);
            position += 4;
            if (id >= 0x8000)
            {
                // A named property: GUID, kind, then a numeric id or a padded UTF-16 name.
                if (position + 20 > data.Length)
                    return;
                var kind = BinaryPrimitives.ReadUInt32LittleEndian(data[(position + 16)..]);
                position += 20;
                if (kind == 1)
                {
                    if (position + 4 > data.Length)
                        return;
                    var nameLength = BinaryPrimitives.ReadUInt32LittleEndian(data[position..]);
                    if (nameLength > data.Length - position - 4)
                        return;
                    position += 4 + Pad((int)nameLength);
                }
                else
                {
                    position += 4;
                }
            }
            var multi = (type & 0x1000) != 0;
            var baseType = (ushort)(type & 0x0FFF);
            var variable = baseType is 0x001E or 0x001F or 0x0102 or 0x000D or 0x00FB;
            var values = 1;
            if (multi || variable)
            {
                if (position + 4 > data.Length)
                    return;
                values = (int)BinaryPrimitives.ReadUInt32LittleEndian(data[position..]);
                position += 4;
            }
            for (var v = 0; v < values; v++)
            {
                if (variable)
                {
                    if (position + 4 > data.Length)
                        return;
                    var size = BinaryPrimitives.ReadUInt32LittleEndian(data[position..]);
                    position += 4;
                    if (size > data.Length - position)
                        return;
                    var bytes = data.Slice(position, (int)size);
                    position += Pad((int)size);
                    if (v > 0)
                        continue;
                    var value = baseType switch
                    {
                        0x001F => new PropertyValue(Encoding.Unicode.GetString(bytes).TrimEnd('\0'), null, 0, false),
                        0x001E => new PropertyValue(CString(bytes, encoding), null, 0, false),
                        _ => new PropertyValue(null, bytes.ToArray(), 0, baseType == 0x000D),
                    };
                    sink(id, value);
                    continue;
                }
                var width = baseType switch
                {
                    0x0002 or 0x0003 or 0x0004 or 0x000A or 0x000B => 4,
                    0x0005 or 0x0006 or 0x0007 or 0x0014 or 0x0040 => 8,
                    0x0048 => 16,
                    _ => -1,
                };
                if (width < 0 || position + width > data.Length)
                    return;
                if (v == 0 && width == 4)
                {
                    var number = BinaryPrimitives.ReadInt32LittleEndian(data[position..]);
                    if (id == PrInternetCodepage)
                        encoding = Codepage(number) ?? encoding;
                    sink(id, new PropertyValue(null, null, number, false));
                }
                position += width;
            }
        }
    }

    private static string Safe(string name) => string.Concat(name.Select(c => Path.GetInvalidFileNameChars().Contains(c) || c is ':' or '*' or '?' or '"' or '<' or '>' or '|' or '\\' ? '_' : c)).Trim();

    private static int Pad(int size) => (size + 3) & ~3;

    private static string CString(ReadOnlySpan<byte> bytes, Encoding encoding)
    {
        var end = bytes.IndexOf((byte)0);
        return encoding.GetString(end < 0 ? bytes : bytes[..end]);
    }

    private static Encoding? Codepage(int codepage)
    {
        try
        {
            return codepage > 0 ? Encoding.GetEncoding(codepage) : null;
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException)
        {
            return null;
        }
    }

    private sealed class Pending
    {
        public string? LongName, ShortName, Title, DisplayName, MimeType, ContentId;
        public int Method, Flags;
        public byte[]? Data;
    }
}

/// <summary>Compressed RTF (MS-OXRTFCP): a 16-byte header, then LZ77 runs over a 4 KB dictionary that starts with a fixed RTF prefix.</summary>
internal static class CompressedRtf
{
    private const uint Compressed = 0x75465A4C; // "LZFu"
    private const uint Uncompressed = 0x414C454D; // "MELA"

    private static readonly byte[] Prefix = Encoding.ASCII.GetBytes(
        "{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman \\fswiss \\fmodern \\fscript \\fdecor MS Sans SerifSymbolArialTimes New RomanCourier{\\colortbl\\red0\\green0\\blue0\r\n\\par \\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx");

    public static byte[]? Decompress(ReadOnlySpan<byte> data)
    {
        if (data.Length < 16)
            return null;
        var compressedSize = BinaryPrimitives.ReadUInt32LittleEndian(data);
        var rawSize = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
        var kind = BinaryPrimitives.ReadUInt32LittleEndian(data[8..]);
        var end = (int)Math.Min(data.Length, 4L + compressedSize);
        if (kind == Uncompressed)
            return data[16..(int)Math.Min(data.Length, 16L + rawSize)].ToArray();
        if (kind != Compressed)
            return null;

        var dictionary = new byte[4096];
        Prefix.CopyTo(dictionary, 0);
        var write = Prefix.Length;
        var output = new List<byte>((int)Math.Min(rawSize, 9L * data.Length));
        var position = 16;
        while (position < end)
        {
            var control = data[position++];
            for (var bit = 0; bit < 8 && position < end; bit++)
            {
                if ((control & (1 << bit)) == 0)
                {
                    var literal = data[position++];
                    output.Add(literal);
                    dictionary[write] = literal;
                    write = (write + 1) & 0xFFF;
                    continue;
                }
                if (position + 1 >= end)
                    return [.. output];
                var reference = (data[position] << 8) | data[position + 1];
                position += 2;
                var offset = reference >> 4;
                if (offset == write)
                    return [.. output];
                for (var i = 0; i < (reference & 0xF) + 2; i++)
                {
                    var b = dictionary[(offset + i) & 0xFFF];
                    output.Add(b);
                    dictionary[write] = b;
                    write = (write + 1) & 0xFFF;
                }
            }
        }
        return [.. output];
    }

    /// <summary>The spec's dictionary prefix is 207 octets; a typo in it would corrupt every body.</summary>
    internal static int PrefixLength => Prefix.Length;
}
