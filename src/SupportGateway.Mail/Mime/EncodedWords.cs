using System.Text;

namespace SupportGateway.Mail.Mime;

/// <summary>
/// RFC 2047 encoded-words in header text. Adjacent words in the same charset are joined as bytes
/// before decoding, because mailers split multi-byte characters across words (RFC 2047 §5 forbids
/// it; Outlook and Mail.ru do it anyway).
/// </summary>
public static class EncodedWords
{
    /// <summary>Decodes an unfolded header value given as bytes; raw 8-bit text is decoded with charset detection.</summary>
    public static string DecodeText(ReadOnlySpan<byte> value)
    {
        var output = new StringBuilder(value.Length);
        var pending = new List<byte>();
        string? pendingCharset = null;
        var literalStart = 0;
        var i = 0;
        while (i < value.Length)
        {
            if (value[i] == '=' && i + 1 < value.Length && value[i + 1] == '?' && TryReadWord(value, i, out var end, out var charset, out var bytes))
            {
                var between = value[literalStart..i];
                // Whitespace between two encoded-words is not part of the text (RFC 2047 §6.2).
                if (!(pendingCharset is not null && IsWhitespace(between)))
                {
                    Flush(output, pending, ref pendingCharset);
                    output.Append(Charsets.DecodeUnlabelled(between));
                }
                if (pendingCharset is not null && !pendingCharset.Equals(charset, StringComparison.OrdinalIgnoreCase))
                    Flush(output, pending, ref pendingCharset);
                pendingCharset = charset;
                pending.AddRange(bytes);
                i = literalStart = end;
                continue;
            }
            i++;
        }
        var rest = value[literalStart..];
        if (!(pendingCharset is not null && rest.IsEmpty))
        {
            Flush(output, pending, ref pendingCharset);
            output.Append(Charsets.DecodeUnlabelled(rest));
        }
        Flush(output, pending, ref pendingCharset);
        return output.ToString();
    }

    private static void Flush(StringBuilder output, List<byte> pending, ref string? charset)
    {
        if (charset is null)
            return;
        output.Append(Charsets.Decode(pending.ToArray(), charset));
        pending.Clear();
        charset = null;
    }

    private static bool IsWhitespace(ReadOnlySpan<byte> span)
    {
        foreach (var b in span)
        {
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
                return false;
        }
        return true;
    }

    /// <summary>=?charset[*lang]?B|Q?text?= starting at <paramref name="start"/>.</summary>
    private static bool TryReadWord(ReadOnlySpan<byte> value, int start, out int end, out string charset, out byte[] bytes)
    {
        end = 0;
        charset = "";
        bytes = [];
        var p = start + 2;
        var q1 = value[p..].IndexOf((byte)'?');
        if (q1 <= 0 || p + q1 + 3 > value.Length || value[p + q1 + 2] != '?')
            return false;
        var encoding = (char)(value[p + q1 + 1] | 0x20);
        if (encoding is not ('b' or 'q'))
            return false;
        var textStart = p + q1 + 3;
        var close = value[textStart..].IndexOf("?="u8);
        if (close < 0)
            return false;
        charset = Encoding.ASCII.GetString(value.Slice(p, q1));
        var star = charset.IndexOf('*');
        if (star >= 0)
            charset = charset[..star]; // RFC 2231 §5 language suffix
        var text = value.Slice(textStart, close);
        bytes = encoding == 'b' ? TransferEncodings.DecodeBase64(text) : DecodeQ(text);
        end = textStart + close + 2;
        return true;
    }

    /// <summary>The "Q" encoding: quoted-printable where '_' is a space (RFC 2047 §4.2).</summary>
    private static byte[] DecodeQ(ReadOnlySpan<byte> text)
    {
        var result = new byte[text.Length];
        var length = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var b = text[i];
            if (b == '_')
                result[length++] = (byte)' ';
            else if (b == '=' && i + 2 < text.Length && TransferEncodings.TryHex(text[i + 1], text[i + 2], out var decoded))
            {
                result[length++] = decoded;
                i += 2;
            }
            else
                result[length++] = b;
        }
        return result[..length];
    }
}
